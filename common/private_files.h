#pragma once
// The modes of what kinship creates under data_dir (checkpoints, spool
// segments, their temporary files) and of the dead-letter file: owner only.
// Checkpoints hold the first bytes of each tailed log and spool segments and
// dead letters hold records, so other local users must not read them. The
// modes are passed to open() and mkdir(); the umask can only take bits away.
// Directories that already exist keep their mode and group: an operator who
// wants a group to read them creates them beforehand (see README).

#include <sys/stat.h>
#include <sys/types.h>

#include <cerrno>
#include <cstring>
#include <string>

#include "common/status.h"

namespace kinship {

inline constexpr mode_t kPrivateFileMode = 0600;
inline constexpr mode_t kPrivateDirMode = 0700;

// Creates `path` and its missing parents with kPrivateDirMode (like
// mkdir -p -m 0700, which gives the mode to the parents too). Used at start,
// not on the data path.
inline Status createPrivateDirectories(const std::string& path) {
  if (path.empty()) return Status::invalidArgument("empty directory path");
  for (size_t end = 0; end != std::string::npos;) {
    end = path.find('/', end + 1);
    const std::string prefix = path.substr(0, end);
    if (prefix.back() == '/') continue;  // "/" itself, "//", a trailing slash
    struct stat st {};
    if (::stat(prefix.c_str(), &st) == 0) {
      if (S_ISDIR(st.st_mode)) continue;
      return Status::ioError(prefix + " is not a directory");
    }
    if (errno != ENOENT) return Status::ioError("cannot stat " + prefix + ": " + std::strerror(errno));
    // EEXIST: another process created it since the stat.
    if (::mkdir(prefix.c_str(), kPrivateDirMode) != 0 && errno != EEXIST) {
      return Status::ioError("cannot create " + prefix + ": " + std::strerror(errno));
    }
  }
  return Status::ok();
}

}  // namespace kinship
