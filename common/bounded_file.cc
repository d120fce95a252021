#include "common/bounded_file.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

namespace kinship {

Result<std::string> readFileAtMost(const std::string& path, std::size_t maxBytes) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY);
  if (fd < 0) {
    const int error = errno;
    std::string message = std::string("cannot open: ") + std::strerror(error);
    return fail(error == ENOENT ? Status::notFound(std::move(message)) : Status::ioError(std::move(message)));
  }
  // Grown as it fills, never past one byte over the bound (which tells a
  // file at the bound from a longer one): a buffer of the whole bound up
  // front was the daemon's largest allocation at start (16 MiB for the
  // config, zero-filled, so counted in its peak RSS however small the file).
  const std::size_t limit = maxBytes + 1;
  std::string data(std::min<std::size_t>(limit, 64 * 1024), '\0');
  std::size_t used = 0;
  for (;;) {
    if (used == data.size()) {
      if (data.size() == limit) break;
      data.resize(std::min(limit, data.size() * 2));
    }
    const ssize_t n = ::read(fd, data.data() + used, data.size() - used);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      const int error = errno;
      ::close(fd);
      return fail(Status::ioError(std::string("cannot read: ") + std::strerror(error)));
    }
    if (n == 0) break;
    used += static_cast<std::size_t>(n);
  }
  ::close(fd);
  if (used > maxBytes) {
    return fail(Status::invalidArgument("larger than " + std::to_string(maxBytes) + " bytes"));
  }
  data.resize(used);
  return data;
}

}  // namespace kinship
