#pragma once
// Sink: consumes a pipeline's batches and delivers their records. The
// Kinesis sink is one implementation; a test sink or a future sink fits the
// same slot.
//
// Threading: a sink runs its own thread(s) between start() and stop(), and
// takes batches from the pipeline's BatchQueue. start(), stop() and
// notReadyReason() are called from the daemon's main thread;
// notReadyReason() must be safe to call concurrently with the sink's work.

#include <chrono>
#include <string>

#include "common/clock.h"
#include "common/heartbeat.h"
#include "common/status.h"

namespace prometheus {
class Registry;
}
namespace kinship::pipeline {
class BatchQueue;
}

namespace kinship::sinks {

struct SinkContext {
  pipeline::BatchQueue& queue;
  prometheus::Registry& metrics;
  std::string pipelineName;
  const Clock& clock;
  // True when the queue is fed from the disk spool: records the sink has not
  // delivered by shutdown stay there for the next start, so they are not lost.
  bool spooled = false;
};

class Sink {
 public:
  virtual ~Sink() = default;
  virtual Status start() = 0;
  // Delivers what is queued until the queue is drained and closed, or the
  // deadline passes; then stops. Records still undelivered are counted and
  // logged as lost. Call after the inputs have stopped and the queue is closed.
  virtual void stop(std::chrono::steady_clock::time_point deadline) = 0;
  // Empty when ready; otherwise why not (for /readyz).
  virtual std::string notReadyReason() const = 0;
  // The heartbeat of the sink's own thread, beaten on every turn of its
  // loop, for the watchdog and /healthz; nullptr for a sink without one.
  virtual const Heartbeat* heartbeat() const { return nullptr; }
};

}  // namespace kinship::sinks
