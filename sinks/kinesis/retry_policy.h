#pragma once
// RetryPolicy: what happens to a record after its request's answer, decided
// in one function (decide()), and what an answer means for sending as a
// whole (afterAnswer()). Failures are values here, never sentinels: the
// transport's kind of failure, the HTTP error and the answer's per-record
// results become an Answer; each record gets a RecordFate.
//
// The rules (the error table itself is kinesis_errors.cc):
//   accepted                           -> kAccepted
//   record throttled (ProvisionedThroughputExceeded)
//                                      -> kThrottled: its shard slows down,
//                                         it goes again after its backoff
//   record failed otherwise, or the request failed in a way time fixes
//   (5xx, transport, a request-level throttle, an expired token, an answer
//   we cannot read)                    -> kRetry after its backoff
//   request refused as invalid or too large
//                                      -> kSplit (sent again at once in a
//                                         half of the request), or, alone,
//                                         kDeadLetter
//   request failed in a way only an operator fixes (access denied, stream
//   not found, TLS trust, no credentials)
//                                      -> kPaused: the record waits with
//                                         its backoff, and all sending
//                                         pauses for retry_backoff_max
// Backoff: exponential with full jitter per record, by its attempts;
// nothing is dropped because retries ran out. After several request
// failures in a row (an outage, not a scattered fault) every send also
// waits, so that a dead endpoint is not hammered.
//
// Not thread-safe: the sink's sender thread.

#include <chrono>
#include <cstdint>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include "aws/http_transport.h"
#include "common/status.h"
#include "sinks/kinesis/kinesis_errors.h"
#include "sinks/kinesis/put_records_response.h"

namespace kinship::kinesis {

// What came back for one PutRecords request.
struct Answer {
  enum class Kind : uint8_t {
    kNotSent,  // never sent: no usable credentials; `detail` names the provider and its error
    kFailed,   // failed as a whole (below HTTP, an HTTP error, an unreadable answer): see `error`
    kRecords,  // answered record by record: `results`, in request order
  };
  Kind kind = Kind::kFailed;
  ErrorClass error{ErrorAction::kRetry, {}};  // kNotSent, kFailed
  std::string detail;                        // kNotSent, kFailed: for logs (and /readyz when kNotSent)
  const std::vector<RecordError>* results = nullptr;  // kRecords
};

// The answer to a completed request of `records` records. `response` keeps
// the per-record results the Answer points to, until its next parse.
Answer readAnswer(aws::HttpRequest& http, PutRecordsResponse& response, size_t records);
// A request that could not be signed, so never went out.
Answer notSent(const Status& credentialsError);

enum class Fate : uint8_t { kAccepted, kRetry, kThrottled, kSplit, kDeadLetter, kPaused };

std::string_view fateName(Fate fate);  // "accepted", "retry", ... for logs and tests

struct RecordFate {
  Fate fate;
  uint16_t attempts = 0;  // the record's failed attempts after this answer
  // kRetry, kThrottled, kPaused: how long the record waits before it may go again.
  std::chrono::milliseconds delay{0};
  std::string_view deadLetterReason;  // kDeadLetter: "too_large" or "invalid"
};

// What an answer means for all sending.
struct SendVerdict {
  enum class Health : uint8_t {
    kUnchanged,  // a refused request being split: says nothing of the endpoint
    kOk,         // the endpoint answered record by record
    kRetrying,   // a failure that time fixes
    kPaused,     // a failure that needs an operator
  };
  Health health = Health::kUnchanged;
  // Every send waits this long from now (0: no wait).
  std::chrono::milliseconds holdAll{0};
  // The endpoint said the credentials expired: ask the provider for new ones.
  bool refreshCredentials = false;
};

class RetryPolicy {
 public:
  // Request failures in a row after which every send waits.
  static constexpr int kFailuresBeforeHoldingAll = 3;
  // Attempts are counted up to this (the backoff is at its maximum long before).
  static constexpr uint16_t kMaxCountedAttempts = 1000;

  RetryPolicy(std::chrono::milliseconds backoffMin, std::chrono::milliseconds backoffMax,
              uint64_t seed = std::random_device{}());

  // The fate of the record at `position` of a request of `records` records
  // after `answer`, given the failed attempts it had (`attempts`).
  RecordFate decide(const Answer& answer, size_t position, size_t records, uint16_t attempts) {
    if (answer.kind == Answer::Kind::kRecords && (*answer.results)[position] == RecordError::kNone) {
      return {Fate::kAccepted, attempts, {}, {}};
    }
    return decideFailed(answer, position, records, attempts);
  }
  // What `answer` means for all sending; call once per answer.
  SendVerdict afterAnswer(const Answer& answer);
  // Failed requests in a row so far.
  int failuresInARow() const { return failures_; }

 private:
  RecordFate decideFailed(const Answer& answer, size_t position, size_t records, uint16_t attempts);
  RecordFate later(Fate fate, uint16_t attempts);

  std::chrono::milliseconds min_;
  std::chrono::milliseconds max_;
  std::minstd_rand rng_;
  int failures_ = 0;
};

}  // namespace kinship::kinesis
