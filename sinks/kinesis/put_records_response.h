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
  // Error codes, messages, shard ids and error types are kept up to this
  // many bytes (cut at a UTF-8 boundary): far more than Kinesis sends, and
  // all that a hostile answer can make us keep.
  static constexpr size_t kMaxKeptText = 1024;
  // A longer answer to n records is refused: a record's result is about
  // 100 bytes (200 with an error message), and the margin leaves room for
  // whitespace and fields Kinesis may add. It bounds simdjson's buffers,
  // which grow with the body and are kept for the next answer.
  static constexpr size_t maxAnswerBytes(size_t records) { return 64 * 1024 + 4 * 1024 * records; }

  // Reads a JSON or a CBOR answer (told apart by the first byte: a CBOR map
  // or not). Fails when the body is not a PutRecords answer or its record
  // count differs from `expectedRecords`: then the whole request must be
  // retried. Nothing grows beyond what `expectedRecords` records need,
  // whatever the body declares: a longer Records array is refused before
  // it is read. May grow `body`'s capacity (simdjson's padding).
  Status parse(std::string& body, size_t expectedRecords);

  const std::vector<RecordError>& results() const { return results_; }
  size_t failedCount() const { return failed_; }
  // The first failure's code and message, for a log line.
  const std::string& firstErrorCode() const { return firstErrorCode_; }
  const std::string& firstErrorMessage() const { return firstErrorMessage_; }
  // The ShardId of the first accepted record ("" if none): a cheap sample
  // for noticing that the stream was resharded.
  const std::string& firstShardId() const { return firstShardId_; }

  // The CBOR reader's per-record fields (put_records_response_cbor.cc); not
  // for callers.
  struct CborFields {
    PutRecordsResponse* owner = nullptr;
    bool sawRecords = false;
    std::string errorCode;
    std::string errorMessage;
    std::string shardId;
    void onRecord();
    void addAccepted(uint64_t count);
  };

 private:
  Status parseJson(std::string& body, size_t expectedRecords);
  Status parseCbor(std::string_view body, size_t expectedRecords);

  simdjson::dom::parser parser_;
  std::vector<RecordError> results_;
  size_t failed_ = 0;
  std::string firstErrorCode_;
  std::string firstErrorMessage_;
  std::string firstShardId_;
  CborFields cbor_;
};

// The record error an ErrorCode names.
RecordError recordErrorOf(std::string_view errorCode);

// The error type of a request-level error answer: the `__type` (or
// `code`) field with any "namespace#" prefix removed; empty if absent.
// Reads JSON or CBOR (a CBOR map), like PutRecordsResponse::parse.
std::string errorTypeOf(std::string& body);
// The raw `__type` (or `code`) of a CBOR error answer; empty if absent or
// if the body is not valid CBOR. Streams: allocates nothing in proportion
// to what the body declares.
std::string errorTypeOfCbor(std::string_view body);

// Sets `out` to `text`, cut to PutRecordsResponse::kMaxKeptText bytes
// without splitting a UTF-8 sequence. For the readers.
void keepBoundedText(std::string& out, std::string_view text);

}  // namespace kinship::kinesis
