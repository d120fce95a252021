#pragma once
// SourceFile: the file a batch's records were read from, as it can be found
// again after a restart: the input that read it (its id within the
// pipeline), its device and inode, its first bytes (which tell a reused
// inode apart) and its path (informational). A file input makes one per
// file it follows and every batch of that file shares it, so attaching it
// costs no allocation; the disk spool writes it, with the batch's end
// offset and the bytes just before it (RecordBatch::sourceTail()), into
// each frame, so that a restart resumes reading after what the spool
// already holds even when the input's checkpoint is older.

#include <cstdint>
#include <string>

namespace kinship::pipeline {

struct SourceFile {
  std::string input;        // "file_0"
  uint64_t device = 0;
  uint64_t inode = 0;
  std::string fingerprint;  // the file's first bytes, at most 64
  std::string path;
};

// A SourceFile and an offset in it: every record before the offset is in
// the spool (or was delivered). `tail` is the file's bytes just before the
// offset (at most 64; fewer when the offset is smaller), read when the
// batch was cut: with the same first bytes, other bytes there mean the file
// was truncated and written again, and is read from its start. Empty when
// not known (positions spooled before it was kept).
struct SourcePosition {
  SourceFile file;
  uint64_t offset = 0;
  std::string tail;
};

}  // namespace kinship::pipeline
