#pragma once
// SourcePositions: the newest position of each file whose batches a disk
// spool holds (frames of type 2, spool_format.h), with the file's bytes
// just before it (SourcePosition::tail). A position counts only
// once its frame is durable (fsynced, under the fsync policy): a file input
// that resumes from it after a power loss must not skip lines that never
// reached the disk. Recovery refills it from the POSITIONS file and the
// frames on disk; a file input reads it at start to resume after what the
// spool already holds, whatever its own (older) checkpoint says.
//
// Bounded: past kMaxFiles files the least recently appended is forgotten
// (its file, if it comes back, resumes from its checkpoint).
//
// Threading: appended(), synced() and syncFailed() from the spool's writer
// thread; recovered() before any thread starts; durable() from any thread.

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <tuple>
#include <vector>

#include "pipeline/source_file.h"

namespace kinship::spool {

class SourcePositions {
 public:
  static constexpr size_t kMaxFiles = 4096;

  // A frame ending at `offset` of `file` was written, not yet fsynced;
  // `tail`: the file's bytes just before `offset` (the batch's
  // sourceTail()), empty when not known. Copies it: one small allocation
  // per frame, on the writer thread.
  void appended(std::shared_ptr<const pipeline::SourceFile> file, uint64_t offset, std::string_view tail = {});
  // Everything written so far is durable.
  void synced();
  // An fsync failed: what was written since the last good one may be lost,
  // so its positions never count.
  void syncFailed();
  // Found on disk at recovery (POSITIONS, then the frames): the furthest
  // offset per file wins, since the file and the frames do not say which
  // is newer; at the same offset, one that knows its tail.
  void recovered(const pipeline::SourcePosition& position);

  std::vector<pipeline::SourcePosition> durable() const;
  // Changes whenever durable() would return something else: a POSITIONS
  // file written at one version need not be written again.
  uint64_t version() const;

 private:
  using Key = std::tuple<std::string, uint64_t, uint64_t>;  // input, device, inode
  struct Entry {
    std::shared_ptr<const pipeline::SourceFile> file;
    uint64_t offset = 0;
    std::string tail;
    uint64_t stamp = 0;  // for forgetting the least recently appended
  };
  struct Pending {
    std::shared_ptr<const pipeline::SourceFile> file;
    uint64_t offset = 0;
    std::string tail;
  };

  void storeLocked(std::shared_ptr<const pipeline::SourceFile> file, uint64_t offset, std::string tail,
                   bool furthest);

  mutable std::mutex mu_;
  std::map<Key, Entry> durable_;
  std::vector<Pending> pending_;
  uint64_t nextStamp_ = 0;  // also the version: it moves with every store
};

}  // namespace kinship::spool
