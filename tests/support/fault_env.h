#pragma once
// FaultEnv: the real file system (posixEnv()) plus injected failures and
// fsync counts, for tests of anything that does its file I/O through Env.

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstring>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>

#include "common/env.h"

namespace kinship::testing {

// Wraps posixEnv(). Each fault fires on the next `count` calls of its kind
// (-1: until cleared). Thread-safe.
class FaultEnv final : public Env {
 public:
  struct Fault {
    int count = 0;
    int err = 0;
    bool fire() {
      if (count == 0) return false;
      if (count > 0) --count;
      return true;
    }
  };

  std::atomic<int> fileSyncs{0};
  std::atomic<int> dirSyncs{0};

  // Next appends of at least `minBytes` bytes fail with `err` after writing
  // `written` bytes of the data (`minBytes` > 0: a disk with a few bytes
  // left, enough for a segment header but not for a frame).
  void failAppend(int err, size_t written = 0, int count = 1, size_t minBytes = 0) {
    std::lock_guard lock(mu_);
    append_ = {count, err};
    shortWrite_ = written;
    appendMinBytes_ = minBytes;
  }
  // Next in-place writes (the ACKED file) fail with `err` after writing
  // `written` bytes of the data: a torn write.
  void failWriteAt(int err, size_t written = 0, int count = 1) {
    std::lock_guard lock(mu_);
    writeAt_ = {count, err};
    tornWrite_ = written;
  }
  void failSync(int err, int count = 1) { set(sync_, err, count); }
  void failTruncate(int err, int count = 1) { set(truncate_, err, count); }
  // Next reads (read() and readSome()) fail with `err`.
  void failRead(int err, int count = 1) { set(read_, err, count); }
  // Next fstat()s of open files (size(), info()) fail with `err`.
  void failStat(int err, int count = 1) { set(stat_, err, count); }
  void failRename(int err, int count = 1) { set(rename_, err, count); }
  void failSyncDir(int err, int count = 1) { set(syncDir_, err, count); }
  void failOpenWritable(int err, int count = 1) { set(openWritable_, err, count); }
  void failOpenReadable(int err, int count = 1) { set(openReadable_, err, count); }
  void failRemove(int err, int count = 1) { set(remove_, err, count); }
  void clear() {
    std::lock_guard lock(mu_);
    append_ = sync_ = truncate_ = read_ = stat_ = openWritable_ = openReadable_ = remove_ = writeAt_ = rename_ =
        syncDir_ = Fault{};
    appendMinBytes_ = 0;
  }

  Result<std::unique_ptr<WritableFile>> openWritable(const std::string& path) override {
    if (int err = take(openWritable_)) return fail(errStatus("open", path, err));
    auto f = base_.openWritable(path);
    if (!f) return f;
    return std::unique_ptr<WritableFile>(new Writable(*this, std::move(*f), path));
  }
  Result<std::unique_ptr<OverwritableFile>> openOverwritable(const std::string& path) override {
    if (int err = take(openWritable_)) return fail(errStatus("open", path, err));
    auto f = base_.openOverwritable(path);
    if (!f) return f;
    return std::unique_ptr<OverwritableFile>(new Overwritable(*this, std::move(*f), path));
  }
  Result<std::unique_ptr<ReadableFile>> openReadable(const std::string& path) override {
    if (int err = take(openReadable_)) return fail(errStatus("open", path, err));
    auto f = base_.openReadable(path);
    if (!f) return f;
    return std::unique_ptr<ReadableFile>(new Readable(*this, std::move(*f), path));
  }
  Status rename(const std::string& from, const std::string& to) override {
    if (int err = take(rename_)) return errStatus("rename", from, err);
    return base_.rename(from, to);
  }
  Status removeFile(const std::string& path) override {
    if (int err = take(remove_)) return errStatus("unlink", path, err);
    return base_.removeFile(path);
  }
  Status truncateFile(const std::string& path, uint64_t size) override { return base_.truncateFile(path, size); }
  Result<std::vector<std::string>> listDir(const std::string& dir) override { return base_.listDir(dir); }
  Status createDir(const std::string& dir) override { return base_.createDir(dir); }
  Status syncDir(const std::string& dir) override {
    ++dirSyncs;
    if (int err = take(syncDir_)) return errStatus("fsync", dir, err);
    return base_.syncDir(dir);
  }

