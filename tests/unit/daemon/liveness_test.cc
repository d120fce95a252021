#include "daemon/liveness.h"

#include <gtest/gtest.h>

#include <vector>

namespace kinship::daemon {
namespace {

using namespace std::chrono_literals;

// Beats are placed at exact instants (beatAt); the tests age them by
// passing a later `now`.
const Heartbeat::TimePoint kT0 = Heartbeat::TimePoint(std::chrono::hours(1));

TEST(LivenessTest, NothingIsStuckWhileEveryThreadBeatsWithinTheLimit) {
  Heartbeat loop, sink;
  loop.start();
  sink.start();
  std::vector<WatchedThread> threads{{"the event loop", &loop}, {"pipeline app: sink thread", &sink}};
  EXPECT_FALSE(findStall(threads, std::chrono::steady_clock::now() + 20s, 30s));
}

TEST(LivenessTest, OnlyTheThreadSilentOverTheLimitIsNamed) {
  Heartbeat sink, loop;
  sink.start();
  loop.start();
  sink.beatAt(kT0);
  loop.beatAt(kT0 + 20ms);
  std::vector<WatchedThread> threads{{"the event loop", &loop}, {"pipeline app: sink thread", &sink}};
  // The sink has been silent 10 ms over the limit; the loop 10 ms under it.
  auto now = *sink.lastBeat() + 30s + 10ms;
  auto stall = findStall(threads, now, 30s);
  ASSERT_TRUE(stall);
  EXPECT_EQ(stall->name, "pipeline app: sink thread");
  EXPECT_EQ(stall->silentFor, 30010ms);
  EXPECT_EQ(stall->describe(), "pipeline app: sink thread has not turned for 30.0 s");

  sink.beatAt(now);
  EXPECT_FALSE(findStall(threads, now, 30s)) << "a beat clears it";
}

TEST(LivenessTest, TheLongestSilentThreadIsNamedFirst) {
  Heartbeat writer, reader;
  writer.start();
  reader.start();
  writer.beatAt(kT0);
  reader.beatAt(kT0 + 5ms);
  std::vector<WatchedThread> threads{{"pipeline app: spool reader thread", &reader},
                                     {"pipeline app: spool writer thread", &writer}};
  auto stall = findStall(threads, kT0 + 60s, 1s);
  ASSERT_TRUE(stall);
  EXPECT_EQ(stall->name, "pipeline app: spool writer thread");
}

TEST(LivenessTest, ThreadsNotStartedOrRetiredAreNotWatched) {
  Heartbeat neverStarted, retired;
  retired.start();
  retired.retire();
  std::vector<WatchedThread> threads{{"not started", &neverStarted}, {"finished", &retired}};
  EXPECT_FALSE(neverStarted.lastBeat());
  EXPECT_FALSE(findStall(threads, std::chrono::steady_clock::now() + 24h, 1s));
}

}  // namespace
}  // namespace kinship::daemon
