#include "pipeline/batch_queue.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <fstream>
#include <future>
#include <set>
#include <string>
#include <thread>

using namespace kinship::pipeline;
using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

namespace {

// A batch from `q` holding one record of `bytes` bytes in total (data + key).
BatchPtr batchOf(BatchQueue& q, size_t bytes, char fill = 'x') {
  BatchPtr b = q.acquire();
  b->append(std::string(bytes - 1, fill), "k");
  EXPECT_EQ(b->bytes(), bytes);
  return b;
}

// Waits until thread `tid` sleeps in the kernel (state S in /proc). Called
// once the thread has said it is about to call popUntil(): from there the
// only place it can sleep is the queue's wait. Spins with yield, never
// sleeps; `guard` only keeps a broken run from hanging.
bool waitUntilAsleep(pid_t tid, std::chrono::seconds guard = 30s) {
  const std::string path = "/proc/self/task/" + std::to_string(tid) + "/stat";
  const auto giveUpAt = Clock::now() + guard;
  while (Clock::now() < giveUpAt) {
    std::ifstream stat(path);
    std::string line;
    std::getline(stat, line);
    const auto close = line.rfind(')');
    if (close != std::string::npos && close + 2 < line.size() && line[close + 2] == 'S') return true;
    std::this_thread::yield();
  }
  return false;
}

}  // namespace

TEST(RecordBatch, AppendAndRead) {
  RecordBatch b;
  EXPECT_TRUE(b.empty());
  b.append("data-1", "key-1");
  b.append("", "k2");
  b.append("third", "");
  ASSERT_EQ(b.size(), 3u);
  EXPECT_EQ(b.bytes(), 6u + 5u + 0u + 2u + 5u + 0u);
  EXPECT_EQ(b.limitBytes(), b.bytes());
  EXPECT_EQ(b.explicitHashKey(0), "");
  EXPECT_EQ(b.data(0), "data-1");
  EXPECT_EQ(b.key(0), "key-1");
  EXPECT_EQ(b.data(1), "");
  EXPECT_EQ(b.key(1), "k2");
  EXPECT_EQ(b.data(2), "third");
  EXPECT_EQ(b.key(2), "");
  b.setUnacknowledged(2);
  EXPECT_FALSE(b.acknowledgeOne());
  EXPECT_TRUE(b.acknowledgeOne());
  b.clear();
  EXPECT_TRUE(b.empty());
  EXPECT_EQ(b.bytes(), 0u);
}

TEST(RecordBatch, ExplicitHashKeys) {
  RecordBatch b;
  b.append("data-1", "key-1", "12345");
  b.append("data-2", "key-2");      // the two-argument form: none
  b.append("data-3", "key-3", "");  // empty: none
  b.append("", "k", "340282366920938463463374607431768211455");
  ASSERT_EQ(b.size(), 4u);
  EXPECT_EQ(b.data(0), "data-1");
  EXPECT_EQ(b.key(0), "key-1");
  EXPECT_EQ(b.explicitHashKey(0), "12345");
  EXPECT_EQ(b.data(1), "data-2");
  EXPECT_EQ(b.key(1), "key-2");
  EXPECT_EQ(b.explicitHashKey(1), "");
  EXPECT_EQ(b.key(2), "key-3");
  EXPECT_EQ(b.explicitHashKey(2), "");
  EXPECT_EQ(b.data(3), "");
  EXPECT_EQ(b.key(3), "k");
  EXPECT_EQ(b.explicitHashKey(3), "340282366920938463463374607431768211455");
  // bytes() is everything held; limitBytes() leaves the hash keys out, as
  // Kinesis's size limits do.
  const size_t dataAndKeys = 6 + 5 + 6 + 5 + 6 + 5 + 0 + 1;
  EXPECT_EQ(b.limitBytes(), dataAndKeys);
  EXPECT_EQ(b.bytes(), dataAndKeys + 5 + 39);
  b.clear();
  EXPECT_EQ(b.bytes(), 0u);
  EXPECT_EQ(b.limitBytes(), 0u);
  // Reused after clear(): the accounting starts again.
  b.append("x", "y");
  EXPECT_EQ(b.explicitHashKey(0), "");
  EXPECT_EQ(b.bytes(), 2u);
  EXPECT_EQ(b.limitBytes(), 2u);
}

TEST(BatchQueue, CountsBytesAndTurnsFullAtCapacity) {
  BatchQueue q(100);
  EXPECT_FALSE(q.full());
  EXPECT_EQ(q.queuedBytes(), 0u);
  q.push(batchOf(q, 60));
  EXPECT_FALSE(q.full());
  EXPECT_EQ(q.queuedBytes(), 60u);
  EXPECT_EQ(q.queuedBatches(), 1u);
  q.push(batchOf(q, 39));
  EXPECT_FALSE(q.full());  // 99 < 100
  q.push(batchOf(q, 1));
  EXPECT_TRUE(q.full());  // exactly the capacity
  EXPECT_EQ(q.queuedBytes(), 100u);
  q.push(batchOf(q, 50));  // a push is never refused
  EXPECT_TRUE(q.full());
  EXPECT_EQ(q.queuedBytes(), 150u);
  EXPECT_EQ(q.queuedBatches(), 4u);

  BatchPtr first = q.tryPop();
  ASSERT_NE(first, nullptr);
  EXPECT_EQ(first->bytes(), 60u);
  EXPECT_EQ(q.queuedBytes(), 90u);
  EXPECT_FALSE(q.full());
  EXPECT_EQ(q.queuedBatches(), 3u);
}

