#pragma once
// DiscardSink (`type: discard`): takes the pipeline's batches and discards their
// records, counting them as sent, so benchmarks and tests can measure the
// inputs and the pipeline without a destination. Batches go back to the
// pool as soon as they are counted (after `delay`, when set).
//
// Threading: one consumer thread between start() and stop();
// notReadyReason() may be called from any thread (it is always ready).

#include <condition_variable>
#include <mutex>
#include <thread>

#include "pipeline/batch_queue.h"
#include "sinks/discard/discard_sink_config.h"
#include "sinks/sink.h"

namespace prometheus {
class Counter;
}  // namespace prometheus

namespace kinship::sinks {

class DiscardSink final : public Sink {
 public:
  DiscardSink(const SinkContext& context, DiscardSinkConfig config);
  ~DiscardSink() override;
  DiscardSink(const DiscardSink&) = delete;
  DiscardSink& operator=(const DiscardSink&) = delete;

  Status start() override;
  // Discards what is queued until the queue is closed and empty, or the
  // deadline passes (only possible with a `delay`); what is left then is
  // counted in kinship_sink_records_dropped_total{reason="shutdown"}.
  void stop(std::chrono::steady_clock::time_point deadline) override;
  const Heartbeat* heartbeat() const override { return &heartbeat_; }
  std::string notReadyReason() const override { return {}; }

 private:
  void run();
  void discard(pipeline::BatchPtr batch);
  // Waits `delay_`; returns false when the stop deadline came first.
  bool waitDelay();

  SinkContext context_;
  DiscardSinkConfig config_;

  Heartbeat heartbeat_;
  std::thread thread_;
  std::mutex stopMutex_;
  std::condition_variable stopSignal_;
  bool stopping_ = false;
  std::chrono::steady_clock::time_point stopDeadline_{};

  prometheus::Counter* recordsSent_;
  prometheus::Counter* bytesSent_;
  prometheus::Counter* droppedShutdown_;
};

}  // namespace kinship::sinks
