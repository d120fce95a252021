#pragma once
// FileCheckpoint: what a file input remembers about one file between runs
// (its identity, the first bytes that tell a reused inode apart, and the
// offset up to which Kinesis has acknowledged its lines), and the rule that
// decides where a file found at start-up resumes. Plain data and a pure
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

struct FileCheckpoint {
  FileIdentity identity;
  std::string fingerprint;  // the file's first bytes (raw), up to kFingerprintBytes
  std::string path;         // informational: the file may have moved
  uint64_t offset = 0;      // every line before it was acknowledged
};

// Where a file found at start-up should resume, given its checkpoint (whose
// identity the caller has matched), the file's current first bytes (at
// least as many as the fingerprint covers, when the file has them) and its
// size. Returns:
//   - 0 when the file is now shorter than the checkpoint offset: it was
//     truncated, so everything in it is new;
//   - the checkpoint offset when the current first bytes start with the
//     fingerprint: the same file, resumed exactly where it was acknowledged;
//   - nullopt otherwise: the inode was reused by another file, which starts
//     as any file without a checkpoint.
std::optional<uint64_t> resumeOffset(const FileCheckpoint& saved, std::string_view currentHead, uint64_t currentSize);

}  // namespace kinship::inputs
