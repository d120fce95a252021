#pragma once
// FileTailer: follows one open file, reading it in large blocks and cutting
// the blocks into lines in place (no copy, no syscall per line). It keeps
// the file open, so a file renamed or deleted while open is still read to
// its end. Reads go through an Env (ReadableFile): one virtual call per
// block, none per line. Not thread-safe: owned by one FileInput on the I/O
// thread.
//
// Memory: the blocks are read into a ReadBuffer that all the tailers of an
// input share (they read one at a time, on the I/O thread); nothing stays
// in it from one read to the next. What a tailer keeps of its own is its
// unfinished line: the bytes after the last newline it read, copied out of
// the block (with room for the parser's padding), at most max_line_size + 2
// bytes (a longer line is dropped or split as it grows), and freed once the
// line ends. Only a line that spans reads is copied (each of its bytes
// once); the others are handed out from the block where they were read.

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

// The block the tailers of one input read into, one tailer at a time:
// `size` bytes, then pipeline::kParsePadding bytes of padding (zeroed at
// first, so the padding after a line never holds uninitialised bytes).
// Holds nothing between two reads.
class ReadBuffer {
 public:
  explicit ReadBuffer(size_t size);
  ReadBuffer(const ReadBuffer&) = delete;
  ReadBuffer& operator=(const ReadBuffer&) = delete;
  char* data() { return bytes_.get(); }
  // Bytes one read may fill (the padding comes after them).
  size_t size() const { return size_; }

 private:
  size_t size_;
  std::unique_ptr<char[]> bytes_;
};

class FileTailer {
 public:
  struct Options {
    // The block read per call: `buffer`, shared by the tailers of one input
    // (FileInput passes its own); when null, the tailer makes one of
    // `readBufferSize` bytes for itself.
    std::shared_ptr<ReadBuffer> buffer;
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

  // Reads one block (into the shared buffer) and passes every complete line
  // in it to `receiver`; the unfinished line at its end is copied out and
  // held. A shrunken file (copytruncate) is read again from its start, after
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
  // The bytes of the unfinished line held, and the memory holding them:
  // the tailer's own state beside the shared buffer (zero while no line is
  // held; a line held takes its length plus pipeline::kParsePadding, up to
  // twice that while it grows, never more than max_line_size + 2 plus the
  // padding).
  size_t heldBytes() const { return pending_; }
  size_t heldCapacity() const { return held_.capacity(); }

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
  // Cuts the block base[0, n) just read (the file's bytes up to
  // readOffset_) into lines.
  void cutLines(const char* base, size_t n, LineReceiver& receiver);
  // Ends, grows (or drops, or splits) the held line with the block's bytes
  // from `pos` up to its first newline; returns where the block's next line
  // starts (n when the whole block went to the held line).
  size_t continueHeldLine(const char* base, size_t pos, size_t n, uint64_t blockOffset, LineReceiver& receiver);
  // Passes base[start, end) on as one line (split or dropped when too
  // long); `endOffset` is the file offset after its line ending. Pieces of
  // a split line end at their own offsets: `baseOffset` is the file offset
  // of base[0]. kParsePadding bytes after `end` must be readable.
  void emitLine(const char* base, size_t start, size_t end, uint64_t endOffset, uint64_t baseOffset,
                LineReceiver& receiver);
  // Appends to the held line, growing held_ (with room for the padding).
  void hold(const char* bytes, size_t n);
  // Forgets the held line and frees its memory.
  void releaseHeld();
  void rewind();

  std::unique_ptr<ReadableFile> file_;
  std::string path_;
  FileIdentity identity_;
  Options options_;
  uint64_t readOffset_;
  // The block read into: shared with the input's other tailers.
  std::shared_ptr<ReadBuffer> buffer_;
  // held_[0, pending_) is the unfinished line (no newline yet); held_ has
  // room for the parser's padding after it. Empty (no memory) while no
  // line is held.
  std::vector<char> held_;
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
