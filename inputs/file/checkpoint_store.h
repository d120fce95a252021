#pragma once
// CheckpointStore: persists one file input's checkpoints as a JSON file,
// <data_dir>/checkpoints/<pipeline>.<input id>.json:
//
//   {"version":1,"files":[{"path":"/var/log/app.log","device":2049,
//     "inode":131074,"offset":52311,"fingerprint_bytes":64,
//     "fingerprint":"7b2274696d65...","tail":"2c226d7367..."}]}
//
// `fingerprint` is the hex of the file's first `fingerprint_bytes` bytes
// (at most kFingerprintBytes); `tail` is the hex of the bytes just before
// `offset` (at most kTailBytes), which tell a file rewritten with the same
// first bytes apart; `path` is informational (rotation moves files;
// identity is device + inode + fingerprint + tail). `tail` is optional:
// files written before it existed load without it (then the fingerprint
// alone is checked), and older kinship versions ignore it, so the version
// stays 1.
// A save replaces the file atomically (replaceFile, common/env.h): write
// <file>.tmp, fsync, rename over the file, fsync the directory. A crash leaves the old file or the new
// one, never a mix; a leftover .tmp is overwritten by the next save and
// never read. Files are created 0600 and missing directories 0700
// (common/private_files.h): a fingerprint is the start of a log. Files are
// read and written through an Env (tests inject disk faults); creating the
// directories at start is a direct system call.
//
// Threading: not thread-safe; the file input uses it on the I/O thread (and
// once more from Input::flushCheckpoints()).

#include <string>
#include <vector>

#include "common/env.h"
#include "common/status.h"
#include "inputs/file/file_checkpoint.h"

namespace kinship::inputs {

class CheckpointStore {
 public:
  // `directory`: where checkpoint files live (<data_dir>/checkpoints);
  // `name`: the file's name without ".json" (<pipeline>.<input id>).
  // `env` must outlive the store.
  CheckpointStore(std::string directory, const std::string& name, Env& env = posixEnv());

  const std::string& directory() const { return directory_; }
  const std::string& path() const { return path_; }

  // Creates the directory (and its parents) if missing, mode 0700, and
  // checks that a file can be written in it.
  Status prepare();
  // The saved checkpoints: empty when there is no file yet; an error when
  // it cannot be read or is not a valid checkpoint file.
  Result<std::vector<FileCheckpoint>> load() const;
  // Replaces the saved checkpoints with `files`. On failure the file saved
  // before is intact.
  Status save(const std::vector<FileCheckpoint>& files);

 private:
  Env& env_;
  std::string directory_;
  std::string path_;
  std::string tmpPath_;
  std::string text_;  // reused between saves
};

}  // namespace kinship::inputs
