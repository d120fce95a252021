#pragma once
// PutRecordsEncoder: writes the body of a PutRecords request straight into
// one reusable buffer: JSON with each record's data base64-encoded in place,
// or CBOR with the data as raw bytes (indefinite-length map and array, as the
// AWS SDKs send, so that the record count need not be known up front).
// After the first few requests it allocates nothing.
// Not thread-safe: one per sender.

#include <string>
#include <string_view>

#include "sinks/kinesis/wire_protocol.h"

namespace kinship::kinesis {

class PutRecordsEncoder {
 public:
  // `streamField` is "StreamName" or "StreamARN".
  PutRecordsEncoder(std::string_view streamField, std::string_view streamValue,
                    WireProtocol protocol = WireProtocol::kJson);

  void begin();
  // `explicitHashKey` empty: none (the shard follows MD5 of the key).
  void add(std::string_view data, std::string_view partitionKey, std::string_view explicitHashKey = {});
  // Closes the document; the body stays valid until the next begin().
  std::string_view finish();

  size_t records() const { return records_; }

 private:
  void addJson(std::string_view data, std::string_view partitionKey, std::string_view explicitHashKey);
  void addCbor(std::string_view data, std::string_view partitionKey, std::string_view explicitHashKey);

  WireProtocol protocol_;
  std::string prefix_;  // {"StreamName":"...","Records":[ or its CBOR form
  std::string body_;
  size_t records_ = 0;
};

}  // namespace kinship::kinesis