 private:
  // As posixEnv() reports it: the call, the path, errno's text.
  static Status errStatus(const char* what, const std::string& path, int err) {
    std::string message = std::string(what) + " " + path + ": " + std::strerror(err);
    return err == ENOENT ? Status::notFound(std::move(message)) : Status::ioError(std::move(message));
  }
  void set(Fault& f, int err, int count) {
    std::lock_guard lock(mu_);
    f = {count, err};
  }
  int take(Fault& f) {
    std::lock_guard lock(mu_);
    return f.fire() ? f.err : 0;
  }

  class Writable final : public WritableFile {
   public:
    Writable(FaultEnv& env, std::unique_ptr<WritableFile> f, std::string path)
        : env_(env), f_(std::move(f)), path_(std::move(path)) {}
    Status append(std::string_view data) override {
      size_t written = 0;
      int err = 0;
      {
        std::lock_guard lock(env_.mu_);
        if (data.size() >= env_.appendMinBytes_ && env_.append_.fire()) {
          err = env_.append_.err;
          written = std::min(env_.shortWrite_, data.size());
        }
      }
      if (err != 0) {
        if (written > 0) (void)f_->append(data.substr(0, written));
        return errStatus("write", path_, err);
      }
      return f_->append(data);
    }
    Status sync() override {
      ++env_.fileSyncs;
      if (int err = env_.take(env_.sync_)) return errStatus("fdatasync", path_, err);
      return f_->sync();
    }
    Status truncate(uint64_t size) override {
      if (int err = env_.take(env_.truncate_)) return errStatus("ftruncate", path_, err);
      return f_->truncate(size);
    }
    Status close() override { return f_->close(); }

   private:
    FaultEnv& env_;
    std::unique_ptr<WritableFile> f_;
    std::string path_;
  };

  class Overwritable final : public OverwritableFile {
   public:
    Overwritable(FaultEnv& env, std::unique_ptr<OverwritableFile> f, std::string path)
        : env_(env), f_(std::move(f)), path_(std::move(path)) {}
    Status writeAt(uint64_t offset, std::string_view data) override {
      size_t written = 0;
      int err = 0;
      {
        std::lock_guard lock(env_.mu_);
        if (env_.writeAt_.fire()) {
          err = env_.writeAt_.err;
          written = std::min(env_.tornWrite_, data.size());
        }
      }
      if (err != 0) {
        if (written > 0) (void)f_->writeAt(offset, data.substr(0, written));
        return errStatus("pwrite", path_, err);
      }
      return f_->writeAt(offset, data);
    }
    Status close() override { return f_->close(); }

   private:
    FaultEnv& env_;
    std::unique_ptr<OverwritableFile> f_;
    std::string path_;
  };

  class Readable final : public ReadableFile {
   public:
    Readable(FaultEnv& env, std::unique_ptr<ReadableFile> f, std::string path)
        : env_(env), f_(std::move(f)), path_(std::move(path)) {}
    Result<size_t> read(uint64_t offset, size_t n, char* scratch) override {
      if (int err = env_.take(env_.read_)) return fail(errStatus("pread", path_, err));
      return f_->read(offset, n, scratch);
    }
    Result<size_t> readSome(uint64_t offset, size_t n, char* scratch) override {
      if (int err = env_.take(env_.read_)) return fail(errStatus("pread", path_, err));
      return f_->readSome(offset, n, scratch);
    }
    Result<uint64_t> size() override {
      if (int err = env_.take(env_.stat_)) return fail(errStatus("fstat", path_, err));
      return f_->size();
    }
    Result<FileInfo> info() override {
      if (int err = env_.take(env_.stat_)) return fail(errStatus("fstat", path_, err));
      return f_->info();
    }

   private:
    FaultEnv& env_;
    std::unique_ptr<ReadableFile> f_;
    std::string path_;
  };

  Env& base_ = posixEnv();
  std::mutex mu_;
  Fault append_, sync_, truncate_, read_, stat_, openWritable_, openReadable_, remove_, writeAt_, rename_, syncDir_;
  size_t shortWrite_ = 0;
  size_t tornWrite_ = 0;
  size_t appendMinBytes_ = 0;
};

}  // namespace kinship::testing
