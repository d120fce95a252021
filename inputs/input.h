#pragma once
// Input: a source of lines (files, sockets) feeding one pipeline.
//
// Threading: every method is called on the daemon's I/O thread (the
// io_context in InputContext), and an input does all its work there
// (flushCheckpoints() runs on the same thread after the loop has stopped). It
// hands batches to its pipeline with Pipeline::submit(), and pauses itself
// while the pipeline's queue is full (sources that cannot pause count drops).

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "common/clock.h"
#include "common/env.h"
#include "common/status.h"
#include "pipeline/source_file.h"

namespace asio {
class io_context;
}
namespace prometheus {
class Registry;
}
namespace kinship::pipeline {
class Pipeline;
}

namespace kinship::inputs {

struct InputContext {
  asio::io_context& io;
  pipeline::Pipeline& pipeline;
  prometheus::Registry& metrics;
  std::string id;       // unique within the pipeline, used as the `input` metric label ("file_0")
  std::string dataDir;  // where the input may keep state
  // The file positions the pipeline's disk spool holds (empty without one),
  // read at start(): a file input resumes after what the spool already has
  // even when its own checkpoint is older (saved on a timer, a crash can
  // leave it behind).
  std::function<std::vector<pipeline::SourcePosition>()> spooledPositions = {};
  // The seams (never null; tests put a ManualClock or a FaultEnv here):
  // the time that timeouts and rate-limited warnings are measured in, and
  // the file system that tailed files and checkpoints are read and written
  // through. Both must outlive the input.
  const Clock* clock = &SystemClock::instance();
  Env* env = &posixEnv();
};

class Input {
 public:
  virtual ~Input() = default;
  // Starts reading. An error here is fatal at startup.
  virtual Status start() = 0;
  // Stops reading and pushes what it has already read; no batch is
  // submitted after it returns.
  virtual void stop() = 0;
  // Called once after the sinks have drained (so every acknowledgement is
  // in) and the I/O loop has stopped: persist the final read positions.
  // Inputs without checkpoints keep the empty default.
  virtual void flushCheckpoints() {}
};

}  // namespace kinship::inputs
