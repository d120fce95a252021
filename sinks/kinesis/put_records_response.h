#pragma once
// PutRecordsResponse: reads a PutRecords answer into one result per
// request record, by position. Reused across requests (no per-record
// allocation). Not thread-safe.

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include <simdjson.h>

#include "common/status.h"

namespace kinship::kinesis {

enum class RecordError : uint8_t {
  kNone,
  kThrottled,        // ProvisionedThroughputExceededException
  kInternalFailure,  // InternalFailure
  kOther,            // any other code: retried, and logged
};

std::string_view recordErrorLabel(RecordError e);

class PutRecordsResponse {
 public:
  // `body` must have simdjson::SIMDJSON_PADDING bytes of capacity beyond its
  // size (the caller reserves them). Fails when the body is not a
  // PutRecords answer or its record count differs from `expectedRecords`:
  // then the whole request must be retried.
  Status parse(std::string& body, size_t expectedRecords);

  const std::vector<RecordError>& results() const { return results_; }
  size_t failedCount() const { return failed_; }
  // The first failure's code and message, for a log line.
  const std::string& firstErrorCode() const { return firstErrorCode_; }
  const std::string& firstErrorMessage() const { return firstErrorMessage_; }
  // The ShardId of the first accepted record ("" if none): a cheap sample
  // for noticing that the stream was resharded.
  const std::string& firstShardId() const { return firstShardId_; }

 private:
  simdjson::dom::parser parser_;
  std::vector<RecordError> results_;
  size_t failed_ = 0;
  std::string firstErrorCode_;
  std::string firstErrorMessage_;
  std::string firstShardId_;
};

// The error type of a request-level error answer: the `__type` (or
// `code`) field with any "namespace#" prefix removed; empty if absent.
std::string errorTypeOf(std::string& body);

}  // namespace kinship::kinesis
