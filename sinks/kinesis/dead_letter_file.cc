#include "sinks/kinesis/dead_letter_file.h"

#include <chrono>
#include <ctime>
#include <filesystem>
#include <iterator>
#include <system_error>

#include <fmt/format.h>

#include "common/base64.h"
#include "common/json_escape.h"

namespace kinship::kinesis {

namespace {

// Length of the valid UTF-8 sequence starting at text[i] (RFC 3629: no
// overlong forms, no surrogates, nothing above U+10FFFF), or 0 if the byte
// there does not start one.
size_t utf8SequenceLength(std::string_view text, size_t i) {
  auto at = [&](size_t k) { return static_cast<unsigned char>(text[k]); };
  unsigned char c = at(i);
  if (c < 0x80) return 1;
  size_t length;
  unsigned char low = 0x80, high = 0xBF;  // allowed range of the second byte
  if (c >= 0xC2 && c <= 0xDF) {
    length = 2;
  } else if (c >= 0xE0 && c <= 0xEF) {
    length = 3;
    if (c == 0xE0) low = 0xA0;   // overlong
    if (c == 0xED) high = 0x9F;  // surrogates
  } else if (c >= 0xF0 && c <= 0xF4) {
    length = 4;
    if (c == 0xF0) low = 0x90;   // overlong
    if (c == 0xF4) high = 0x8F;  // above U+10FFFF
  } else {
    return 0;
  }
  if (i + length > text.size()) return 0;
  if (at(i + 1) < low || at(i + 1) > high) return 0;
  for (size_t k = 2; k < length; ++k) {
    if (at(i + k) < 0x80 || at(i + k) > 0xBF) return 0;
  }
  return length;
}

// Appends `text` as a JSON string with its quotes. Keys come from log
// fields and error texts from a peer; neither is guaranteed to be UTF-8, and
// one bad byte must not make the whole line unreadable JSON, so each byte
// that does not start a valid sequence becomes U+FFFD.
void appendJsonString(std::string& out, std::string_view text) {
  out.push_back('"');
  size_t runStart = 0;
  size_t i = 0;
  while (i < text.size()) {
    size_t length = utf8SequenceLength(text, i);
    if (length != 0) {
      i += length;
      continue;
    }
    appendJsonEscaped(out, text.substr(runStart, i - runStart));
    out += "\\ufffd";
    runStart = ++i;
  }
  appendJsonEscaped(out, text.substr(runStart));
  out.push_back('"');
}

void appendBase64(std::string& out, std::string_view data) {
  const size_t at = out.size();
  const size_t size = at + base64EncodedSize(data.size());
  out.resize_and_overwrite(size, [&](char* p, size_t) {
    base64Encode(reinterpret_cast<const unsigned char*>(data.data()), data.size(), p + at);
    return size;
  });
}

// "2026-11-23T14:00:00.123Z"
void appendUtcTime(std::string& out, std::chrono::system_clock::time_point when) {
  auto ms = std::chrono::floor<std::chrono::milliseconds>(when.time_since_epoch());
  auto seconds = std::chrono::floor<std::chrono::seconds>(ms);
  std::time_t t = static_cast<std::time_t>(seconds.count());
  std::tm tm{};
  gmtime_r(&t, &tm);
  fmt::format_to(std::back_inserter(out), "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z", tm.tm_year + 1900,
                 tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, (ms - seconds).count());
}

// What the Env's open cannot say by itself, asked of the file system first:
// a missing directory (not created: it usually means a wrong path), a
// directory, or something other than a plain file (a FIFO or a device would
// break the size cap and the cut-back of a failed write).
Status checkPath(const std::string& path) {
  namespace fs = std::filesystem;
  std::error_code error;
  fs::path dir = fs::path(path).parent_path();
  if (dir.empty()) dir = ".";
  if (!fs::exists(dir, error)) {
    return Status::notFound("dead-letter file '" + path + "': directory '" + dir.string() +
                            "' does not exist (kinship does not create it)");
  }
  const fs::file_status status = fs::status(path, error);
  if (fs::is_directory(status)) return Status::ioError("dead-letter file '" + path + "' is a directory");
  if (fs::exists(status) && !fs::is_regular_file(status)) {
    return Status::ioError("dead-letter file '" + path + "' is not a regular file");
  }
  return Status::ok();
}

}  // namespace

Result<std::unique_ptr<DeadLetterFile>> DeadLetterFile::open(const DeadLetterOptions& options, const Clock& clock,
                                                             Env& env) {
  if (options.path.empty()) {
    return std::unique_ptr<DeadLetterFile>(new DeadLetterFile(options, clock, nullptr, nullptr, 0));
  }
  if (Status checked = checkPath(options.path); !checked) return fail(checked);
  auto file = env.openWritable(options.path);  // created with mode 0600 if needed
  if (!file) return fail(file.error().prefixed("cannot open dead-letter file '" + options.path + "': "));
  auto sizer = env.openReadable(options.path);
  if (!sizer) return fail(sizer.error().prefixed("cannot open dead-letter file '" + options.path + "': "));
  auto size = (*sizer)->size();
  if (!size) return fail(size.error().prefixed("cannot stat dead-letter file '" + options.path + "': "));
  return std::unique_ptr<DeadLetterFile>(
      new DeadLetterFile(options, clock, std::move(*file), std::move(*sizer), *size));
}

DeadLetterFile::DeadLetterFile(DeadLetterOptions options, const Clock& clock, std::unique_ptr<WritableFile> file,
                               std::unique_ptr<ReadableFile> sizer, uint64_t size)
    : options_(std::move(options)), clock_(clock), file_(std::move(file)), sizer_(std::move(sizer)), size_(size) {}

DeadLetterFile::~DeadLetterFile() {
  if (file_) (void)file_->close();
}

void DeadLetterFile::formatLine(std::string_view reason, std::string_view error, std::string_view pipeline,
                                std::string_view partitionKey, std::string_view data) {
  line_.clear();
  line_ += "{\"time\":\"";
  appendUtcTime(line_, clock_.wallNow());
  line_ += "\",\"reason\":";
  appendJsonString(line_, reason);
  line_ += ",\"error\":";
  appendJsonString(line_, error);
  line_ += ",\"pipeline\":";
  appendJsonString(line_, pipeline);
  line_ += ",\"partition_key\":";
  appendJsonString(line_, partitionKey);
  line_ += ",\"data\":\"";
  appendBase64(line_, data);
  line_ += "\"}\n";
}

Status DeadLetterFile::write(std::string_view reason, std::string_view error, std::string_view pipeline,
                             std::string_view partitionKey, std::string_view data) {
  if (!file_) return Status::notFound("dead letters are disabled (no dead-letter file configured)");
  formatLine(reason, error, pipeline, partitionKey, data);

  // Re-read the size: if the file was truncated or rotated by copy-truncate
  // behind our back, the cap follows what is really there.
  auto size = sizer_->size();
  if (!size) return size.error().prefixed("cannot stat dead-letter file '" + options_.path + "': ");
  size_ = *size;
  if (size_ + line_.size() > options_.maxBytes) {
    return Status::unavailable(fmt::format("dead-letter file '{}' is full: {} bytes, a line of {} more would pass "
                                           "its cap of {} bytes",
                                           options_.path, size_, line_.size(), options_.maxBytes));
  }

  // A write that fails partway (the disk filled, a file size limit) may
  // have left part of the line: it is cut back off, so the file keeps
  // ending at a line boundary.
  if (Status appended = file_->append(line_); !appended) {
    std::string message = "writing dead-letter file '" + options_.path + "': " + appended.message();
    if (Status cut = file_->truncate(size_); !cut) {
      message += " (and cutting back the torn line failed: " + cut.message() + ")";
    }
    return Status::ioError(std::move(message));
  }
  size_ += line_.size();
  return Status::ok();
}

}  // namespace kinship::kinesis
