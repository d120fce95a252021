// libFuzzer target: the container log readers (CRI, Docker json-file) and
// the file input's ContainerLogAssembler. The input's first byte picks the
// format, the largest joined line (1 to 64 bytes) and long_lines; the rest
// is the file's lines, cut at "\n". Every line is read on its own (a CRI
// entry's views must lie inside the line) and fed to an assembler, which
// is flushed at the end. Checked: every record fits the size and has its
// padding readable (ASan), offsets never go back and end at the file's
// end, and with long_lines: split every byte of every application line
// read is shipped, once, in order.

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "inputs/file/container_log_assembler.h"
#include "pipeline/container_log.h"
#include "pipeline/pipeline.h"

using namespace kinship;
using namespace kinship::inputs;
using namespace kinship::pipeline;

namespace {

void check(bool condition) {
  if (!condition) std::abort();
}

bool inside(std::string_view part, std::string_view whole) {
  return part.empty() || (part.data() >= whole.data() && part.data() + part.size() <= whole.data() + whole.size());
}

struct Receiver final : ContainerRecordReceiver {
  size_t maxSize = 0;
  uint64_t lastOffset = 0;
  // What was shipped of the application's lines, by stream (0 stdout,
  // 1 stderr, 2 other), in order.
  std::string shipped[3];
  unsigned paddingSum = 0;

  void onContainerRecord(std::string_view log, uint64_t endOffset, const ContainerLine& container) override {
    check(endOffset >= lastOffset);
    lastOffset = endOffset;
    for (size_t i = 0; i < kParsePadding; ++i) paddingSum += static_cast<unsigned char>(log.data()[log.size() + i]);
    if (container.failure) return;  // the whole line, which may be longer
    check(log.size() <= maxSize);
    shipped[container.stream == "stdout" ? 0 : container.stream == "stderr" ? 1 : 2] += log;
  }
  void onContainerLineSplit() override {}
  void onContainerLineTooLong(uint64_t) override {}
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const uint8_t control = data[0];
  const ParserKind format = (control & 1) ? ParserKind::kDocker : ParserKind::kCri;
  const size_t maxSize = 1 + ((control >> 1) & 63);
  const LongLines longLines = (control & 128) ? LongLines::kDrop : LongLines::kSplit;
  const std::string_view file(reinterpret_cast<const char*>(data + 1), size - 1);

  static ContainerLogReader cri(ParserKind::kCri);
  static ContainerLogReader docker(ParserKind::kDocker);
  ContainerLogReader& reader = format == ParserKind::kCri ? cri : docker;
  ContainerLogReader lineReader(format);  // reads each line apart, for the expectations
  ContainerLogAssembler assembler(reader, maxSize, longLines, std::chrono::seconds(5), 0);
  Receiver out;
  out.maxSize = maxSize;
  std::string expected[3];

  uint64_t offset = 0;
  Clock::TimePoint now{};
  std::string padded;
  for (size_t start = 0; start < file.size();) {
    size_t end = file.find('\n', start);
    if (end == std::string_view::npos) end = file.size();
    padded.assign(file.substr(start, end - start));
    padded.append(kParsePadding, '\0');
    const std::string_view line(padded.data(), end - start);
    offset += line.size() + 1;
    ContainerLogEntry entry;
    if (!lineReader.read(line, entry)) {
      if (format == ParserKind::kCri) check(inside(entry.time, line) && inside(entry.log, line));
      check(entry.log.size() <= line.size());
      expected[entry.stream == "stdout" ? 0 : entry.stream == "stderr" ? 1 : 2] += entry.log;
    }
    assembler.addLine(line, offset, now, out);
    now += std::chrono::seconds((control >> 3) & 3);  // sometimes long enough for the timeout
    if ((line.size() & 7) == 0) assembler.flushIfIdle(now, out);
    start = end + 1;
  }
  assembler.flush(out);
  check(!assembler.holdsLine() && !assembler.deadline());
  check(out.lastOffset <= offset);
  if (out.lastOffset != 0 || offset != 0) check(out.lastOffset == offset || longLines == LongLines::kDrop);
  for (int s = 0; s < 3; ++s) {
    if (longLines == LongLines::kSplit) {
      check(out.shipped[s] == expected[s]);
    } else {
      check(out.shipped[s].size() <= expected[s].size());
    }
  }
  return 0;
}
