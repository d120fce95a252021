#pragma once
// Faults: what the fake endpoint does wrong on purpose, so tests and
// benchmarks can drive a client through every failure Kinesis produces.
//
//   - by rate: each in-scope request (or record) draws from a seeded RNG, so a
//     run with the same seed and the same request order fails the same way;
//   - by schedule: "the Nth in-scope request since the faults were set" gets a
//     given action, which is how unit tests hit exact cases.
//
// Types here are plain values; FaultInjector holds the RNG and the request
// counter and is not thread-safe (KinesisService calls it under its lock).

#include <chrono>
#include <cstdint>
#include <optional>
#include <random>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/status.h"

namespace kinship::fake {

// Request-level errors, with the HTTP status and `__type` the service uses.
enum class ApiError : uint8_t {
  kProvisionedThroughputExceeded,
  kLimitExceeded,
  kResourceNotFound,
  kResourceInUse,
  kAccessDenied,
  kKmsThrottling,
  kKmsDisabled,
  kKmsAccessDenied,
  kKmsNotFound,
  kKmsInvalidState,
  kKmsOptInRequired,
  kExpiredToken,
  kUnrecognizedClient,
  kInvalidArgument,
  kValidation,
  kSerialization,
  kMissingAuthenticationToken,
  kUnknownOperation,
  kExpiredNextToken,
  kInternalFailure,
  kServiceUnavailable,
  kPayloadTooLarge,  // 413 with an empty body, as the front end answers
};

struct ApiErrorInfo {
  ApiError error;
  std::string_view type;  // the JSON `__type`, also the name used in fault specs and stats
  int status;
  std::string_view message;  // default message
};

const ApiErrorInfo& errorInfo(ApiError error);
// By `__type` name ("ServiceUnavailable", "KMSThrottlingException", ...);
// "413" is accepted for PayloadTooLarge.
std::optional<ApiError> apiErrorFromName(std::string_view name);
// Every error, for listing in help texts and for tests that loop over them.
std::span<const ApiErrorInfo> allErrors();

// The two per-record ErrorCodes a PutRecords answer can carry.
enum class RecordError : uint8_t { kProvisionedThroughputExceeded, kInternalFailure };
std::string_view recordErrorCode(RecordError error);
std::optional<RecordError> recordErrorFromName(std::string_view name);

struct RecordFault {
  // Position of the record in its request (0-based); -1 means every record.
  int64_t index = -1;
  RecordError error = RecordError::kInternalFailure;
};

// What happens to one request.
struct FaultAction {
  std::optional<ApiError> error;  // answer this error instead of processing
  bool drop = false;              // close the connection without an answer, records not accepted
  // Accept the records, then close without an answer: the client cannot know
  // they landed, so a retry makes duplicates.
  bool dropAfterProcessing = false;
  std::chrono::milliseconds delay{0};  // answer this much later (after processing)
  std::vector<RecordFault> recordFaults;
};

struct ScheduledFault {
  // 1-based number of the in-scope request, counted from when the faults were
  // set (so {"request": 1} is "the next one").
  uint64_t request = 1;
  uint64_t count = 1;  // applies to `count` consecutive requests
  FaultAction action;
};

struct Faults {
  double recordInternalFailureRate = 0;  // per record: ErrorCode InternalFailure
  double recordThrottleRate = 0;         // per record: ErrorCode ProvisionedThroughputExceededException
  // Per request, drawn once: the first error whose cumulative rate exceeds
  // the draw is answered.
  std::vector<std::pair<ApiError, double>> requestErrorRates;
  double dropRate = 0;
  double dropAfterProcessingRate = 0;
  std::chrono::milliseconds delay{0};
  double delayRate = 1;  // share of requests that get `delay`
  // A request that a schedule entry matches gets only that entry's action
  // (no rate-based faults), so scheduled tests are exact.
  std::vector<ScheduledFault> schedule;
  // Operations the faults apply to; "*" means all of them.
  std::vector<std::string> operations{"PutRecords", "PutRecord"};
  std::optional<uint64_t> seed;  // reseed the RNG when these faults are set

  bool any() const;
};

// The control API's JSON form (see README.md in this folder). Unknown keys,
// wrong types and out-of-range rates are errors.
Result<Faults> parseFaults(std::string_view json);
std::string faultsToJson(const Faults& faults);

// The per-request decision. It owns its scheduled record faults, so it stays
// valid whatever happens to the injector's faults meanwhile.
struct FaultDecision {
  std::optional<ApiError> error;
  bool drop = false;
  bool dropAfterProcessing = false;
  std::chrono::milliseconds delay{0};
  std::vector<RecordFault> recordFaults;
  bool scheduled = false;  // a schedule entry matched: no rate-based record faults
  bool inScope = false;    // the operation is one the faults apply to
};

class FaultInjector {
 public:
  explicit FaultInjector(uint64_t seed) : rng_(seed) {}

  // Replaces the faults and restarts the request count.
  void set(Faults faults);
  const Faults& faults() const { return faults_; }
  void reseed(uint64_t seed) { rng_.seed(seed); }

  bool inScope(std::string_view operation) const;
  // Counts one in-scope request and decides what happens to it.
  FaultDecision decide();
  // The injected error, if any, of record `index` in the current request.
  std::optional<RecordError> recordFault(size_t index, const FaultDecision& decision);

 private:
  bool draw(double rate);

  Faults faults_;
  std::mt19937_64 rng_;
  uint64_t requests_ = 0;
};

}  // namespace kinship::fake
