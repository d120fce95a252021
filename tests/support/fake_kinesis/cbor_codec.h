#pragma once
// The Kinesis CBOR protocol (application/x-amz-cbor-1.1) for PutRecords and
// PutRecord: decoding a request body into plain fields the service then
// validates exactly as it does JSON ones, and a small writer for answers.
// Data blobs are CBOR byte strings (raw bytes, no base64); the AWS SDKs send
// indefinite-length maps, so every item may be definite or indefinite.
//
// Threading: pure functions; CborWriter is used by one thread at a time.

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace kinship::fake {

inline constexpr std::string_view kCborContentType = "application/x-amz-cbor-1.1";

// One record's fields as sent. Views point into the caller's text arena;
// the data bytes are at [dataOffset, dataOffset + dataSize) of its data buffer.
struct CborRecord {
  std::string_view key;
  std::string_view hashKey;
  size_t dataOffset = 0;
  size_t dataSize = 0;
  bool hasKey = false;
  bool hasData = false;
  bool hasHashKey = false;
};

// A PutRecords or PutRecord request. CBOR null and undefined count as absent,
// as JSON null does.
struct CborPutRequest {
  std::string_view streamName;
  std::string_view streamArn;
  std::string_view ordering;  // PutRecord's SequenceNumberForOrdering
  bool hasName = false;
  bool hasArn = false;
  bool hasOrdering = false;
  bool hasRecords = false;
  std::vector<CborRecord> records;  // PutRecords
  CborRecord record;                // PutRecord

  void clear();
};

enum class CborDecode : uint8_t {
  kOk,
  kMalformed,  // not one well-formed CBOR map, or nested too deep
  kWrongType,  // a known field has the wrong type; see badField
};

// Decodes a body (empty means an empty map). Strings are appended to `text`
// and data bytes to `data`; both must have capacity for body.size() more
// bytes so the views stay valid (decoded strings never outgrow the body).
// `batch` selects PutRecords (Records) or PutRecord (fields at top level).
CborDecode decodeCborPut(std::string_view body, bool batch, std::string& text, std::string& data,
                         CborPutRequest& out, std::string_view& badField);

// Appends definite-length CBOR items to a string.
class CborWriter {
 public:
  explicit CborWriter(std::string& out) : out_(out) {}
  void mapStart(size_t pairs);
  void arrayStart(size_t items);
  void text(std::string_view value);
  void uint(uint64_t value);

 private:
  std::string& out_;
};

// {"__type": type, "message": message}: a request-level error.
void appendCborError(std::string& out, std::string_view type, std::string_view message);

}  // namespace kinship::fake
