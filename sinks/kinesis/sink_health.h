#pragma once
// SinkHealth: what the Kinesis sink says about itself after each answer:
// the kinship_sink_state gauge, the reason /readyz gives while sending is
// paused on an error only an operator fixes, and one log line per change
// of error (not one per failed request).
// Threading: failed() and succeeded() on the sink's sender thread;
// notReadyReason() from any thread.

#include <cstddef>
#include <mutex>
#include <string>
#include <string_view>

#include "sinks/kinesis/retry_policy.h"

namespace prometheus {
class Gauge;
}

namespace kinship::kinesis {

class SinkHealth {
 public:
  // `state` is kinship_sink_state (KinesisSinkMetrics::state).
  SinkHealth(std::string pipeline, prometheus::Gauge* state) : pipeline_(std::move(pipeline)), state_(state) {}

  // A request failed as a whole; `verdict` is the RetryPolicy's. `url` and
  // `pending` (records kept) are for the log line.
  void failed(const SendVerdict& verdict, const Answer& answer, std::string_view url, size_t pending);
  // A request was answered record by record: ready again.
  void succeeded(std::string_view url);
  // Empty when ready.
  std::string notReadyReason() const;

 private:
  const std::string pipeline_;
  prometheus::Gauge* const state_;
  mutable std::mutex mu_;
  std::string notReadyReason_;
  std::string lastError_;  // the label of the last error logged; empty while healthy
};

}  // namespace kinship::kinesis
