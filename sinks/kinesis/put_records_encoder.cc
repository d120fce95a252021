#include "sinks/kinesis/put_records_encoder.h"

#include "sinks/kinesis/base64.h"


namespace kinship::kinesis {

void appendJsonEscaped(std::string& out, std::string_view text) {
  static constexpr char kHex[] = "0123456789abcdef";
  size_t runStart = 0;
  for (size_t i = 0; i < text.size(); ++i) {
    auto c = static_cast<unsigned char>(text[i]);
    if (c >= 0x20 && c != '"' && c != '\\') continue;
    out.append(text.data() + runStart, i - runStart);
    runStart = i + 1;
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      default:
        out += "\\u00";
        out.push_back(kHex[c >> 4]);
        out.push_back(kHex[c & 0xF]);
    }
  }
  out.append(text.data() + runStart, text.size() - runStart);
}

PutRecordsEncoder::PutRecordsEncoder(std::string_view streamField, std::string_view streamValue) {
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
  ++records_;
}

std::string_view PutRecordsEncoder::finish() {
  body_ += "]}";
  return body_;
}

}  // namespace kinship::kinesis
