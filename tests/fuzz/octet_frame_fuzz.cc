// libFuzzer target: OctetFrameBuffer, the unix input's RFC 6587 framing.
// The input's first byte picks the largest frame (1 to 256 bytes) and a
// read size; the rest is the stream. It is fed twice, in reads of that size
// and of one byte at a time, each to a fresh buffer: both must give the
// same records, drops and verdict (how the kernel cuts a stream must not
// matter). Every record must fit the size, have its padding readable
// (ASan) and be a part of the stream.

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

#include "inputs/unix/octet_frame_buffer.h"
#include "pipeline/pipeline.h"

using namespace kinship;
using namespace kinship::inputs;

namespace {

void check(bool condition) {
  if (!condition) std::abort();
}

struct Run final : LineHandler {
  std::vector<std::string> records;
  std::vector<uint64_t> tooLong;
  std::vector<uint64_t> overBudget;
  bool failed = false;
  bool finishFailed = false;
  unsigned paddingSum = 0;

  void onLine(std::string_view line) override {
    records.emplace_back(line);
    for (size_t i = 0; i < pipeline::kParsePadding; ++i) {
      paddingSum += static_cast<unsigned char>(line.data()[line.size() + i]);
    }
  }
  void onLineTooLong(uint64_t bytes) override { tooLong.push_back(bytes); }
  void onLineOverBudget(uint64_t bytes) override { overBudget.push_back(bytes); }
};

Run feed(std::string_view stream, size_t chunk, size_t maxFrame) {
  OctetFrameBuffer buffer(16, maxFrame);
  Run run;
  while (!stream.empty()) {
    auto room = buffer.writable();
    check(!room.empty());
    const size_t n = std::min({room.size(), chunk, stream.size()});
    std::memcpy(room.data(), stream.data(), n);
    stream.remove_prefix(n);
    if (!buffer.commit(n, run).isOk()) {
      run.failed = true;
      return run;
    }
  }
  run.finishFailed = !buffer.finish(run).isOk();
  return run;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const size_t maxFrame = 1 + (data[0] & 0x0f) * 17;
  const size_t chunk = 1 + (data[0] >> 4) * 5;
  const std::string_view stream(reinterpret_cast<const char*>(data + 1), size - 1);
  const Run a = feed(stream, chunk, maxFrame);
  const Run b = feed(stream, 1, maxFrame);
  check(a.records == b.records && a.tooLong == b.tooLong && a.failed == b.failed &&
        a.finishFailed == b.finishFailed);
  check(a.overBudget.empty());
  for (const auto& record : a.records) {
    check(record.size() <= maxFrame);
    check(record.empty() || stream.find(record) != std::string_view::npos);
  }
  for (uint64_t bytes : a.tooLong) check(bytes > maxFrame);
  return 0;
}
