#include "sinks/kinesis/put_records_encoder.h"

#include <cbor.h>

#include "common/base64.h"
#include "common/json_escape.h"

namespace kinship::kinesis {

namespace {

// A CBOR head is at most 9 bytes (initial byte + 64-bit argument).
constexpr size_t kMaxCborHead = 9;

template <typename Encode>
void appendCborHead(std::string& out, Encode encode) {
  unsigned char head[kMaxCborHead];
  out.append(reinterpret_cast<const char*>(head), encode(head, sizeof head));
}

void appendCborText(std::string& out, std::string_view text) {
  appendCborHead(out, [&](unsigned char* p, size_t n) { return cbor_encode_string_start(text.size(), p, n); });
  out += text;
}

// The constant parts of a record: a map head and its first key, the second
// key, the third key; built once.
struct CborRecordParts {
  std::string twoPairsThenData;
  std::string threePairsThenData;
  std::string partitionKey;
  std::string explicitHashKey;
  CborRecordParts() {
    appendCborHead(twoPairsThenData, [](unsigned char* p, size_t n) { return cbor_encode_map_start(2, p, n); });
    appendCborText(twoPairsThenData, "Data");
    appendCborHead(threePairsThenData, [](unsigned char* p, size_t n) { return cbor_encode_map_start(3, p, n); });
    appendCborText(threePairsThenData, "Data");
    appendCborText(partitionKey, "PartitionKey");
    appendCborText(explicitHashKey, "ExplicitHashKey");
  }
};

const CborRecordParts& cborParts() {
  static const CborRecordParts parts;
  return parts;
}

}  // namespace

PutRecordsEncoder::PutRecordsEncoder(std::string_view streamField, std::string_view streamValue,
                                     WireProtocol protocol)
    : protocol_(protocol) {
  if (protocol_ == WireProtocol::kCbor) {
    appendCborHead(prefix_, [](unsigned char* p, size_t n) { return cbor_encode_indef_map_start(p, n); });
    appendCborText(prefix_, streamField);
    appendCborText(prefix_, streamValue);
    appendCborText(prefix_, "Records");
    appendCborHead(prefix_, [](unsigned char* p, size_t n) { return cbor_encode_indef_array_start(p, n); });
    return;
  }
  prefix_ = "{\"";
  prefix_ += streamField;
  prefix_ += "\":\"";
  appendJsonEscaped(prefix_, streamValue);
  prefix_ += "\",\"Records\":[";
}

void PutRecordsEncoder::begin() {
  body_.assign(prefix_);
  records_ = 0;
}

void PutRecordsEncoder::add(std::string_view data, std::string_view partitionKey,
                            std::string_view explicitHashKey) {
  if (protocol_ == WireProtocol::kCbor) {
    addCbor(data, partitionKey, explicitHashKey);
  } else {
    addJson(data, partitionKey, explicitHashKey);
  }
  ++records_;
}

void PutRecordsEncoder::addJson(std::string_view data, std::string_view partitionKey,
                                std::string_view explicitHashKey) {
  if (records_ != 0) body_.push_back(',');
  body_ += "{\"Data\":\"";
  // Grown without zero-filling what base64 overwrites at once.
  const size_t at = body_.size();
  const size_t size = at + base64EncodedSize(data.size());
  body_.resize_and_overwrite(size, [&](char* out, size_t) {
    base64Encode(reinterpret_cast<const unsigned char*>(data.data()), data.size(), out + at);
    return size;
  });
  body_ += "\",\"PartitionKey\":\"";
  appendJsonEscaped(body_, partitionKey);
  if (!explicitHashKey.empty()) {
    body_ += "\",\"ExplicitHashKey\":\"";
    body_ += explicitHashKey;  // digits only: the pipeline checked it
  }
  body_ += "\"}";
}

void PutRecordsEncoder::addCbor(std::string_view data, std::string_view partitionKey,
                                std::string_view explicitHashKey) {
  const CborRecordParts& parts = cborParts();
  body_ += explicitHashKey.empty() ? parts.twoPairsThenData : parts.threePairsThenData;
  appendCborHead(body_, [&](unsigned char* p, size_t n) { return cbor_encode_bytestring_start(data.size(), p, n); });
  body_ += data;
  body_ += parts.partitionKey;
  appendCborText(body_, partitionKey);  // UTF-8 already: keys come from JSON text, YAML or hex
  if (!explicitHashKey.empty()) {
    body_ += parts.explicitHashKey;
    appendCborText(body_, explicitHashKey);
  }
}

std::string_view PutRecordsEncoder::finish() {
  if (protocol_ == WireProtocol::kCbor) {
    // Ends the Records array, then the top-level map.
    appendCborHead(body_, [](unsigned char* p, size_t n) { return cbor_encode_break(p, n); });
    appendCborHead(body_, [](unsigned char* p, size_t n) { return cbor_encode_break(p, n); });
    return body_;
  }
  body_ += "]}";
  return body_;
}

}  // namespace kinship::kinesis
