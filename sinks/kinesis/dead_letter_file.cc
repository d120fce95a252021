#include "sinks/kinesis/dead_letter_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/evp.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <ctime>
#include <filesystem>
#include <iterator>
#include <system_error>

#include <fmt/format.h>

#include "common/json_escape.h"
#include "common/private_files.h"

namespace kinship::kinesis {

namespace {

std::string errnoText(int error) { return std::generic_category().message(error); }

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
  // EVP_EncodeBlock takes an int length; chunks of a multiple of 3 bytes
  // encode to the same text as one call would.
  constexpr size_t kChunk = 3 * 1024 * 1024;
  for (size_t offset = 0; offset < data.size(); offset += kChunk) {
    size_t n = std::min(kChunk, data.size() - offset);
    size_t at = out.size();
    out.resize(at + 4 * ((n + 2) / 3) + 1);  // EVP_EncodeBlock writes a terminating NUL
    int written = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data() + at),
                                  reinterpret_cast<const unsigned char*>(data.data() + offset), static_cast<int>(n));
    out.resize(at + static_cast<size_t>(written));
  }
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

Status openError(const std::string& path, int error) {
  switch (error) {
    case ENOENT: {
      std::string dir = std::filesystem::path(path).parent_path().string();
      if (dir.empty()) dir = ".";
      return Status::notFound("dead-letter file '" + path + "': directory '" + dir +
                              "' does not exist (kinship does not create it)");
    }
    case EISDIR: return Status::ioError("dead-letter file '" + path + "' is a directory");
    default: return Status::ioError("cannot open dead-letter file '" + path + "': " + errnoText(error));
  }
}

}  // namespace

Result<std::unique_ptr<DeadLetterFile>> DeadLetterFile::open(const DeadLetterOptions& options, const Clock& clock) {
  if (options.path.empty()) {
    return std::unique_ptr<DeadLetterFile>(new DeadLetterFile(options, clock, -1, 0));
  }
  int fd = ::open(options.path.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, kPrivateFileMode);
  if (fd < 0) return fail(openError(options.path, errno));
  struct stat st {};
  if (::fstat(fd, &st) != 0) {
    int error = errno;
    ::close(fd);
    return fail(Status::ioError("cannot stat dead-letter file '" + options.path + "': " + errnoText(error)));
  }
  // A FIFO or device would break the size cap and the cut-back of a failed
  // write; a plain file is all this needs.
  if (!S_ISREG(st.st_mode)) {
    ::close(fd);
    return fail(Status::ioError("dead-letter file '" + options.path + "' is not a regular file"));
  }
  return std::unique_ptr<DeadLetterFile>(new DeadLetterFile(options, clock, fd, static_cast<uint64_t>(st.st_size)));
}

DeadLetterFile::DeadLetterFile(DeadLetterOptions options, const Clock& clock, int fd, uint64_t size)
    : options_(std::move(options)), clock_(clock), fd_(fd), size_(size) {}

DeadLetterFile::~DeadLetterFile() {
  if (fd_ >= 0) ::close(fd_);
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
  if (fd_ < 0) return Status::notFound("dead letters are disabled (no dead-letter file configured)");
  formatLine(reason, error, pipeline, partitionKey, data);

  // Re-read the size: if the file was truncated or rotated by copy-truncate
  // behind our back, the cap follows what is really there.
  struct stat st {};
  if (::fstat(fd_, &st) != 0) {
    return Status::ioError("cannot stat dead-letter file '" + options_.path + "': " + errnoText(errno));
  }
  size_ = static_cast<uint64_t>(st.st_size);
  if (size_ + line_.size() > options_.maxBytes) {
    return Status::unavailable(fmt::format("dead-letter file '{}' is full: {} bytes, a line of {} more would pass "
                                           "its cap of {} bytes",
                                           options_.path, size_, line_.size(), options_.maxBytes));
  }

  // One write(2) in the normal case. A short write (the disk filled, a file
  // size limit) is continued; if the rest fails, what went out is cut back
  // off so the file keeps ending at a line boundary.
  size_t written = 0;
  while (written < line_.size()) {
    ssize_t n = ::write(fd_, line_.data() + written, line_.size() - written);
    if (n > 0) {
      written += static_cast<size_t>(n);
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    int writeError = n < 0 ? errno : EIO;  // 0 bytes for a non-empty write: treat as an I/O error
    std::string message = "writing dead-letter file '" + options_.path + "': " + errnoText(writeError);
    if (written != 0 && ::ftruncate(fd_, static_cast<off_t>(size_)) != 0) {
      message += fmt::format(" (and cutting back the {} bytes of the torn line failed: {})", written,
                             errnoText(errno));
      size_ += written;
    }
    return Status::ioError(std::move(message));
  }
  size_ += written;
  return Status::ok();
}

}  // namespace kinship::kinesis
