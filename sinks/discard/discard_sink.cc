#include "sinks/discard/discard_sink.h"

#include <prometheus/counter.h>
#include <prometheus/registry.h>

#include "common/log.h"
#include "common/thread_name.h"

namespace kinship::sinks {

namespace {

constexpr std::string_view kComponent = "discard";
// How often an idle consumer looks at the stop flag.
constexpr auto kIdleWait = std::chrono::milliseconds(100);

}  // namespace

DiscardSink::DiscardSink(const SinkContext& context, DiscardSinkConfig config) : context_(context), config_(config) {
  // Same names, help texts and labels as the Kinesis sink's: prometheus-cpp
  // merges families by name and keeps the first help text.
  const prometheus::Labels labels{{"pipeline", context_.pipelineName}};
  recordsSent_ = &prometheus::BuildCounter()
                      .Name("kinship_sink_records_sent_total")
                      .Help("Records Kinesis accepted")
                      .Register(context_.metrics)
                      .Add(labels);
  bytesSent_ = &prometheus::BuildCounter()
                    .Name("kinship_sink_bytes_sent_total")
                    .Help("Bytes of data and partition keys Kinesis accepted")
                    .Register(context_.metrics)
                    .Add(labels);
  droppedShutdown_ = &prometheus::BuildCounter()
                          .Name("kinship_sink_records_dropped_total")
                          .Help("Records never delivered to Kinesis, by reason: too_large (data plus key over "
                                "max_record_size), invalid (refused alone as invalid), shutdown (still undelivered "
                                "when shutdown_timeout ran out, in spool mode memory). too_large and invalid records also go to the "
                                "dead-letter file when one is configured")
                          .Register(context_.metrics)
                          .Add({{"pipeline", context_.pipelineName}, {"reason", "shutdown"}});
}

DiscardSink::~DiscardSink() {
  if (thread_.joinable()) stop(context_.clock.now());
}

Status DiscardSink::start() {
  thread_ = std::thread([this] {
    setCurrentThreadName("sink-discard");
    heartbeat_.start();
    run();
    heartbeat_.retire();
  });
  return Status::ok();
}

void DiscardSink::stop(std::chrono::steady_clock::time_point deadline) {
  {
    std::lock_guard lock(stopMutex_);
    stopping_ = true;
    stopDeadline_ = deadline;
  }
  stopSignal_.notify_all();
  context_.queue.close();
  if (thread_.joinable()) thread_.join();
}

bool DiscardSink::waitDelay() {
  std::unique_lock lock(stopMutex_);
  auto until = context_.clock.now() + config_.delay;
  for (;;) {
    auto now = context_.clock.now();
    if (stopping_ && now >= stopDeadline_) return false;
    if (now >= until) return true;
    auto wakeAt = stopping_ ? std::min(until, stopDeadline_) : until;
    // Woken early by stop(), to honour its deadline; a long delay still
    // turns every second for the heartbeat.
    stopSignal_.wait_for(lock, std::min<std::chrono::steady_clock::duration>(wakeAt - now, std::chrono::seconds(1)));
    heartbeat_.beat();
  }
}

void DiscardSink::discard(pipeline::BatchPtr batch) {
  recordsSent_->Increment(static_cast<double>(batch->size()));
  bytesSent_->Increment(static_cast<double>(batch->limitBytes()));
  // Discarded counts as delivered: the source may checkpoint past the batch.
  batch->notifyAcknowledged();
  // Letting go of `batch` returns it to the queue's pool.
}

void DiscardSink::run() {
  pipeline::BatchQueue& queue = context_.queue;
  pipeline::BatchPtr held;  // popped but not discarded when the deadline passed
  for (;;) {
    heartbeat_.beat();
    {
      std::lock_guard lock(stopMutex_);
      if (stopping_ && context_.clock.now() >= stopDeadline_) break;
    }
    auto batch = queue.popUntil(context_.clock.now() + kIdleWait);
    if (!batch) {
      if (queue.closed() && queue.queuedBatches() == 0) break;
      continue;
    }
    if (config_.delay.count() > 0 && !waitDelay()) {
      held = std::move(batch);
      break;
    }
    discard(std::move(batch));
  }

  size_t undelivered = held ? held->size() : 0;
  held.reset();
  while (auto batch = queue.tryPop()) undelivered += batch->size();
  if (undelivered != 0 && context_.spooled) {
    log::info(kComponent, "shutdown_timeout ran out with {} records of pipeline {} not yet discarded; they stay in "
              "the spool", undelivered, context_.pipelineName);
  } else if (undelivered != 0) {
    droppedShutdown_->Increment(static_cast<double>(undelivered));
    log::error(kComponent, "shutdown_timeout ran out with {} records of pipeline {} not yet discarded", undelivered,
               context_.pipelineName);
  }
}

}  // namespace kinship::sinks
