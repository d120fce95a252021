#pragma once
// PutRecordsEncoder: writes the JSON body of a PutRecords request straight
// into one reusable buffer, base64-encoding each record's data in place.
// After the first few requests it allocates nothing.
// Not thread-safe: one per sender.

#include <string>
#include <string_view>

namespace kinship::kinesis {

class PutRecordsEncoder {
 public:
  // `streamField` is "StreamName" or "StreamARN".
  PutRecordsEncoder(std::string_view streamField, std::string_view streamValue);

  void begin();
  // `explicitHashKey` empty: none (the shard follows MD5 of the key).
  void add(std::string_view data, std::string_view partitionKey, std::string_view explicitHashKey = {});
  // Closes the JSON document; the body stays valid until the next begin().
  std::string_view finish();

  size_t records() const { return records_; }

 private:
  std::string prefix_;  // {"StreamName":"...","Records":[
  std::string body_;
  size_t records_ = 0;
};

// Appends `text` as the inside of a JSON string (quotes not included).
void appendJsonEscaped(std::string& out, std::string_view text);

}  // namespace kinship::kinesis
