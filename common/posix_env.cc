// The Env of the real operating system: POSIX calls, errno in the message.

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include <fmt/format.h>

#include "common/private_files.h"
#include "common/env.h"

namespace kinship {
namespace {

Status errnoStatus(std::string_view what, const std::string& path, int err) {
  std::string message = fmt::format("{} {}: {}", what, path, std::strerror(err));
  return err == ENOENT ? Status::notFound(std::move(message)) : Status::ioError(std::move(message));
}

class PosixWritableFile final : public WritableFile {
 public:
  PosixWritableFile(int fd, std::string path) : fd_(fd), path_(std::move(path)) {}
  ~PosixWritableFile() override {
    if (fd_ >= 0) ::close(fd_);
  }

  Status append(std::string_view data) override {
    while (!data.empty()) {
      ssize_t n = ::write(fd_, data.data(), data.size());
      if (n < 0) {
        if (errno == EINTR) continue;
        return errnoStatus("write", path_, errno);
      }
      data.remove_prefix(static_cast<size_t>(n));
    }
    return Status::ok();
  }
  Status sync() override {
    // fdatasync: the size is metadata it does flush; times are not needed.
    if (::fdatasync(fd_) != 0) return errnoStatus("fdatasync", path_, errno);
    return Status::ok();
  }
  Status truncate(uint64_t size) override {
    if (::ftruncate(fd_, static_cast<off_t>(size)) != 0) return errnoStatus("ftruncate", path_, errno);
    return Status::ok();
  }
  Status close() override {
    int fd = fd_;
    fd_ = -1;
    if (fd >= 0 && ::close(fd) != 0) return errnoStatus("close", path_, errno);
    return Status::ok();
  }

 private:
  int fd_;
  std::string path_;
};

class PosixOverwritableFile final : public OverwritableFile {
 public:
  PosixOverwritableFile(int fd, std::string path) : fd_(fd), path_(std::move(path)) {}
  ~PosixOverwritableFile() override {
    if (fd_ >= 0) ::close(fd_);
  }

  Status writeAt(uint64_t offset, std::string_view data) override {
    while (!data.empty()) {
      ssize_t n = ::pwrite(fd_, data.data(), data.size(), static_cast<off_t>(offset));
      if (n < 0) {
        if (errno == EINTR) continue;
        return errnoStatus("pwrite", path_, errno);
      }
      data.remove_prefix(static_cast<size_t>(n));
      offset += static_cast<uint64_t>(n);
    }
    return Status::ok();
  }
  Status close() override {
    int fd = fd_;
    fd_ = -1;
    if (fd >= 0 && ::close(fd) != 0) return errnoStatus("close", path_, errno);
    return Status::ok();
  }

 private:
  int fd_;
  std::string path_;
};

class PosixReadableFile final : public ReadableFile {
 public:
  PosixReadableFile(int fd, std::string path) : fd_(fd), path_(std::move(path)) {}
  ~PosixReadableFile() override { ::close(fd_); }

  Result<size_t> read(uint64_t offset, size_t n, char* scratch) override {
    size_t done = 0;
    while (done < n) {
      ssize_t r = ::pread(fd_, scratch + done, n - done, static_cast<off_t>(offset + done));
      if (r < 0) {
        if (errno == EINTR) continue;
        return fail(errnoStatus("pread", path_, errno));
      }
      if (r == 0) break;
      done += static_cast<size_t>(r);
    }
    return done;
  }
  Result<size_t> readSome(uint64_t offset, size_t n, char* scratch) override {
    for (;;) {
      ssize_t r = ::pread(fd_, scratch, n, static_cast<off_t>(offset));
      if (r >= 0) return static_cast<size_t>(r);
      if (errno != EINTR) return fail(errnoStatus("pread", path_, errno));
    }
  }
  Result<uint64_t> size() override {
    struct stat st;
    if (::fstat(fd_, &st) != 0) return fail(errnoStatus("fstat", path_, errno));
    return static_cast<uint64_t>(st.st_size);
  }
  Result<FileInfo> info() override {
    struct stat st;
    if (::fstat(fd_, &st) != 0) return fail(errnoStatus("fstat", path_, errno));
    return FileInfo{st.st_dev, st.st_ino, static_cast<uint64_t>(st.st_size), S_ISREG(st.st_mode)};
  }

 private:
  int fd_;
  std::string path_;
};

class PosixEnv final : public Env {
 public:
  Result<std::unique_ptr<WritableFile>> openWritable(const std::string& path) override {
    int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, kPrivateFileMode);
    if (fd < 0) return fail(errnoStatus("open", path, errno));
    return std::make_unique<PosixWritableFile>(fd, path);
  }
  Result<std::unique_ptr<OverwritableFile>> openOverwritable(const std::string& path) override {
    // Not O_APPEND: on Linux pwrite() to such a file appends whatever the offset.
    int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, kPrivateFileMode);
    if (fd < 0) return fail(errnoStatus("open", path, errno));
    return std::make_unique<PosixOverwritableFile>(fd, path);
  }
  Result<std::unique_ptr<ReadableFile>> openReadable(const std::string& path) override {
    int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return fail(errnoStatus("open", path, errno));
    return std::make_unique<PosixReadableFile>(fd, path);
  }
  Status rename(const std::string& from, const std::string& to) override {
    if (::rename(from.c_str(), to.c_str()) != 0) return errnoStatus("rename", from, errno);
    return Status::ok();
  }
  Status removeFile(const std::string& path) override {
    if (::unlink(path.c_str()) != 0) return errnoStatus("unlink", path, errno);
    return Status::ok();
  }
  Status truncateFile(const std::string& path, uint64_t size) override {
    if (::truncate(path.c_str(), static_cast<off_t>(size)) != 0) return errnoStatus("truncate", path, errno);
    return Status::ok();
  }
  Result<std::vector<std::string>> listDir(const std::string& dir) override {
    DIR* d = ::opendir(dir.c_str());
    if (d == nullptr) return fail(errnoStatus("opendir", dir, errno));
    std::vector<std::string> names;
    errno = 0;
    while (struct dirent* e = ::readdir(d)) {
      std::string_view name = e->d_name;
      if (name != "." && name != "..") names.emplace_back(name);
    }
    int err = errno;
    ::closedir(d);
    if (err != 0) return fail(errnoStatus("readdir", dir, err));
    return names;
  }
  Status createDir(const std::string& dir) override {
    if (::mkdir(dir.c_str(), kPrivateDirMode) != 0 && errno != EEXIST) return errnoStatus("mkdir", dir, errno);
    return Status::ok();
  }
  Status syncDir(const std::string& dir) override {
    int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) return errnoStatus("open", dir, errno);
    int rc = ::fsync(fd);
    int err = errno;
    ::close(fd);
    if (rc != 0) return errnoStatus("fsync", dir, err);
    return Status::ok();
  }
};

}  // namespace

Env& posixEnv() {
  static PosixEnv env;
  return env;
}

}  // namespace kinship
