#include "sinks/kinesis/sink_health.h"

#include <prometheus/gauge.h>

#include "common/log.h"
#include "sinks/kinesis/kinesis_metrics.h"

namespace kinship::kinesis {

namespace {
constexpr std::string_view kComponent = "kinesis";
}  // namespace

void SinkHealth::failed(const SendVerdict& verdict, const Answer& answer, std::string_view url, size_t pending) {
  const bool paused = verdict.health == SendVerdict::Health::kPaused;
  state_->Set(static_cast<double>(paused ? SinkState::kPaused : SinkState::kRetrying));
  std::lock_guard lock(mu_);
  if (answer.error.label != lastError_) {
    lastError_ = answer.error.label;
    log::error(kComponent, "PutRecords to {} failed ({}): {}; keeping {} records; {}", url, answer.error.label,
               answer.detail, pending,
               paused ? fmt::format("this needs attention: sending paused, a probe every {} ms", verdict.holdAll.count())
               : verdict.holdAll.count() > 0 ? fmt::format("all sending waits {} ms", verdict.holdAll.count())
                                             : std::string("each record is retried after its own backoff"));
  }
  if (paused) {
    notReadyReason_ = "kinesis sink of pipeline " + pipeline_ + ": " + answer.error.label;
    // Our own message, naming the credentials provider and its error (never
    // a secret); other details quote the endpoint's answer and stay in the log.
    if (answer.kind == Answer::Kind::kNotSent) notReadyReason_ += ": " + answer.detail;
  }
}

void SinkHealth::succeeded(std::string_view url) {
  state_->Set(static_cast<double>(SinkState::kOk));
  std::lock_guard lock(mu_);
  if (!lastError_.empty()) {
    log::info(kComponent, "PutRecords to {} works again (after {})", url, lastError_);
    lastError_.clear();
  }
  notReadyReason_.clear();
}

std::string SinkHealth::notReadyReason() const {
  std::lock_guard lock(mu_);
  return notReadyReason_;
}

}  // namespace kinship::kinesis