TEST(BatchQueue, PopsInOrder) {
  BatchQueue q(1000);
  for (char c : {'a', 'b', 'c'}) q.push(batchOf(q, 5, c));
  for (char c : {'a', 'b', 'c'}) {
    BatchPtr b = q.tryPop();
    ASSERT_NE(b, nullptr);
    EXPECT_EQ(b->data(0), std::string(4, c));
  }
  EXPECT_EQ(q.tryPop(), nullptr);
  EXPECT_EQ(q.queuedBytes(), 0u);
}

TEST(BatchQueue, PopUntilTimesOutWithNullptr) {
  BatchQueue q(100);
  auto start = Clock::now();
  BatchPtr b = q.popUntil(start + 20ms);
  auto waited = Clock::now() - start;
  EXPECT_EQ(b, nullptr);
  EXPECT_GE(waited, 20ms);
  EXPECT_LT(waited, 5s);
}

TEST(BatchQueue, TryPopOnEmptyReturnsImmediately) {
  BatchQueue q(100);
  auto start = Clock::now();
  EXPECT_EQ(q.tryPop(), nullptr);
  EXPECT_LT(Clock::now() - start, 1s);
}

TEST(BatchQueue, PastDeadlineStillReturnsAQueuedBatch) {
  BatchQueue q(100);
  q.push(batchOf(q, 10));
  EXPECT_NE(q.popUntil(Clock::now() - 1s), nullptr);
}

TEST(BatchQueue, PushWakesAWaitingConsumer) {
  BatchQueue q(100);
  std::promise<pid_t> waiting;
  std::string got;
  std::thread consumer([&] {
    waiting.set_value(::gettid());
    BatchPtr b = q.popUntil(Clock::now() + 30s);
    if (b) got = std::string(b->data(0));
  });
  EXPECT_TRUE(waitUntilAsleep(waiting.get_future().get()));  // blocked in popUntil
  auto start = Clock::now();
  q.push(batchOf(q, 4, 'p'));
  consumer.join();
  EXPECT_EQ(got, "ppp");
  EXPECT_LT(Clock::now() - start, 10s);
}

TEST(BatchQueue, CloseWakesAWaitingConsumer) {
  BatchQueue q(100);
  std::promise<pid_t> waiting;
  std::atomic<bool> returnedNull{false};
  std::thread consumer([&] {
    waiting.set_value(::gettid());
    BatchPtr b = q.popUntil(Clock::now() + 30s);
    returnedNull = (b == nullptr);
  });
  EXPECT_TRUE(waitUntilAsleep(waiting.get_future().get()));  // blocked in popUntil
  auto start = Clock::now();
  EXPECT_FALSE(q.closed());
  q.close();
  consumer.join();
  EXPECT_TRUE(returnedNull);
  EXPECT_TRUE(q.closed());
  EXPECT_LT(Clock::now() - start, 10s);  // not the 30 s deadline
}

TEST(BatchQueue, ClosedQueueStillDrains) {
  BatchQueue q(100);
  q.push(batchOf(q, 10, 'a'));
  q.push(batchOf(q, 10, 'b'));
  q.close();
  auto start = Clock::now();
  BatchPtr a = q.popUntil(Clock::now() + 30s);
  BatchPtr b = q.popUntil(Clock::now() + 30s);
  BatchPtr none = q.popUntil(Clock::now() + 30s);
  EXPECT_LT(Clock::now() - start, 10s);
  ASSERT_NE(a, nullptr);
  ASSERT_NE(b, nullptr);
  EXPECT_EQ(a->data(0), std::string(9, 'a'));
  EXPECT_EQ(b->data(0), std::string(9, 'b'));
  EXPECT_EQ(none, nullptr);
}

