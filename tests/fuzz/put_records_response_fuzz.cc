// libFuzzer target: PutRecordsResponse::parse over JSON and CBOR answers.
// The first byte is the number of records sent; the rest is the body.
// Besides the sanitizers, checks what parse promises: a successful read
// has one result per record sent, failedCount() counts the failed ones,
// and nothing grows past what the request can produce.

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>

#include "sinks/kinesis/put_records_response.h"

using kinship::kinesis::PutRecordsResponse;
using kinship::kinesis::RecordError;

namespace {

void check(bool condition) {
  if (!condition) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const size_t expected = data[0];
  std::string body(reinterpret_cast<const char*>(data + 1), size - 1);
  PutRecordsResponse response;
  const bool ok = response.parse(body, expected).isOk();
  check(response.results().capacity() <= expected);
  check(response.firstErrorCode().size() <= PutRecordsResponse::kMaxKeptText);
  check(response.firstErrorMessage().size() <= PutRecordsResponse::kMaxKeptText);
  check(response.firstShardId().size() <= PutRecordsResponse::kMaxKeptText);
  if (ok) {
    check(response.results().size() == expected);
    size_t failed = 0;
    for (RecordError e : response.results()) failed += e != RecordError::kNone;
    check(failed == response.failedCount());
    check(response.failedCount() == 0 || !response.firstErrorCode().empty());
  }
  // The body itself is left as it was (parse may only add capacity).
  check(body.size() == size - 1 && body.compare(0, body.size(), reinterpret_cast<const char*>(data + 1), size - 1) == 0);
  return 0;
}
