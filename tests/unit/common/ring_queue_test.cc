#include "common/ring_queue.h"

#include <gtest/gtest.h>

#include <deque>
#include <random>

namespace kinship {
namespace {

std::deque<int> contents(const RingQueue<int>& q) {
  std::deque<int> out;
  q.forEach([&](int v) { out.push_back(v); });
  return out;
}

TEST(RingQueueTest, KeepsOrderAcrossWrapAndGrowth) {
  RingQueue<int> q;
  EXPECT_TRUE(q.empty());
  for (int i = 0; i < 10; ++i) q.push_back(i);
  for (int i = 0; i < 8; ++i) q.pop_front();  // head now mid-ring
  for (int i = 10; i < 40; ++i) q.push_back(i);  // wraps, then grows
  ASSERT_EQ(q.size(), 32u);
  for (size_t i = 0; i < q.size(); ++i) EXPECT_EQ(q[i], static_cast<int>(i) + 8);
  EXPECT_EQ(q.front(), 8);
}

TEST(RingQueueTest, ReusesItsCapacityOnceGrown) {
  RingQueue<int> q;
  for (int round = 0; round < 1000; ++round) {
    for (int i = 0; i < 20; ++i) q.push_back(i);
    for (int i = 0; i < 20; ++i) q.pop_front();
  }
  EXPECT_EQ(q.capacity(), 32u);
  EXPECT_TRUE(q.empty());
}

TEST(RingQueueTest, EraseKeepsTheOthersInOrder) {
  // Against std::deque, with the head at every position of the ring.
  std::mt19937 random(7);
  for (int start = 0; start < 16; ++start) {
    RingQueue<int> q;
    std::deque<int> model;
    for (int i = 0; i < start; ++i) q.push_back(-1);
    for (int i = 0; i < start; ++i) q.pop_front();
    for (int i = 0; i < 13; ++i) {
      q.push_back(i);
      model.push_back(i);
    }
    while (!model.empty()) {
      size_t at = random() % model.size();
      q.erase(at);
      model.erase(model.begin() + static_cast<std::ptrdiff_t>(at));
      ASSERT_EQ(contents(q), model) << "start " << start << ", erased at " << at;
    }
    EXPECT_TRUE(q.empty());
  }
}

TEST(RingQueueTest, ClearEmptiesAndKeepsWorking) {
  RingQueue<int> q;
  for (int i = 0; i < 5; ++i) q.push_back(i);
  q.clear();
  EXPECT_TRUE(q.empty());
  q.push_back(42);
  EXPECT_EQ(q.front(), 42);
  EXPECT_EQ(q.size(), 1u);
}

}  // namespace
}  // namespace kinship
