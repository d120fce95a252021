// libFuzzer target: the error-type readers of error answers, errorTypeOf
// (JSON or CBOR) and errorTypeOfCbor, over any body.

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>

#include "sinks/kinesis/put_records_response.h"

using kinship::kinesis::PutRecordsResponse;

namespace {

void check(bool condition) {
  if (!condition) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  std::string body(input);
  const std::string type = kinship::kinesis::errorTypeOf(body);
  // The namespace ("...#") and any ":detail" are cut off.
  check(type.size() <= PutRecordsResponse::kMaxKeptText);
  check(type.find('#') == std::string::npos && type.find(':') == std::string::npos);
  check(body == input);
  const std::string raw = kinship::kinesis::errorTypeOfCbor(input);
  check(raw.size() <= PutRecordsResponse::kMaxKeptText);
  return 0;
}
