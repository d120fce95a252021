#include "daemon/pipeline_runtime.h"

#include <filesystem>
#include <system_error>

#include "common/log.h"
#include "daemon/pipeline_buffers.h"
#include "daemon/reload_plan.h"
#include "pipeline/pipeline_builder.h"

namespace kinship::daemon {

namespace {

// Two spellings of one directory must compare equal (see Daemon::build).
// Resolving it reads the file system, which can fail (a component that is
// not searchable, a symlink loop, a name too long): that is a configuration
// error naming the path, at start and on reload alike.
std::string canonicalSpoolDir(const std::string& dir, const config::Section& spoolOptions) {
  std::error_code ec;
  std::string canonical = std::filesystem::weakly_canonical(dir, ec).string();
  if (ec) spoolOptions.fail("dir", "cannot resolve the spool directory '" + dir + "': " + ec.message());
  while (canonical.size() > 1 && canonical.back() == '/') canonical.pop_back();
  return canonical;
}

}  // namespace

PipelineRuntime::PipelineRuntime(const config::PipelineConfig& pc, const RuntimeContext& context)
    : name_(pc.name), fingerprint_(pipelineFingerprint(pc, context.dataDir)), sinkType_(pc.sink.type) {
  pipeline::PipelineSettings settings = pipeline::pipelineSettingsFrom(pc.options);
  spool::SpoolConfig spoolConfig = spool::spoolConfigFrom(pc.spool, context.dataDir, pc.name);
  const PipelineBuffers buffers = pipelineBuffersFor(pc.options, spoolConfig.disk);
  pipeline_ = pipeline::buildPipeline(pc.name, std::move(settings), buffers.queueBytes, context.metrics);
  pipeline::BatchQueue* sinkQueue = &pipeline_->queue();
  if (spoolConfig.disk) {
    spoolDir_ = canonicalSpoolDir(spoolConfig.options.dir, pc.spool);
    spool_ = std::make_unique<spool::SpoolStage>(std::move(spoolConfig), pipeline_->queue(), buffers.readAheadBytes,
                                                 context.metrics, pc.name);
    sinkQueue = &spool_->output();
  }
  sink_ = context.plugins.sinkFactory(pc.sink.type)(
      pc.sink.options,
      sinks::SinkContext{*sinkQueue, context.metrics, pc.name, SystemClock::instance(), spool_ != nullptr},
      context.env);
  for (size_t i = 0; i < pc.inputs.size(); ++i) {
    const auto& ic = pc.inputs[i];
    inputs::InputContext inputContext{context.io, *pipeline_, context.metrics, ic.type + "_" + std::to_string(i),
                                      context.dataDir};
    if (spool_) {
      // Inputs start after the spool (start()), which has recovered by then.
      inputContext.spooledPositions = [spool = spool_.get()] { return spool->positions(); };
    }
    inputs_.push_back(context.plugins.inputFactory(ic.type)(ic.options, inputContext));
  }
}

PipelineRuntime::~PipelineRuntime() = default;

std::string PipelineRuntime::summary() const {
  return name_ + ": " + std::to_string(inputs_.size()) + (inputs_.size() == 1 ? " input" : " inputs") + " -> " +
         sinkType_;
}

Status PipelineRuntime::start() {
  if (Status s = sink_->start(); !s) return s.prefixed("cannot start its sink: ");
  sinkStarted_ = true;
  if (spool_) {
    if (Status s = spool_->start(); !s) return s.prefixed("cannot open its spool: ");
    spoolStarted_ = true;
  }
  for (auto& input : inputs_) {
    if (Status s = input->start(); !s) {
      stopInputs();
      return s.prefixed("cannot start an input: ");
    }
    ++inputsStarted_;
  }
  return Status::ok();
}

void PipelineRuntime::stopInputs() {
  for (size_t i = 0; i < inputsStarted_; ++i) inputs_[i]->stop();
  inputsStarted_ = 0;
}

void PipelineRuntime::finishWriting(std::chrono::steady_clock::time_point deadline) {
  if (spoolStarted_) spool_->finishWriting(deadline);
}

void PipelineRuntime::finishReading(std::chrono::steady_clock::time_point deadline) {
  if (spoolStarted_) spool_->finishReading(deadline);
}

void PipelineRuntime::stopSink(std::chrono::steady_clock::time_point deadline) {
  if (sinkStarted_) sink_->stop(deadline);
  sinkStarted_ = false;
}

void PipelineRuntime::closeSpool() {
  if (spoolStarted_) spool_->close();
  spoolStarted_ = false;
}

void PipelineRuntime::flushCheckpoints() {
  for (auto& input : inputs_) input->flushCheckpoints();
}

std::string PipelineRuntime::notReadyReason() const {
  if (spool_) {
    if (auto reason = spool_->notReadyReason(); !reason.empty()) return reason;
  }
  return sink_->notReadyReason();
}

std::vector<WatchedThread> PipelineRuntime::watchedThreads() const {
  std::vector<WatchedThread> threads;
  if (const Heartbeat* beat = sink_->heartbeat()) threads.push_back({"pipeline " + name_ + ": sink thread", beat});
  if (spool_) {
    threads.push_back({"pipeline " + name_ + ": spool writer thread", &spool_->writerHeartbeat()});
    threads.push_back({"pipeline " + name_ + ": spool reader thread", &spool_->readerHeartbeat()});
  }
  return threads;
}

uint64_t PipelineRuntime::spoolBytes() const { return spool_ ? spool_->stats().bytes : 0; }

void drainPipelines(const std::vector<PipelineRuntime*>& pipelines, std::chrono::steady_clock::time_point deadline) {
  // Spool first what the inputs read, then let each sink deliver what it can
  // before the deadline; the rest stays in the spool (disk mode).
  for (PipelineRuntime* p : pipelines) p->finishWriting(deadline);
  for (PipelineRuntime* p : pipelines) p->finishReading(deadline);
  for (PipelineRuntime* p : pipelines) p->stopSink(deadline);
  // Every acknowledgement is in: checkpoints can now cover exactly what was
  // spooled (disk mode) or what the sink delivered (memory mode).
  for (PipelineRuntime* p : pipelines) p->closeSpool();
}

}  // namespace kinship::daemon
