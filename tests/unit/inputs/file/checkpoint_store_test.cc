#include "inputs/file/checkpoint_store.h"

#include <sys/stat.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <cerrno>
#include <cstdio>
#include <filesystem>
#include <functional>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "tests/support/fault_env.h"

using namespace kinship::inputs;
using kinship::Status;
using kinship::testing::FaultEnv;

namespace {

class CheckpointStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/kinship-ckpt-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
  }
  void TearDown() override {
    std::error_code ec;
    std::filesystem::permissions(dir_ + "/locked", std::filesystem::perms::owner_all, ec);
    std::filesystem::remove_all(dir_, ec);
  }
  static void writeFile(const std::string& path, const std::string& content) {
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out << content;
  }
  static std::string readFile(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
  }

  std::string dir_;
};

std::vector<FileCheckpoint> sample() {
  std::string binaryHead;
  for (int i = 0; i < 64; ++i) binaryHead.push_back(static_cast<char>(i * 5));
  return {
      {{2049, 131074}, binaryHead, "/var/log/app.log", 52311, binaryHead.substr(3) + "\n"},
      {{7, 9}, "short", "/var/log/we\"ird\\name\n\x01" "café.log", 5, "short"},
      {{1, 2}, "", "/var/log/empty.log", 0, ""},
  };
}

TEST_F(CheckpointStoreTest, RoundTrip) {
  CheckpointStore store(dir_ + "/a/b/checkpoints", "app.file_0");
  ASSERT_TRUE(store.prepare());
  EXPECT_EQ(store.path(), dir_ + "/a/b/checkpoints/app.file_0.json");
  auto empty = store.load();
  ASSERT_TRUE(empty.has_value()) << empty.error().message();
  EXPECT_TRUE(empty->empty()) << "no file yet: no checkpoints";

  auto files = sample();
  ASSERT_TRUE(store.save(files));
  auto loaded = store.load();
  ASSERT_TRUE(loaded.has_value()) << loaded.error().message();
  ASSERT_EQ(loaded->size(), files.size());
  for (size_t i = 0; i < files.size(); ++i) {
    EXPECT_EQ((*loaded)[i].identity, files[i].identity);
    EXPECT_EQ((*loaded)[i].fingerprint, files[i].fingerprint);
    EXPECT_EQ((*loaded)[i].path, files[i].path);
    EXPECT_EQ((*loaded)[i].offset, files[i].offset);
    EXPECT_EQ((*loaded)[i].tail, files[i].tail);
  }
  EXPECT_FALSE(std::filesystem::exists(store.path() + ".tmp"));

  // A second save replaces the first entirely.
  ASSERT_TRUE(store.save({files[0]}));
  loaded = store.load();
  ASSERT_TRUE(loaded.has_value());
  EXPECT_EQ(loaded->size(), 1u);
}

// A disk that fills or fails at any step of a save: the save reports it,
// the file saved before is what a load reads, no temporary file is left,
// and the next save, on a healthy disk, works.
TEST_F(CheckpointStoreTest, ASaveThatFailsLeavesThePreviousFileIntact) {
  struct Fault {
    const char* what;
    std::function<void(FaultEnv&)> inject;
    const char* says;
  };
  const std::vector<Fault> faults = {
      {"full disk partway through the file", [](FaultEnv& env) { env.failAppend(ENOSPC, 20); }, "No space left"},
      {"fsync of the file", [](FaultEnv& env) { env.failSync(EIO); }, "Input/output error"},
      {"creating the temporary file", [](FaultEnv& env) { env.failOpenWritable(ENOSPC); }, "No space left"},
      {"emptying a leftover", [](FaultEnv& env) { env.failTruncate(EIO); }, "Input/output error"},
      {"rename over the file", [](FaultEnv& env) { env.failRename(EIO); }, "Input/output error"},
  };
  auto files = sample();
  for (const Fault& fault : faults) {
    SCOPED_TRACE(fault.what);
    FaultEnv env;
    CheckpointStore store(dir_, "app.file_0", env);
    ASSERT_TRUE(store.prepare());
    ASSERT_TRUE(store.save(files));
    const std::string before = readFile(store.path());

    fault.inject(env);
    Status failed = store.save({files[1]});
    ASSERT_FALSE(failed);
    EXPECT_EQ(failed.code(), Status::Code::kIoError);
    EXPECT_NE(failed.message().find(fault.says), std::string::npos) << failed.message();
    EXPECT_EQ(readFile(store.path()), before);
    EXPECT_FALSE(std::filesystem::exists(store.path() + ".tmp"));
    auto loaded = store.load();
    ASSERT_TRUE(loaded.has_value()) << loaded.error().message();
    EXPECT_EQ(loaded->size(), files.size());

    ASSERT_TRUE(store.save({files[1]}));
    loaded = store.load();
    ASSERT_TRUE(loaded.has_value());
    ASSERT_EQ(loaded->size(), 1u);
    EXPECT_EQ((*loaded)[0].fingerprint, "short");
  }
}

