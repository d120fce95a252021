#pragma once
// PipelineRuntime: the running parts of one configured pipeline — inputs →
// pipeline → spool (disk mode) → sink — built, started and stopped as a
// unit, so that the daemon can start them all at launch, and replace, add
// or remove one at a time on reload while the others run on.
//
// Life: construct (no I/O; throws ConfigError) → start() → stopInputs() →
// the drain phases (finishWriting, finishReading, stopSink, closeSpool; see
// drainPipelines) → flushCheckpoints() → destroy.
//
// Threading: construction, start(), stopInputs(), flushCheckpoints() and
// destruction run on the I/O thread (or while the I/O loop is not running);
// the drain phases may run on any one thread; notReadyReason(),
// heartbeats() and the counters are safe from any thread.

#include <asio.hpp>

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "common/heartbeat.h"
#include "common/status.h"
#include "config/config.h"
#include "daemon/liveness.h"
#include "daemon/plugin_registry.h"
#include "pipeline/pipeline.h"
#include "spool/spool_stage.h"

namespace prometheus {
class Registry;
}

namespace kinship::daemon {

struct RuntimeContext {
  asio::io_context& io;
  prometheus::Registry& metrics;
  const PluginRegistry& plugins;
  const config::EnvLookup& env;
  std::string dataDir;
};

class PipelineRuntime {
 public:
  // Throws config::ConfigError for options only the components can judge
  // (a bad partition_key template...).
  PipelineRuntime(const config::PipelineConfig& config, const RuntimeContext& context);
  ~PipelineRuntime();
  PipelineRuntime(const PipelineRuntime&) = delete;
  PipelineRuntime& operator=(const PipelineRuntime&) = delete;

  const std::string& name() const { return name_; }
  // What decides whether a reload must replace the pipeline: its YAML block
  // and the data_dir its state lives in.
  const std::string& fingerprint() const { return fingerprint_; }
  // "app: 1 input -> kinesis"
  std::string summary() const;
  // The canonical spool directory; empty in memory mode.
  const std::string& spoolDir() const { return spoolDir_; }

  // Starts the sink, then the spool (recovering it), then the inputs. On an
  // error, what did start is stopped again (inputs; the rest stops in the
  // drain) and the error names the part.
  Status start();

  // Stops reading: no batch is submitted after it returns.
  void stopInputs();

  // The drain phases, in this order, after stopInputs(); see SpoolStage and
  // Sink::stop for what each keeps for the next start.
  void finishWriting(std::chrono::steady_clock::time_point deadline);
  void finishReading(std::chrono::steady_clock::time_point deadline);
  void stopSink(std::chrono::steady_clock::time_point deadline);
  void closeSpool();

  // After the drain: the inputs persist their final read positions.
  void flushCheckpoints();

  // Empty when ready; otherwise why not (for /readyz).
  std::string notReadyReason() const;
  // The pipeline's own threads (sink; spool writer and reader).
  std::vector<WatchedThread> watchedThreads() const;
  uint64_t recordsQueued() const { return pipeline_->recordsQueued(); }
  // Bytes waiting in the disk spool (0 in memory mode).
  uint64_t spoolBytes() const;

 private:
  std::string name_;
  std::string fingerprint_;
  std::string spoolDir_;
  std::string sinkType_;
  std::unique_ptr<pipeline::Pipeline> pipeline_;
  // Between the pipeline's queue and the sink in spool.mode disk; null in
  // memory mode (the sink reads the pipeline's queue). Declared before the
  // sink, which reads its queue, so that it is destroyed after it.
  std::unique_ptr<spool::SpoolStage> spool_;
  std::unique_ptr<sinks::Sink> sink_;
  std::vector<std::unique_ptr<inputs::Input>> inputs_;
  bool sinkStarted_ = false;
  bool spoolStarted_ = false;
  size_t inputsStarted_ = 0;
};

// Drains `pipelines` (their inputs stopped) phase by phase, each phase for
// every pipeline before the next, so one slow sink cannot eat the others'
// share of the deadline for spooling what their inputs read.
void drainPipelines(const std::vector<PipelineRuntime*>& pipelines, std::chrono::steady_clock::time_point deadline);

}  // namespace kinship::daemon
