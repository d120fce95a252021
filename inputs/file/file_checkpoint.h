#pragma once
// FileCheckpoint: what a file input remembers about one file between runs
// (its identity, the first bytes that tell a reused inode apart, the offset
// up to which its lines are safe, and the bytes just before that offset,
// which tell a rewrite with the same first bytes apart), and the rule that
// decides where a file found by a scan resumes. Plain data and a pure
// function: no I/O, usable from any thread.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "inputs/file/file_tailer.h"

namespace kinship::inputs {

// How many leading bytes of a file its fingerprint covers at most. Files
// shorter than this are fingerprinted by what they hold.
inline constexpr size_t kFingerprintBytes = 64;
// How many bytes before a position its tail covers at most (fewer when the
// offset is smaller).
inline constexpr size_t kTailBytes = 64;

struct FileCheckpoint {
  FileIdentity identity;
  std::string fingerprint;  // the file's first bytes (raw), up to kFingerprintBytes
  std::string path;         // informational: the file may have moved
  uint64_t offset = 0;      // every line before it is safe (acknowledged or spooled)
  // The file's bytes [offset - tail.size(), offset), up to kTailBytes.
  // Empty when not known (a checkpoint written before it was kept): then
  // only the fingerprint tells files apart.
  std::string tail;
};

// Where a file found by a scan resumes, and why.
struct ResumePoint {
  enum class Reason {
    kSameFile,   // fingerprint and tail match: resumed at the offset
    kTruncated,  // shorter than the offset now: everything in it is new
    kRewritten,  // same first bytes, other bytes before the offset: truncated and written again
  };
  uint64_t offset = 0;
  Reason reason = Reason::kSameFile;
};

// Where a file should resume, given its saved position (whose identity the
// caller has matched), the file's current first bytes (at least as many as
// the fingerprint covers, when the file has them), its bytes at
// [saved.offset - saved.tail.size(), saved.offset) (`currentTail`; read
// only when the file is at least saved.offset long) and its size. Returns:
//   - offset 0, kTruncated, when the file is now shorter than the offset;
//   - nullopt when the current first bytes do not start with the
//     fingerprint: the inode was reused by another file, which starts as
//     any file without a checkpoint;
//   - offset 0, kRewritten, when the tail is known and differs from
//     `currentTail`: the same first bytes (a common timestamp or JSON
//     preamble) but other content up to the offset, so it is read again
//     from its start rather than losing its new beginning;
//   - saved.offset, kSameFile, otherwise.
std::optional<ResumePoint> resumePoint(const FileCheckpoint& saved, std::string_view currentHead,
                                       std::string_view currentTail, uint64_t currentSize);

}  // namespace kinship::inputs