// The rename is done but the directory's fsync failed: the new file is in
// place, but a power loss could still bring the old one back, so the save
// is an error (the file input saves again at its next tick).
TEST_F(CheckpointStoreTest, AFailedDirectorySyncIsAnError) {
  FaultEnv env;
  CheckpointStore store(dir_, "app.file_0", env);
  ASSERT_TRUE(store.prepare());
  env.failSyncDir(EIO);
  Status s = store.save(sample());
  ASSERT_FALSE(s);
  EXPECT_NE(s.message().find(dir_), std::string::npos) << s.message();
  ASSERT_TRUE(store.save(sample()));
  EXPECT_EQ(env.dirSyncs.load(), 2);
}

// A checkpoint file that cannot be read is an error (the file input then
// starts its files as start_at says), not an empty list and not a crash.
TEST_F(CheckpointStoreTest, AReadErrorIsAnErrorNamingTheFile) {
  FaultEnv env;
  CheckpointStore store(dir_, "app.file_0", env);
  ASSERT_TRUE(store.prepare());
  ASSERT_TRUE(store.save(sample()));
  env.failRead(EIO);
  auto loaded = store.load();
  ASSERT_FALSE(loaded.has_value());
  EXPECT_EQ(loaded.error().code(), Status::Code::kIoError);
  EXPECT_NE(loaded.error().message().find(store.path()), std::string::npos) << loaded.error().message();
  EXPECT_NE(loaded.error().message().find("Input/output error"), std::string::npos) << loaded.error().message();
  env.failOpenReadable(EACCES);
  loaded = store.load();
  ASSERT_FALSE(loaded.has_value());
  EXPECT_NE(loaded.error().message().find("Permission denied"), std::string::npos) << loaded.error().message();
  EXPECT_TRUE(store.load().has_value());
}

TEST_F(CheckpointStoreTest, PathThatIsNotUtf8StillWritesValidJson) {
  CheckpointStore store(dir_, "app.file_0");
  ASSERT_TRUE(store.prepare());
  ASSERT_TRUE(store.save({{{1, 2}, "x", std::string("/log/\xff\xfe.log"), 10, ""}}));
  auto loaded = store.load();
  ASSERT_TRUE(loaded.has_value()) << loaded.error().message();
  ASSERT_EQ(loaded->size(), 1u);
  EXPECT_EQ((*loaded)[0].offset, 10u);
}

TEST_F(CheckpointStoreTest, LeftoverTmpFromACrashIsIgnoredAndReplaced) {
  CheckpointStore store(dir_, "app.file_0");
  ASSERT_TRUE(store.prepare());
  auto files = sample();
  ASSERT_TRUE(store.save(files));
  // A crash during a save leaves a half-written temporary file.
  writeFile(store.path() + ".tmp", "{\"version\":1,\"files\":[{\"path\":\"/x\",\"dev");
  auto loaded = store.load();
  ASSERT_TRUE(loaded.has_value()) << loaded.error().message();
  EXPECT_EQ(loaded->size(), files.size());
  ASSERT_TRUE(store.save({files[1]}));
  EXPECT_FALSE(std::filesystem::exists(store.path() + ".tmp"));
  loaded = store.load();
  ASSERT_TRUE(loaded.has_value());
  ASSERT_EQ(loaded->size(), 1u);
  EXPECT_EQ((*loaded)[0].fingerprint, "short");
}

