#pragma once
// Env: the operating-system file calls of kinship's data (the spool, the
// file inputs' tailers and checkpoints, the dead-letter file), behind an
// interface so that tests can inject ENOSPC, EIO and short writes (see
// tests/support/fault_env.h). posixEnv() is the real one. Directory
// watching (inotify), globbing and locks stay direct system calls: they
// move no data.
//
// Errors: Status::notFound when a file to open or remove does not exist,
// Status::ioError for every other failure, with the path and errno text.
//
// Threading: one Env is shared by many threads (the spool's writer and
// reader, the I/O thread, ...), so its methods must be thread-safe. A
// WritableFile, OverwritableFile or ReadableFile is used by one thread at a
// time.

#include <sys/types.h>

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace kinship {

// A file opened for appending at its end.
class WritableFile {
 public:
  virtual ~WritableFile() = default;
  // Writes all of `data` at the end of the file. On failure some prefix of
  // it may have been written (a short write); the status says why.
  virtual Status append(std::string_view data) = 0;
  // fsync: the bytes appended so far survive a power loss.
  virtual Status sync() = 0;
  // Cuts the file to `size` bytes (used to take back a failed append).
  virtual Status truncate(uint64_t size) = 0;
  virtual Status close() = 0;
};

// A file written in place at explicit offsets (not appended to): the ACKED
// file's two slots.
class OverwritableFile {
 public:
  virtual ~OverwritableFile() = default;
  // Writes all of `data` at `offset`. On failure some prefix of it may have
  // been written (a torn write); the status says why.
  virtual Status writeAt(uint64_t offset, std::string_view data) = 0;
  virtual Status close() = 0;
};

// What the file system says of an open file.
struct FileInfo {
  dev_t device = 0;
  ino_t inode = 0;
  uint64_t size = 0;
  bool regular = false;  // a regular file, not a directory, FIFO or device
};

// A file read at explicit offsets.
class ReadableFile {
 public:
  virtual ~ReadableFile() = default;
  // Reads up to `n` bytes at `offset` into `scratch`; returns how many were
  // read, fewer than `n` only at the end of the file.
  virtual Result<size_t> read(uint64_t offset, size_t n, char* scratch) = 0;
  // One read of up to `n` bytes at `offset`: fewer whenever fewer are there
  // now, 0 at the end. For a file that is still being written (a tailed
  // log), where read() would ask again for bytes that are not there yet.
  virtual Result<size_t> readSome(uint64_t offset, size_t n, char* scratch) = 0;
  virtual Result<uint64_t> size() = 0;
  // Identity, size and type (fstat).
  virtual Result<FileInfo> info() = 0;
};

class Env {
 public:
  virtual ~Env() = default;
  // Creates the file if needed (mode 0600: it holds records); appends go to
  // its end.
  virtual Result<std::unique_ptr<WritableFile>> openWritable(const std::string& path) = 0;
  virtual Result<std::unique_ptr<ReadableFile>> openReadable(const std::string& path) = 0;
  // Creates the file if needed (mode 0600); writes go where they are told.
  virtual Result<std::unique_ptr<OverwritableFile>> openOverwritable(const std::string& path) = 0;
  virtual Status rename(const std::string& from, const std::string& to) = 0;
  virtual Status removeFile(const std::string& path) = 0;
  // Cuts a file that is not open for writing (recovery of a torn tail).
  virtual Status truncateFile(const std::string& path, uint64_t size) = 0;
  // Names (not paths) of the entries of `dir`, without "." and "..".
  virtual Result<std::vector<std::string>> listDir(const std::string& dir) = 0;
  // Creates `dir` (one level, mode 0700) unless it exists.
  virtual Status createDir(const std::string& dir) = 0;
  // fsync of a directory: makes created, renamed and removed names durable.
  virtual Status syncDir(const std::string& dir) = 0;
};

// The real operating system. A process-wide instance; thread-safe.
Env& posixEnv();

// Replaces the file at `path` with `contents` so that a crash leaves the old
// file or the new one, never a mix: writes `tmpPath` (in the same
// directory; a leftover is emptied first), fsyncs it, renames it over
// `path`, fsyncs `directory`. On failure before the rename `tmpPath` is
// removed and `path` is untouched; the status says which step failed.
Status replaceFile(Env& env, const std::string& directory, const std::string& path, const std::string& tmpPath,
                   std::string_view contents);

}  // namespace kinship
