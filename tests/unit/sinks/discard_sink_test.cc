// The null sink: counts what it discards, gives batches back to the pool,
// drains on stop, and counts what a passed deadline leaves behind.

#include "sinks/discard/discard_sink.h"

#include <gtest/gtest.h>
#include <prometheus/registry.h>

#include <chrono>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "tests/support/metrics_reader.h"

namespace kinship::sinks {
namespace {

using testing::metricValue;

// Remembers each acknowledged (source, end offset), in order.
class RecordingAckReceiver final : public pipeline::AckReceiver {
 public:
  void acknowledged(uint64_t sourceId, uint64_t endOffset) override {
    std::lock_guard lock(mutex_);
    acks_.emplace_back(sourceId, endOffset);
  }
  std::vector<std::pair<uint64_t, uint64_t>> acks() const {
    std::lock_guard lock(mutex_);
    return acks_;
  }

 private:
  mutable std::mutex mutex_;
  std::vector<std::pair<uint64_t, uint64_t>> acks_;
};

class DiscardSinkTest : public ::testing::Test {
 protected:
  // Queues a batch of `records` records of 9 bytes of data and a 3-byte key;
  // returns the batch's address, to recognise it when the pool hands it out.
  const pipeline::RecordBatch* push(size_t records) {
    auto batch = queue_.acquire();
    for (size_t i = 0; i < records; ++i) batch->append("data-" + std::to_string(1000 + i), "key");
    const pipeline::RecordBatch* address = batch.get();
    queue_.push(std::move(batch));
    return address;
  }
  SinkContext context() { return SinkContext{queue_, registry_, "p", SystemClock::instance()}; }
  double metric(const std::string& name, std::map<std::string, std::string> labels = {}) {
    labels["pipeline"] = "p";
    return metricValue(registry_, name, labels);
  }

  pipeline::BatchQueue queue_{1024 * 1024};
  prometheus::Registry registry_;
};

TEST_F(DiscardSinkTest, CountsRecordsAndBytesAndRecyclesBatches) {
  DiscardSink sink(context(), DiscardSinkConfig{});
  EXPECT_EQ(sink.notReadyReason(), "");
  EXPECT_EQ(metric("kinship_sink_records_sent_total"), 0);
  ASSERT_TRUE(sink.start());
  // Two distinct batches, both taken from the pool before either is queued.
  auto a = queue_.acquire();
  auto b = queue_.acquire();
  const std::set<const pipeline::RecordBatch*> pushed{a.get(), b.get()};
  for (int i = 0; i < 3; ++i) a->append("data-" + std::to_string(1000 + i), "key");
  for (int i = 0; i < 500; ++i) b->append("data-" + std::to_string(1000 + i), "key");
  queue_.push(std::move(a));
  queue_.push(std::move(b));
  // The sink runs on its own thread: wait (bounded) until it took both.
  const auto giveUp = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (metric("kinship_sink_records_sent_total") < 503 && std::chrono::steady_clock::now() < giveUp) {
    std::this_thread::yield();
  }
  EXPECT_EQ(metric("kinship_sink_records_sent_total"), 503);
  EXPECT_EQ(metric("kinship_sink_bytes_sent_total"), 503 * (9 + 3));
  EXPECT_EQ(queue_.queuedBatches(), 0u);
  sink.stop(std::chrono::steady_clock::now() + std::chrono::seconds(5));
  EXPECT_EQ(metric("kinship_sink_records_dropped_total", {{"reason", "shutdown"}}), 0);

  // Both batches went back to the pool, cleared.
  auto c = queue_.acquire();
  auto d = queue_.acquire();
  EXPECT_EQ((std::set<const pipeline::RecordBatch*>{c.get(), d.get()}), pushed);
  EXPECT_TRUE(c->empty());
  EXPECT_TRUE(d->empty());
}

TEST_F(DiscardSinkTest, StopDrainsWhatIsQueued) {
  DiscardSink sink(context(), DiscardSinkConfig{});
  for (int i = 0; i < 20; ++i) push(100);
  ASSERT_TRUE(sink.start());
  sink.stop(std::chrono::steady_clock::now() + std::chrono::seconds(30));
  EXPECT_EQ(metric("kinship_sink_records_sent_total"), 2000);
  EXPECT_EQ(queue_.queuedBatches(), 0u);
  EXPECT_TRUE(queue_.closed());
  EXPECT_EQ(metric("kinship_sink_records_dropped_total", {{"reason", "shutdown"}}), 0);
}

TEST_F(DiscardSinkTest, AcknowledgesEachDiscardedBatchToItsSource) {
  auto receiver = std::make_shared<RecordingAckReceiver>();
  for (uint64_t i = 1; i <= 3; ++i) {
    auto batch = queue_.acquire();
    batch->append("line", "key");
    batch->setSource(receiver, 7, i * 100);
    queue_.push(std::move(batch));
  }
  push(1);  // a batch without a source: nothing to tell
  DiscardSink sink(context(), DiscardSinkConfig{});
  ASSERT_TRUE(sink.start());
  sink.stop(std::chrono::steady_clock::now() + std::chrono::seconds(30));
  EXPECT_EQ(receiver->acks(), (std::vector<std::pair<uint64_t, uint64_t>>{{7, 100}, {7, 200}, {7, 300}}));
  EXPECT_EQ(metric("kinship_sink_records_sent_total"), 4);
}

TEST_F(DiscardSinkTest, StopBeforeStartIsHarmless) {
  DiscardSink sink(context(), DiscardSinkConfig{});
  sink.stop(std::chrono::steady_clock::now());
  EXPECT_EQ(metric("kinship_sink_records_sent_total"), 0);
}

TEST_F(DiscardSinkTest, DeadlineCutsADelayShortAndCountsWhatIsLeft) {
  // A delay far longer than the test: stop() must not wait for it.
  DiscardSink sink(context(), DiscardSinkConfig{.delay = std::chrono::minutes(1)});
  for (int i = 0; i < 3; ++i) push(10);
  ASSERT_TRUE(sink.start());
  auto before = std::chrono::steady_clock::now();
  sink.stop(before);
  EXPECT_LT(std::chrono::steady_clock::now() - before, std::chrono::seconds(10));
  EXPECT_EQ(metric("kinship_sink_records_sent_total"), 0);
  EXPECT_EQ(metric("kinship_sink_records_dropped_total", {{"reason", "shutdown"}}), 30);
  EXPECT_EQ(queue_.queuedBatches(), 0u);
}

TEST_F(DiscardSinkTest, MetricsShareTheKinesisSinksFamilies) {
  // A second sink (another pipeline) in the same registry adds its series
  // to the same families rather than failing.
  pipeline::BatchQueue other(64 * 1024);
  DiscardSink a(context(), DiscardSinkConfig{});
  DiscardSink b(SinkContext{other, registry_, "q", SystemClock::instance()}, DiscardSinkConfig{});
  EXPECT_EQ(metricValue(registry_, "kinship_sink_records_sent_total", {{"pipeline", "q"}}), 0);
  EXPECT_EQ(metric("kinship_sink_records_sent_total"), 0);
}

}  // namespace
}  // namespace kinship::sinks