TEST_F(CheckpointStoreTest, CorruptFilesAreErrorsNotCrashes) {
  CheckpointStore store(dir_, "app.file_0");
  ASSERT_TRUE(store.prepare());
  const std::string bad[] = {
      "",
      "{",
      "not json at all",
      "[]",
      "{\"version\":2,\"files\":[]}",
      "{\"version\":1}",
      "{\"version\":1,\"files\":{}}",
      "{\"version\":1,\"files\":[{\"path\":\"/x\",\"device\":1,\"inode\":2,\"offset\":-3,"
      "\"fingerprint_bytes\":0,\"fingerprint\":\"\"}]}",
      "{\"version\":1,\"files\":[{\"path\":\"/x\",\"device\":1,\"inode\":2,\"offset\":3,"
      "\"fingerprint_bytes\":2,\"fingerprint\":\"zz\"}]}",
      "{\"version\":1,\"files\":[{\"path\":\"/x\",\"device\":1,\"inode\":2,\"offset\":3,"
      "\"fingerprint_bytes\":2,\"fingerprint\":\"abc\"}]}",
      "{\"version\":1,\"files\":[{\"path\":\"/x\",\"device\":1,\"inode\":2,\"offset\":3,"
      "\"fingerprint_bytes\":1,\"fingerprint\":\"abcd\"}]}",
      "{\"version\":1,\"files\":[{\"path\":\"/x\",\"inode\":2,\"offset\":3,"
      "\"fingerprint_bytes\":0,\"fingerprint\":\"\"}]}",
      std::string("{\"version\":1,\"files\":[\xff]}"),
      // A tail that is not hex, longer than kTailBytes, longer than the
      // offset, or not a string.
      "{\"version\":1,\"files\":[{\"path\":\"/x\",\"device\":1,\"inode\":2,\"offset\":3,"
      "\"fingerprint_bytes\":0,\"fingerprint\":\"\",\"tail\":\"zz\"}]}",
      "{\"version\":1,\"files\":[{\"path\":\"/x\",\"device\":1,\"inode\":2,\"offset\":300,"
      "\"fingerprint_bytes\":0,\"fingerprint\":\"\",\"tail\":\"" + std::string(130, 'a') + "\"}]}",
      "{\"version\":1,\"files\":[{\"path\":\"/x\",\"device\":1,\"inode\":2,\"offset\":1,"
      "\"fingerprint_bytes\":0,\"fingerprint\":\"\",\"tail\":\"6162\"}]}",
      "{\"version\":1,\"files\":[{\"path\":\"/x\",\"device\":1,\"inode\":2,\"offset\":3,"
      "\"fingerprint_bytes\":0,\"fingerprint\":\"\",\"tail\":7}]}",
  };
  for (const auto& text : bad) {
    writeFile(store.path(), text);
    auto loaded = store.load();
    EXPECT_FALSE(loaded.has_value()) << "accepted: " << text;
    if (!loaded) {
      EXPECT_NE(loaded.error().message().find(store.path()), std::string::npos);
    }
  }
  // A valid save afterwards repairs it.
  ASSERT_TRUE(store.save(sample()));
  EXPECT_TRUE(store.load().has_value());
}

TEST_F(CheckpointStoreTest, WrittenFileIsReadableJsonWithTheDocumentedFields) {
  CheckpointStore store(dir_, "app.file_0");
  ASSERT_TRUE(store.prepare());
  ASSERT_TRUE(store.save({{{2049, 131074}, "ab", "/var/log/app.log", 52311, "yz\n"}}));
  std::string text = readFile(store.path());
  for (const char* field : {"\"version\":1", "\"device\":2049", "\"inode\":131074", "\"offset\":52311",
                            "\"fingerprint_bytes\":2", "\"fingerprint\":\"6162\"", "\"path\":\"/var/log/app.log\"",
                            "\"tail\":\"797a0a\""}) {
    EXPECT_NE(text.find(field), std::string::npos) << field << " in " << text;
  }
}

