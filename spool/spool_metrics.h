#pragma once
// The kinship_spool_* series of one pipeline. The spool keeps plain numbers
// (SpoolStats); publish() turns a snapshot of them into gauges and counter
// increments, so the spool's own paths never touch the registry.
// Thread-safe: publish(), the drop counters and observeFsync() may be called
// from the spool stage's writer and reader threads.

#include <chrono>
#include <cstdint>
#include <mutex>
#include <string>

#include "spool/spool.h"
#include "spool/spool_config.h"

namespace prometheus {
class Registry;
class Counter;
class Gauge;
class Histogram;
}  // namespace prometheus

namespace kinship::spool {

class SpoolMetrics {
 public:
  SpoolMetrics(prometheus::Registry& registry, const std::string& pipeline);

  void publish(const SpoolStats& stats, std::chrono::system_clock::time_point now);
  // Records the spool gave up on because it was full (by policy) or because
  // a batch could never fit.
  void dropped(WhenFull policy, uint64_t records);
  void droppedTooLarge(uint64_t records);
  void setFull(bool full);
  void setWriteFailing(bool failing);
  void observeFsync(std::chrono::nanoseconds took);

 private:
  std::mutex mu_;
  SpoolStats last_;
  prometheus::Gauge* bytes_;
  prometheus::Gauge* records_;
  prometheus::Gauge* segments_;
  prometheus::Gauge* oldestAge_;
  prometheus::Gauge* full_;
  prometheus::Gauge* writeFailing_;
  prometheus::Counter* appendedRecords_;
  prometheus::Counter* appendedBytes_;
  prometheus::Counter* deliveredFrames_;
  prometheus::Counter* ackedFrames_;
  prometheus::Counter* corruptFrames_;
  prometheus::Counter* corruptBytes_;
  prometheus::Counter* positionsErrors_ = nullptr;
  prometheus::Counter* tornTails_;
  prometheus::Counter* badSegments_;
  prometheus::Counter* writeErrors_;
  prometheus::Counter* readErrors_;
  prometheus::Counter* droppedNewest_;
  prometheus::Counter* droppedOldest_;
  prometheus::Counter* droppedTooLarge_;
  prometheus::Histogram* fsyncSeconds_;
};

}  // namespace kinship::spool
