#pragma once
// DeadLetterFile: where a record goes that Kinesis will never accept (over
// the size limit, or refused alone as invalid), so it is kept for an
// operator instead of retried forever or silently lost.
//
// Format: JSON lines, one record per line, appended:
//   {"time":"2026-11-23T14:00:00.123Z","reason":"too_large","error":"...",
//    "pipeline":"app","partition_key":"...","data":"<base64>"}
// time is the wall clock in UTC with milliseconds; reason, error, pipeline
// and partition_key are JSON strings (bytes that are not valid UTF-8 become
// U+FFFD, so every line stays valid JSON); data is the record's bytes in
// standard base64 with padding, exactly as PutRecords would have sent them.
//
// Each line is appended whole (one write(2) in the normal case), so a crash leaves at most a torn
// last line; a write that fails partway (disk full) is cut back off, so the
// file never holds a torn line followed by more lines. The file is capped
// at maxBytes, counting what was there before we opened it: once the next
// line would pass the cap, records are refused, not written.
//
// Files are opened and written through an Env (posixEnv() unless a test
// injects faults). Threading: not thread-safe. open() may run on any
// thread; afterwards one thread (the sink's sender) calls write(). The
// Clock and the Env must outlive it.

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "common/clock.h"
#include "common/env.h"
#include "common/status.h"

namespace kinship::kinesis {

struct DeadLetterOptions {
  std::string path;  // empty: dead letters are disabled (the caller only counts and logs them)
  uint64_t maxBytes = 100 * 1024 * 1024;
};

class DeadLetterFile {
 public:
  // Opens (creating if needed, mode 0600: it holds records) `options.path`
  // for appending; a file that exists keeps its mode. Its directory must
  // exist: it is not created, because a missing directory usually means a
  // wrong path. With an empty path, returns a disabled
  // DeadLetterFile (never null) whose write() refuses everything.
  static Result<std::unique_ptr<DeadLetterFile>> open(const DeadLetterOptions& options, const Clock& clock,
                                                      Env& env = posixEnv());

  ~DeadLetterFile();
  DeadLetterFile(const DeadLetterFile&) = delete;
  DeadLetterFile& operator=(const DeadLetterFile&) = delete;

  // Appends one record. Never throws. Errors, all with nothing written:
  //   kUnavailable: the line would take the file past maxBytes; the caller
  //                 counts the record as dropped, "dead_letter_full"
  //                 (isFull() tells this case apart);
  //   kIoError:     the write failed (ENOSPC, EIO, ...), message from errno;
  //   kNotFound:    disabled (no path configured).
  Status write(std::string_view reason, std::string_view error, std::string_view pipeline,
               std::string_view partitionKey, std::string_view data);

  static bool isFull(const Status& status) { return status.code() == Status::Code::kUnavailable; }

  bool enabled() const { return file_ != nullptr; }
  const std::string& path() const { return options_.path; }
  // The file's size as of the last open() or write(), what was there before
  // included.
  uint64_t bytesWritten() const { return size_; }

 private:
  DeadLetterFile(DeadLetterOptions options, const Clock& clock, std::unique_ptr<WritableFile> file,
                 std::unique_ptr<ReadableFile> sizer, uint64_t size);
  void formatLine(std::string_view reason, std::string_view error, std::string_view pipeline,
                  std::string_view partitionKey, std::string_view data);

  const DeadLetterOptions options_;
  const Clock& clock_;
  const std::unique_ptr<WritableFile> file_;  // null when disabled
  // The same file opened for reading, for its size before each write.
  const std::unique_ptr<ReadableFile> sizer_;
  uint64_t size_;
  std::string line_;  // reused: a dead-letter burst allocates once
};

}  // namespace kinship::kinesis
