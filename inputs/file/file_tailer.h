#pragma once
// FileTailer: follows one open file, reading it in large blocks and cutting
// the blocks into lines in place (no copy, no syscall per line). It keeps
// the file open, so a file renamed or deleted while open is still read to
// its end. Reads go through an Env (ReadableFile): one virtual call per
// block, none per line. Not thread-safe: owned by one FileInput on the I/O
// thread.

#include <sys/types.h>

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/env.h"
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
  // pipeline::kParsePadding bytes. Valid only during the call. `endOffset`
  // is the file offset just past the line (and its line ending): where a
  // restart resumes once the line is delivered.
  virtual void onLine(std::string_view line, uint64_t endOffset) = 0;
  // A line longer than the limit was dropped; `bytes` is how much of it was seen.
  virtual void onLineTooLong(const std::string& path, uint64_t bytes) = 0;
  // long_lines: split cut a line: the piece just passed to onLine does not
  // end it; the rest follows as further lines.
  virtual void onLineSplit() {}
  // The file was truncated: what follows is read again from offset 0.
  virtual void onRewind() {}
};

// What to do with a line longer than max_line_size.
enum class LongLines { kDrop, kSplit };

class FileTailer {
 public:
  struct Options {
    size_t readBufferSize = 256 * 1024;
    size_t maxLineSize = 1024 * 1024 - 1024;
    LongLines longLines = LongLines::kDrop;
  };
  enum class ReadOutcome { kData, kEndOfFile };

  // `env` opens the file; the tailer keeps only what it opened.
  static Result<std::unique_ptr<FileTailer>> open(Env& env, const std::string& path, bool startAtEnd,
                                                  const Options& options);
  ~FileTailer();
  FileTailer(const FileTailer&) = delete;
  FileTailer& operator=(const FileTailer&) = delete;

  // Reads one block and passes every complete line in it to `receiver`.
  // A shrunken file (copytruncate) is read again from its start, after
  // receiver.onRewind(); a partial line held from before is dropped.
  Result<ReadOutcome> readBlock(LineReceiver& receiver);

  // An unfinished line (no newline yet) is held. Not while dropping the
  // rest of a line too long: a pause in the middle of it must not let its
  // tail through as a line of its own.
  bool holdsPartialLine() const { return pending_ != 0; }
  // Hands the held unfinished line out as a complete line (the writer is
  // done with it: partial_line_timeout passed, or the file is closed); a
  // line being dropped as too long is reported as dropped. A newline that
  // arrives right after it ends that line and gives no empty line of its
  // own.
  void flushPartialLine(LineReceiver& receiver);

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
  // The file's bytes [end - n, end), n = min(maxBytes, end), into `out`
  // (reusing its capacity): what a position's tail is compared with.
  // Empty when the file is shorter than `end` now.
  Status readBefore(uint64_t end, size_t maxBytes, std::string& out) const;
  // Notices a file that was truncated and written past the old offset in
  // between two looks (copytruncate while kinship lagged): its first bytes
  // changed. Then reading starts again from 0. One small pread; call it once
  // per read pass, not per block.
  // Returns true when it started again from 0.
  bool checkRewritten();
  Result<uint64_t> size() const;
  // Bytes of the file not read yet, by the size seen at the last read or
  // refreshSize(): the file's share of kinship_input_file_lag_bytes.
  uint64_t lagBytes() const { return knownSize_ > readOffset_ ? knownSize_ - readOffset_ : 0; }
  void refreshSize();

  // The input's name for this open file in acknowledgements (see
  // pipeline::AckReceiver); assigned by the input.
  uint64_t sourceId() const { return sourceId_; }
  void setSourceId(uint64_t id) { sourceId_ = id; }

  // The file no longer sits at a watched path (rotated away or deleted):
  // it is read to its end, then closed.
  bool draining() const { return draining_; }
  void setDraining() { draining_ = true; }

 private:
  FileTailer(std::unique_ptr<ReadableFile> file, std::string path, FileIdentity identity, uint64_t offset,
             const Options& options);
  void cutLines(size_t newBytes, LineReceiver& receiver);
  // Passes buffer_[start, end) on as one line (split or dropped when too
  // long); `endOffset` is the file offset after its line ending. Pieces of
  // a split line end at their own offsets: `bufferOffset` is the file
  // offset of buffer_[0].
  void emitLine(size_t start, size_t end, uint64_t endOffset, uint64_t bufferOffset, LineReceiver& receiver);
  void rewind();

  std::unique_ptr<ReadableFile> file_;
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
  // The held line was handed out by flushPartialLine(): an empty line right
  // after it is only its late line ending.
  bool partialFlushed_ = false;
  uint64_t knownSize_ = 0;
  // The file's first bytes as last seen (up to kHeadBytes), to notice rewrites.
  std::string head_;
  bool headKnown_ = false;
  uint64_t sourceId_ = 0;
};

}  // namespace kinship::inputs