// A file written before the tail was kept loads, with no tail: only the
// fingerprint is checked for it.
TEST_F(CheckpointStoreTest, AFileWithoutTailsFromAnOlderVersionLoads) {
  CheckpointStore store(dir_, "app.file_0");
  ASSERT_TRUE(store.prepare());
  writeFile(store.path(),
            "{\"version\":1,\"files\":[\n{\"path\":\"/var/log/app.log\",\"device\":2049,\"inode\":131074,"
            "\"offset\":52311,\"fingerprint_bytes\":2,\"fingerprint\":\"6162\"}\n]}\n");
  auto loaded = store.load();
  ASSERT_TRUE(loaded.has_value()) << loaded.error().message();
  ASSERT_EQ(loaded->size(), 1u);
  EXPECT_EQ((*loaded)[0].offset, 52311u);
  EXPECT_EQ((*loaded)[0].fingerprint, "ab");
  EXPECT_EQ((*loaded)[0].tail, "");
}

std::string modeOf(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) return "<missing>";
  char text[8];
  std::snprintf(text, sizeof(text), "%04o", st.st_mode & 07777);
  return text;
}

// A checkpoint holds the first 64 bytes of a log: for the owner only,
// whatever the umask (022 here would leave it readable by all).
TEST_F(CheckpointStoreTest, FilesAndNewDirectoriesAreForTheOwnerOnly) {
  const mode_t old = ::umask(022);
  CheckpointStore store(dir_ + "/data/checkpoints", "app.file_0");
  Status prepared = store.prepare();
  Status saved = store.save(sample());
  ::umask(old);
  ASSERT_TRUE(prepared) << prepared.message();
  ASSERT_TRUE(saved) << saved.message();
  EXPECT_EQ(modeOf(dir_ + "/data"), "0700");
  EXPECT_EQ(modeOf(dir_ + "/data/checkpoints"), "0700");
  EXPECT_EQ(modeOf(store.path()), "0600");
}

// A checkpoint file written by an older kinship (0644), with a temporary
// file of a crash next to it, becomes 0600 at the first save. Directories
// that exist keep their mode: the operator may have given them to a group.
TEST_F(CheckpointStoreTest, OldFilesAreReplacedOwnerOnlyAndExistingDirectoriesKeepTheirMode) {
  const std::string dir = dir_ + "/checkpoints";
  ASSERT_EQ(::mkdir(dir.c_str(), 0750), 0);
  CheckpointStore store(dir, "app.file_0");
  writeFile(store.path(), "{\"version\":1,\"files\":[]}");
  writeFile(store.path() + ".tmp", "partial");
  ASSERT_EQ(::chmod(store.path().c_str(), 0644), 0);
  ASSERT_EQ(::chmod((store.path() + ".tmp").c_str(), 0644), 0);
  const mode_t old = ::umask(022);
  Status prepared = store.prepare();
  Status saved = store.save(sample());
  ::umask(old);
  ASSERT_TRUE(prepared) << prepared.message();
  ASSERT_TRUE(saved) << saved.message();
  EXPECT_EQ(modeOf(dir), "0750");
  EXPECT_EQ(modeOf(store.path()), "0600");
}

TEST_F(CheckpointStoreTest, UnwritableDirectoryIsAnErrorNamingIt) {
  if (::geteuid() == 0) GTEST_SKIP() << "root writes anywhere";
  std::string locked = dir_ + "/locked";
  ASSERT_EQ(::mkdir(locked.c_str(), 0500), 0);
  CheckpointStore inside(locked, "app.file_0");
  Status s = inside.prepare();
  ASSERT_FALSE(s);
  EXPECT_NE(s.message().find(locked), std::string::npos) << s.message();
  CheckpointStore below(locked + "/checkpoints", "app.file_0");
  s = below.prepare();
  ASSERT_FALSE(s);
  EXPECT_NE(s.message().find(locked), std::string::npos) << s.message();
}

TEST_F(CheckpointStoreTest, DirectoryInPlaceOfParentIsAFileIsAnError) {
  writeFile(dir_ + "/file", "x");
  CheckpointStore store(dir_ + "/file/checkpoints", "app.file_0");
  Status s = store.prepare();
  ASSERT_FALSE(s);
  EXPECT_NE(s.message().find(dir_ + "/file/checkpoints"), std::string::npos) << s.message();
}

}  // namespace