TEST(BatchQueue, SpaceCallbackFiresOnceBelowHalfAfterFull) {
  BatchQueue q(100);
  int calls = 0;
  std::thread::id callbackThread;
  q.addSpaceCallback([&] {
    ++calls;
    callbackThread = std::this_thread::get_id();
  });
  for (int i = 0; i < 4; ++i) q.push(batchOf(q, 30));  // 120: full
  ASSERT_TRUE(q.full());
  ASSERT_NE(q.tryPop(), nullptr);  // 90
  EXPECT_EQ(calls, 0);
  ASSERT_NE(q.tryPop(), nullptr);  // 60
  EXPECT_EQ(calls, 0);
  ASSERT_NE(q.tryPop(), nullptr);  // 30 < 50
  EXPECT_EQ(calls, 1);
  EXPECT_EQ(callbackThread, std::this_thread::get_id());
  ASSERT_NE(q.tryPop(), nullptr);  // 0
  EXPECT_EQ(calls, 1);

  // Never full again: no callback.
  q.push(batchOf(q, 90));
  ASSERT_NE(q.tryPop(), nullptr);
  EXPECT_EQ(calls, 1);

  // Full again: one more.
  q.push(batchOf(q, 100));
  q.push(batchOf(q, 10));
  ASSERT_NE(q.tryPop(), nullptr);  // 10 < 50
  EXPECT_EQ(calls, 2);
  ASSERT_NE(q.tryPop(), nullptr);
  EXPECT_EQ(calls, 2);
}

TEST(BatchQueue, SpaceCallbackNotAtExactlyHalf) {
  BatchQueue q(100);
  int calls = 0;
  q.addSpaceCallback([&] { ++calls; });
  q.push(batchOf(q, 50));
  q.push(batchOf(q, 50));
  q.push(batchOf(q, 50));  // 150
  ASSERT_NE(q.tryPop(), nullptr);  // 100
  ASSERT_NE(q.tryPop(), nullptr);  // 50: not below half
  EXPECT_EQ(calls, 0);
  ASSERT_NE(q.tryPop(), nullptr);  // 0
  EXPECT_EQ(calls, 1);
}

TEST(BatchQueue, EverySpaceCallbackFires) {
  // A file input and a unix stream input feeding one pipeline both pause.
  BatchQueue q(100);
  int first = 0;
  int second = 0;
  q.addSpaceCallback([&] { ++first; });
  q.addSpaceCallback([&] { ++second; });
  q.push(batchOf(q, 120));
  ASSERT_NE(q.tryPop(), nullptr);
  EXPECT_EQ(first, 1);
  EXPECT_EQ(second, 1);
}

TEST(BatchQueue, AcquireReusesReleasedBatch) {
  BatchQueue q(100);
  BatchPtr b = q.acquire();
  RecordBatch* raw = b.get();
  b->append("some data", "key");
  b.reset();  // back to the pool, cleared
  BatchPtr again = q.acquire();
  EXPECT_EQ(again.get(), raw);
  EXPECT_TRUE(again->empty());
  EXPECT_EQ(again->bytes(), 0u);
  BatchPtr other = q.acquire();  // pool empty now: a new one
  EXPECT_NE(other.get(), raw);
  EXPECT_NE(other, nullptr);
}

TEST(BatchQueue, PoppedBatchIsRecycledWhenReleased) {
  BatchQueue q(100);
  BatchPtr b = batchOf(q, 20);
  RecordBatch* raw = b.get();
  q.push(std::move(b));
  BatchPtr popped = q.tryPop();
  ASSERT_EQ(popped.get(), raw);
  popped.reset();
  BatchPtr again = q.acquire();
  EXPECT_EQ(again.get(), raw);
  EXPECT_TRUE(again->empty());
}

TEST(BatchQueue, ManyBatchesReleasedAtOnce) {
  // More than the pool keeps: the extra ones are freed (ASan checks leaks).
  BatchQueue q(1 << 20);
  std::vector<BatchPtr> batches;
  std::set<RecordBatch*> seen;
  for (int i = 0; i < 40; ++i) {
    batches.push_back(batchOf(q, 8));
    seen.insert(batches.back().get());
  }
  EXPECT_EQ(seen.size(), 40u);
  batches.clear();
  for (int i = 0; i < 40; ++i) batches.push_back(q.acquire());
  for (const auto& b : batches) EXPECT_TRUE(b->empty());
}

TEST(BatchQueue, DestroyedWithQueuedBatches) {
  auto q = std::make_unique<BatchQueue>(100);
  for (int i = 0; i < 5; ++i) q->push(batchOf(*q, 30));
  BatchPtr spare = q->acquire();
  spare.reset();  // one in the pool too
  EXPECT_EQ(q->queuedBatches(), 5u);
  q.reset();  // ASan: no leak, no use-after-free
  SUCCEED();
}

TEST(BatchQueue, ProducerConsumerThreads) {
  BatchQueue q(64);
  constexpr int kBatches = 500;
  std::thread producer([&] {
    for (int i = 0; i < kBatches; ++i) {
      BatchPtr b = q.acquire();
      b->append(std::to_string(i), "k");
      q.push(std::move(b));
    }
    q.close();
  });
  int expected = 0;
  bool inOrder = true;
  while (true) {
    BatchPtr b = q.popUntil(Clock::now() + 30s);
    if (!b) break;
    inOrder = inOrder && b->data(0) == std::to_string(expected);
    ++expected;
  }
  producer.join();
  EXPECT_TRUE(inOrder);
  EXPECT_EQ(expected, kBatches);
  EXPECT_EQ(q.queuedBytes(), 0u);
}
