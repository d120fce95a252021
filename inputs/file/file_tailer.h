#pragma once
// FileTailer: follows one open file, reading it in large blocks and cutting
// the blocks into lines in place (no copy, no syscall per line). It keeps
// the file descriptor, so a file renamed or deleted while open is still read
// to its end. Not thread-safe: owned by one FileInput on the I/O thread.

#include <sys/types.h>

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace kinship::inputs {

struct FileIdentity {
  dev_t device = 0;
  ino_t inode = 0;
  bool operator==(const FileIdentity&) const = default;
};

// Receives what a tailer cuts out of a block.
class LineReceiver {
 public:
  virtual ~LineReceiver() = default;
  // `line` has no line ending; the bytes after it stay readable for at least
  // pipeline::kParsePadding bytes. Valid only during the call.
  virtual void onLine(std::string_view line) = 0;
  // A line longer than the limit was dropped; `bytes` is how much of it was seen.
  virtual void onLineTooLong(const std::string& path, uint64_t bytes) = 0;
};

class FileTailer {
 public:
  struct Options {
    size_t readBufferSize = 256 * 1024;
    size_t maxLineSize = 1024 * 1024 - 1024;
  };
  enum class ReadOutcome { kData, kEndOfFile };

  static Result<std::unique_ptr<FileTailer>> open(const std::string& path, bool startAtEnd, const Options& options);
  ~FileTailer();
  FileTailer(const FileTailer&) = delete;
  FileTailer& operator=(const FileTailer&) = delete;

  // Reads one block and passes every complete line in it to `receiver`.
  // A shrunken file (copytruncate) is read again from its start.
  Result<ReadOutcome> readBlock(LineReceiver& receiver);

  const std::string& path() const { return path_; }
  void setPath(std::string path) { path_ = std::move(path); }
  FileIdentity identity() const { return identity_; }
  // Offset just past the last line handed out (or dropped as too long):
  // where a restart must resume. Inside a line being dropped as too long it
  // is that line's start, so a restart drops it again rather than shipping
  // its tail as a line.
  uint64_t consumedOffset() const { return readOffset_ - pending_ - (skippingLongLine_ ? skippedBytes_ : 0); }
  uint64_t readOffset() const { return readOffset_; }

  // Resumes at `offset` (a checkpoint). Precondition: nothing read yet.
  void resumeAt(uint64_t offset) { readOffset_ = offset; }
  // Up to `maxBytes` of the file's start (for its fingerprint), and its size.
  Result<std::string> readHead(size_t maxBytes) const;
  // Notices a file that was truncated and written past the old offset in
  // between two looks (copytruncate while kinship lagged): its first bytes
  // changed. Then reading starts again from 0. One small pread; call it once
  // per read pass, not per block.
  void checkRewritten();
  Result<uint64_t> size() const;

  // The input's name for this open file in acknowledgements (see
  // pipeline::AckReceiver); assigned by the input.
  uint64_t sourceId() const { return sourceId_; }
  void setSourceId(uint64_t id) { sourceId_ = id; }

  // The file no longer sits at a watched path (rotated away or deleted):
  // it is read to its end, then closed.
  bool draining() const { return draining_; }
  void setDraining() { draining_ = true; }

 private:
  FileTailer(int fd, std::string path, FileIdentity identity, uint64_t offset, const Options& options);
  void cutLines(size_t newBytes, LineReceiver& receiver);

  int fd_;
  std::string path_;
  FileIdentity identity_;
  Options options_;
  uint64_t readOffset_;
  // buffer_ holds `pending_` bytes of an unfinished line at its start, then
  // room to read into; it is sized with padding for the JSON parser.
  std::vector<char> buffer_;
  size_t pending_ = 0;
  // Inside a line that was too long: drop bytes until the next newline.
  bool skippingLongLine_ = false;
  uint64_t skippedBytes_ = 0;
  bool draining_ = false;
  // The file's first bytes as last seen (up to kHeadBytes), to notice rewrites.
  std::string head_;
  bool headKnown_ = false;
  uint64_t sourceId_ = 0;
};

}  // namespace kinship::inputs
