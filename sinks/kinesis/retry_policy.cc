#include "sinks/kinesis/retry_policy.h"

#include <algorithm>

#include "sinks/kinesis/backoff.h"

namespace kinship::kinesis {

Answer readAnswer(aws::HttpRequest& http, PutRecordsResponse& response, size_t records) {
  if (!http.transportStatus) {
    if (http.responseTooLarge) {
      return {Answer::Kind::kFailed, {ErrorAction::kRetry, "bad_response"}, http.transportStatus.message()};
    }
    return {Answer::Kind::kFailed, classifyRequestError(0, "", http.failure), http.transportStatus.message()};
  }
  if (http.httpStatus != 200) {
    ErrorClass error =
        classifyRequestError(static_cast<int>(http.httpStatus), errorTypeOf(http.responseBody), TransportFailure::kNone);
    return {Answer::Kind::kFailed, std::move(error),
            "HTTP " + std::to_string(http.httpStatus) + ": " + http.responseBody.substr(0, 300)};
  }
  if (Status parsed = response.parse(http.responseBody, records); !parsed) {
    return {Answer::Kind::kFailed, {ErrorAction::kRetry, "bad_response"}, parsed.message()};
  }
  return {Answer::Kind::kRecords, {}, {}, &response.results()};
}

Answer notSent(const Status& credentialsError) {
  return {Answer::Kind::kNotSent, {ErrorAction::kPause, "credentials"}, credentialsError.message()};
}

std::string_view fateName(Fate fate) {
  switch (fate) {
    case Fate::kAccepted: return "accepted";
    case Fate::kRetry: return "retry";
    case Fate::kThrottled: return "throttled";
    case Fate::kSplit: return "split";
    case Fate::kDeadLetter: return "dead_letter";
    case Fate::kPaused: return "paused";
  }
  return "unknown";
}

RetryPolicy::RetryPolicy(std::chrono::milliseconds backoffMin, std::chrono::milliseconds backoffMax, uint64_t seed)
    : min_(backoffMin), max_(backoffMax), rng_(static_cast<std::minstd_rand::result_type>(seed)) {}

RecordFate RetryPolicy::later(Fate fate, uint16_t attempts) {
  const auto counted = static_cast<uint16_t>(std::min<int>(attempts + 1, kMaxCountedAttempts));
  return {fate, counted, fullJitterDelay(counted, min_, max_, rng_), {}};
}

RecordFate RetryPolicy::decideFailed(const Answer& answer, size_t position, size_t records, uint16_t attempts) {
  switch (answer.kind) {
    case Answer::Kind::kRecords:
      // A record the answer marks as failed.
      return later((*answer.results)[position] == RecordError::kThrottled ? Fate::kThrottled : Fate::kRetry,
                   attempts);
    case Answer::Kind::kNotSent: return later(Fate::kPaused, attempts);
    case Answer::Kind::kFailed: break;
  }
  switch (answer.error.action) {
    case ErrorAction::kBisect:
    case ErrorAction::kTooLarge:
      if (records > 1) return {Fate::kSplit, attempts, {}, {}};
      return {Fate::kDeadLetter, attempts, {}, answer.error.action == ErrorAction::kTooLarge ? "too_large" : "invalid"};
    case ErrorAction::kPause: return later(Fate::kPaused, attempts);
    // A request-level throttle names no shard: the records back off, the
    // shard rates stay (per-record answers drive them).
    case ErrorAction::kThrottle:
    case ErrorAction::kRetry:
    case ErrorAction::kRefreshCredentials: break;
  }
  return later(Fate::kRetry, attempts);
}

SendVerdict RetryPolicy::afterAnswer(const Answer& answer) {
  if (answer.kind == Answer::Kind::kRecords) {
    failures_ = 0;
    return {SendVerdict::Health::kOk};
  }
  const ErrorAction action = answer.error.action;
  if (action == ErrorAction::kBisect || action == ErrorAction::kTooLarge) return {};
  if (answer.kind == Answer::Kind::kNotSent || action == ErrorAction::kPause) {
    // Probed at the longest backoff until a request works.
    return {SendVerdict::Health::kPaused, max_};
  }
  failures_ = std::min(failures_ + 1, static_cast<int>(kMaxCountedAttempts));
  const auto delay = fullJitterDelay(failures_, min_, max_, rng_);
  return {SendVerdict::Health::kRetrying, failures_ >= kFailuresBeforeHoldingAll ? delay : std::chrono::milliseconds(0),
          action == ErrorAction::kRefreshCredentials};
}

}  // namespace kinship::kinesis
