#pragma once
// UnixSocketFile: the filesystem side of a listening Unix socket: clearing
// the way before bind (a stale socket from an earlier run is removed; a live
// one, or anything that is not a socket, is left alone and start fails),
// setting its permissions and group after bind, and removing it at stop,
// but only if the path still names the socket we created.
//
// Threading: startup and stop, on the I/O thread.

#include <sys/types.h>

#include <optional>
#include <string>

#include "common/status.h"

namespace kinship::inputs {

class UnixSocketFile {
 public:
  explicit UnixSocketFile(std::string path) : path_(std::move(path)) {}
  ~UnixSocketFile() { remove(); }
  UnixSocketFile(const UnixSocketFile&) = delete;
  UnixSocketFile& operator=(const UnixSocketFile&) = delete;

  const std::string& path() const { return path_; }

  // Before bind: looks the group up (absent: keep the daemon's), checks the
  // parent directory, and clears a stale socket. `socketType` (SOCK_STREAM
  // or SOCK_DGRAM) is what we will bind, used to probe whether a socket at
  // the path is still in use.
  Status prepare(int socketType, const std::optional<std::string>& group);
  // On the unbound socket `fd`: bind() creates the file with the socket's
  // own mode less the umask, so setting it first means the file is never
  // more open than `mode`, even before finishBind().
  static void restrictBeforeBind(int fd, mode_t mode);
  // After bind: records which file we created, then applies `mode` exactly
  // (whatever the umask) and the group.
  Status finishBind(mode_t mode);
  // Unlinks the socket file if it is still the one we bound. Idempotent.
  void remove();

 private:
  std::string path_;
  std::optional<gid_t> group_;
  bool bound_ = false;
  dev_t device_ = 0;
  ino_t inode_ = 0;
};

}  // namespace kinship::inputs
