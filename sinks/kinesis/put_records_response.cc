#include "sinks/kinesis/put_records_response.h"

namespace kinship::kinesis {

namespace {

void ensurePadding(std::string& body) {
  if (body.capacity() < body.size() + simdjson::SIMDJSON_PADDING) body.reserve(body.size() + simdjson::SIMDJSON_PADDING);
}

// Kinesis answers in the protocol of the request; a CBOR answer is a map
// (major type 5), which no JSON text starts with.
bool isCborMap(std::string_view body) {
  if (body.empty()) return false;
  const auto first = static_cast<unsigned char>(body.front());
  return first >= 0xa0 && first <= 0xbf;
}

// Kinesis error answers are a type and a message; a larger JSON body is
// not one, and is not worth a parse (simdjson allocates by body size).
constexpr size_t kMaxJsonErrorBytes = 64 * 1024;

}  // namespace

void keepBoundedText(std::string& out, std::string_view text) {
  if (text.size() > PutRecordsResponse::kMaxKeptText) {
    size_t cut = PutRecordsResponse::kMaxKeptText;
    // Back to the first byte of a sequence, at most 3 continuation bytes.
    for (int i = 0; i < 3 && cut > 0 && (static_cast<unsigned char>(text[cut]) & 0xc0) == 0x80; ++i) --cut;
    text = text.substr(0, cut);
  }
  out.assign(text);
}

std::string_view recordErrorLabel(RecordError e) {
  switch (e) {
    case RecordError::kNone: return "";
    case RecordError::kThrottled: return "ProvisionedThroughputExceededException";
    case RecordError::kInternalFailure: return "InternalFailure";
    case RecordError::kOther: return "other";
  }
  return "other";
}

RecordError recordErrorOf(std::string_view errorCode) {
  if (errorCode.empty()) return RecordError::kNone;
  if (errorCode == "ProvisionedThroughputExceededException") return RecordError::kThrottled;
  if (errorCode == "InternalFailure") return RecordError::kInternalFailure;
  return RecordError::kOther;
}

Status PutRecordsResponse::parse(std::string& body, size_t expectedRecords) {
  results_.clear();
  failed_ = 0;
  firstErrorCode_.clear();
  firstShardId_.clear();
  firstErrorMessage_.clear();
  if (body.size() > maxAnswerBytes(expectedRecords)) {
    return Status::corruption("PutRecords answer of " + std::to_string(body.size()) + " bytes for " +
                              std::to_string(expectedRecords) + " records sent is too long");
  }
  results_.reserve(expectedRecords);
  Status read = isCborMap(body) ? parseCbor(body, expectedRecords) : parseJson(body, expectedRecords);
  if (!read) return read;
  if (results_.size() != expectedRecords) {
    return Status::corruption("PutRecords answered " + std::to_string(results_.size()) + " records for " +
                              std::to_string(expectedRecords) + " sent");
  }
  return Status::ok();
}

Status PutRecordsResponse::parseJson(std::string& body, size_t expectedRecords) {
  ensurePadding(body);

  simdjson::dom::element doc;
  if (parser_.parse(body.data(), body.size(), /*realloc_if_needed=*/false).get(doc) != simdjson::SUCCESS) {
    return Status::corruption("PutRecords answer is not JSON");
  }
  simdjson::dom::array records;
  if (doc["Records"].get(records) != simdjson::SUCCESS) {
    return Status::corruption("PutRecords answer has no Records array");
  }
  // The tape knows how many records there are (saturating at 2^24 - 1).
  if (records.size() != expectedRecords) {
    return Status::corruption("PutRecords answered " + std::to_string(records.size()) + " records for " +
                              std::to_string(expectedRecords) + " sent");
  }
  for (simdjson::dom::element element : records) {
    simdjson::dom::object record;
    if (element.get(record) != simdjson::SUCCESS) {
      return Status::corruption("PutRecords answer has a record that is not an object");
    }
    RecordError result = RecordError::kNone;
    std::string_view code;
    if (record["ErrorCode"].get(code) == simdjson::SUCCESS && !code.empty()) {
      result = recordErrorOf(code);
      ++failed_;
      if (firstErrorCode_.empty()) {
        keepBoundedText(firstErrorCode_, code);
        std::string_view message;
        if (record["ErrorMessage"].get(message) == simdjson::SUCCESS) keepBoundedText(firstErrorMessage_, message);
      }
    }
    if (result == RecordError::kNone && firstShardId_.empty()) {
      std::string_view shard;
      if (record["ShardId"].get(shard) == simdjson::SUCCESS) keepBoundedText(firstShardId_, shard);
    }
    results_.push_back(result);
  }
  return Status::ok();
}

std::string errorTypeOf(std::string& body) {
  std::string raw;
  if (isCborMap(body)) {
    raw = errorTypeOfCbor(body);
  } else {
    if (body.size() > kMaxJsonErrorBytes) return {};
    ensurePadding(body);
    simdjson::dom::parser parser;
    simdjson::dom::element doc;
    if (parser.parse(body.data(), body.size(), /*realloc_if_needed=*/false).get(doc) != simdjson::SUCCESS) return {};
    std::string_view type;
    if (doc["__type"].get(type) != simdjson::SUCCESS && doc["code"].get(type) != simdjson::SUCCESS) return {};
    keepBoundedText(raw, type);
  }
  std::string_view type = raw;
  if (auto hash = type.rfind('#'); hash != std::string_view::npos) type.remove_prefix(hash + 1);
  if (auto colon = type.find(':'); colon != std::string_view::npos) type = type.substr(0, colon);
  return std::string(type);
}

}  // namespace kinship::kinesis
