#pragma once
// The two bodies Kinesis accepts for its data-plane calls: JSON
// (application/x-amz-json-1.1, record data as base64 text) and CBOR
// (application/x-amz-cbor-1.1, record data as raw bytes, what the AWS SDKs
// send by default). CBOR bodies are about a quarter smaller for text logs,
// so there is less to hash for SigV4 and less to send.

#include <string_view>

namespace kinship::kinesis {

enum class WireProtocol { kJson, kCbor };

inline std::string_view contentTypeOf(WireProtocol protocol) {
  return protocol == WireProtocol::kCbor ? "application/x-amz-cbor-1.1" : "application/x-amz-json-1.1";
}

}  // namespace kinship::kinesis
