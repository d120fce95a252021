#include "inputs/unix/unix_socket_file.h"

#include <grp.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <fmt/format.h>

#include <cerrno>
#include <cstring>
#include <vector>

#include "common/log.h"

namespace kinship::inputs {

namespace {

std::string parentOf(const std::string& path) {
  auto slash = path.rfind('/');
  if (slash == std::string::npos) return ".";
  if (slash == 0) return "/";
  return path.substr(0, slash);
}

// Whether some process accepts connections (or datagrams) on the socket at
// `path`: a connect that the kernel refuses means no one is bound to it.
Result<bool> inUse(const std::string& path, int socketType) {
  int fd = ::socket(AF_UNIX, socketType | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return fail(Status::ioError(fmt::format("cannot create a socket: {}", std::strerror(errno))));
  sockaddr_un address{};
  address.sun_family = AF_UNIX;
  std::memcpy(address.sun_path, path.data(), path.size());
  int rc = ::connect(fd, reinterpret_cast<const sockaddr*>(&address), sizeof(address));
  int err = errno;
  ::close(fd);
  if (rc == 0) return true;
  if (err == ECONNREFUSED || err == ENOENT) return false;
  // EAGAIN: a full backlog, so a live listener; EPROTOTYPE: a live socket of
  // the other type. Anything else: we cannot tell, so we do not remove it.
  if (err == EAGAIN || err == EPROTOTYPE) return true;
  return fail(Status::ioError(
      fmt::format("cannot tell whether {} is in use ({}); refusing to remove it", path, std::strerror(err))));
}

Result<gid_t> lookUpGroup(const std::string& name) {
  long hint = ::sysconf(_SC_GETGR_R_SIZE_MAX);
  std::vector<char> buffer(hint > 0 ? static_cast<size_t>(hint) : 16384);
  group entry{};
  group* found = nullptr;
  int rc;
  while ((rc = ::getgrnam_r(name.c_str(), &entry, buffer.data(), buffer.size(), &found)) == ERANGE) {
    buffer.resize(buffer.size() * 2);
  }
  if (rc != 0) {
    return fail(Status::ioError(fmt::format("cannot look up group '{}': {}", name, std::strerror(rc))));
  }
  if (found == nullptr) return fail(Status::notFound(fmt::format("socket_group: no group named '{}'", name)));
  return found->gr_gid;
}

}  // namespace

Status UnixSocketFile::prepare(int socketType, const std::optional<std::string>& group) {
  if (group) {
    auto gid = lookUpGroup(*group);
    if (!gid) return gid.error();
    group_ = *gid;
  }
  const std::string parent = parentOf(path_);
  struct stat st {};
  if (::stat(parent.c_str(), &st) != 0) {
    return Status::notFound(
        fmt::format("cannot create socket {}: directory {} does not exist ({})", path_, parent, std::strerror(errno)));
  }
  if (!S_ISDIR(st.st_mode)) {
    return Status::invalidArgument(fmt::format("cannot create socket {}: {} is not a directory", path_, parent));
  }
  if (::lstat(path_.c_str(), &st) != 0) {
    if (errno == ENOENT) return Status::ok();
    return Status::ioError(fmt::format("cannot stat {}: {}", path_, std::strerror(errno)));
  }
  if (!S_ISSOCK(st.st_mode)) {
    return Status::invalidArgument(fmt::format("{} exists and is not a socket; refusing to remove it", path_));
  }
  auto live = inUse(path_, socketType);
  if (!live) return live.error();
  if (*live) {
    return Status::unavailable(
        fmt::format("{} is in use: another process is listening on it (another kinship?)", path_));
  }
  if (::unlink(path_.c_str()) != 0 && errno != ENOENT) {
    return Status::ioError(fmt::format("cannot remove stale socket {}: {}", path_, std::strerror(errno)));
  }
  log::info("unix", "removed stale socket {} left by an earlier run", path_);
  return Status::ok();
}

void UnixSocketFile::restrictBeforeBind(int fd, mode_t mode) {
  // Best effort: finishBind() sets the mode in any case.
  (void)::fchmod(fd, mode);
}

Status UnixSocketFile::finishBind(mode_t mode) {
  struct stat st {};
  if (::lstat(path_.c_str(), &st) != 0) {
    return Status::ioError(fmt::format("cannot stat {} after bind: {}", path_, std::strerror(errno)));
  }
  bound_ = true;
  device_ = st.st_dev;
  inode_ = st.st_ino;
  // bind() applied the umask; set the mode asked for exactly.
  if (::chmod(path_.c_str(), mode) != 0) {
    return Status::ioError(fmt::format("cannot set socket_mode {:04o} on {}: {}", mode, path_, std::strerror(errno)));
  }
  if (group_ && ::lchown(path_.c_str(), static_cast<uid_t>(-1), *group_) != 0) {
    return Status::ioError(
        fmt::format("cannot give {} to group id {} (socket_group): {}", path_, *group_, std::strerror(errno)));
  }
  return Status::ok();
}

void UnixSocketFile::remove() {
  if (!bound_) return;
  bound_ = false;
  struct stat st {};
  // Someone may have replaced it (a second kinship after ours was declared
  // stale, an operator): only our own file goes.
  if (::lstat(path_.c_str(), &st) == 0 && st.st_dev == device_ && st.st_ino == inode_) {
    ::unlink(path_.c_str());
  }
}

}  // namespace kinship::inputs
