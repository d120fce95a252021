#include "sinks/kinesis/dead_letter_file.h"

#include <signal.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <sys/stat.h>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <simdjson.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "tests/support/fault_env.h"

using namespace kinship::kinesis;
using kinship::Clock;
using kinship::Status;
using ::testing::HasSubstr;

namespace {

using namespace std::chrono;

// Wall time set by hand; steady time is not used by the dead-letter file.
class FakeClock final : public Clock {
 public:
  TimePoint now() const override { return TimePoint{}; }
  system_clock::time_point wallNow() const override { return wall_; }
  void setWall(system_clock::time_point t) { wall_ = t; }

 private:
  system_clock::time_point wall_ = sys_days{year{2026} / November / 23} + hours{14} + milliseconds{123};
};

std::string readFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

void writeFile(const std::string& path, const std::string& content) {
  std::ofstream(path, std::ios::binary) << content;
}

std::vector<std::string> lines(const std::string& text) {
  std::vector<std::string> out;
  size_t start = 0;
  for (size_t nl; (nl = text.find('\n', start)) != std::string::npos; start = nl + 1) {
    out.push_back(text.substr(start, nl - start));
  }
  EXPECT_EQ(start, text.size()) << "file does not end with a newline";
  return out;
}

std::string base64Decode(std::string_view text) {
  std::string out(3 * text.size() / 4, '\0');
  int n = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                          reinterpret_cast<const unsigned char*>(text.data()), static_cast<int>(text.size()));
  EXPECT_GE(n, 0) << "bad base64";
  // EVP_DecodeBlock counts the bytes '=' padding stands for.
  size_t padding = 0;
  if (!text.empty() && text.back() == '=') ++padding;
  if (text.size() > 1 && text[text.size() - 2] == '=') ++padding;
  out.resize(static_cast<size_t>(n) - padding);
  return out;
}

// One parsed dead-letter line.
struct Parsed {
  std::string time, reason, error, pipeline, partitionKey, data;
};

Parsed parseLine(const std::string& line) {
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  Parsed p;
  auto error = parser.parse(line).get(doc);
  EXPECT_EQ(error, simdjson::SUCCESS) << "not JSON: " << line;
  if (error) return p;
  auto field = [&](const char* name) {
    std::string_view value;
    EXPECT_EQ(doc[name].get(value), simdjson::SUCCESS) << "missing " << name << " in " << line;
    return std::string(value);
  };
  p.time = field("time");
  p.reason = field("reason");
  p.error = field("error");
  p.pipeline = field("pipeline");
  p.partitionKey = field("partition_key");
  p.data = base64Decode(field("data"));
  return p;
}

class DeadLetterFileTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string pattern = (std::filesystem::temp_directory_path() / "kinship-dlq-XXXXXX").string();
    ASSERT_NE(::mkdtemp(pattern.data()), nullptr);
    dir_ = pattern;
    path_ = dir_ + "/dead-letters.jsonl";
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  std::unique_ptr<DeadLetterFile> openOk(uint64_t maxBytes = 100 * 1024 * 1024) {
    auto file = DeadLetterFile::open({.path = path_, .maxBytes = maxBytes}, clock_);
    EXPECT_TRUE(file.has_value()) << file.error().message();
    return file ? std::move(*file) : nullptr;
  }

  FakeClock clock_;
  std::string dir_;
  std::string path_;
};

TEST_F(DeadLetterFileTest, WritesOneExactJsonLine) {
  auto file = openOk();
  ASSERT_TRUE(file);
  EXPECT_TRUE(file->enabled());
  Status s = file->write("too_large", "1048600 bytes over max_record_size (1048576)", "app", "user-42", "hello");
  ASSERT_TRUE(s.isOk()) << s.message();
  std::string expected =
      R"({"time":"2026-11-23T14:00:00.123Z","reason":"too_large",)"
      R"json("error":"1048600 bytes over max_record_size (1048576)","pipeline":"app","partition_key":"user-42",)json"
      R"("data":"aGVsbG8="})"
      "\n";
  EXPECT_EQ(readFile(path_), expected);
  EXPECT_EQ(file->bytesWritten(), expected.size());
}

TEST_F(DeadLetterFileTest, TimeIsUtcWithMilliseconds) {
  auto file = openOk();
  ASSERT_TRUE(file);
  clock_.setWall(sys_days{year{1999} / December / 31} + hours{23} + minutes{59} + seconds{59} +
                 milliseconds{999} + microseconds{999});  // sub-millisecond part is cut, not rounded
  ASSERT_TRUE(file->write("r", "", "p", "k", "").isOk());
  clock_.setWall(sys_days{year{2026} / January / 2} + hours{3} + minutes{4} + seconds{5});
  ASSERT_TRUE(file->write("r", "", "p", "k", "").isOk());
  auto got = lines(readFile(path_));
  ASSERT_EQ(got.size(), 2u);
  EXPECT_EQ(parseLine(got[0]).time, "1999-12-31T23:59:59.999Z");
  EXPECT_EQ(parseLine(got[1]).time, "2026-01-02T03:04:05.000Z");
}

TEST_F(DeadLetterFileTest, EscapesQuotesControlCharactersAndKeepsUtf8) {
  auto file = openOk();
  ASSERT_TRUE(file);
  // quote, backslash, newline, tab, 0x01, 0x1f, é, 日本, an emoji (4 bytes)
  std::string key = "a\"b\\c\nd\te\x01\x1f \xc3\xa9 \xe6\x97\xa5\xe6\x9c\xac \xf0\x9f\x98\x80";
  std::string error = "bad \"key\"\r\n";
  ASSERT_TRUE(file->write("invalid", error, "app", key, "x").isOk());
  std::string text = readFile(path_);
  EXPECT_THAT(text, HasSubstr(R"("partition_key":"a\"b\\c\nd\te\u0001\u001f )"
                              "\xc3\xa9 \xe6\x97\xa5\xe6\x9c\xac \xf0\x9f\x98\x80\""));
  EXPECT_THAT(text, HasSubstr(R"("error":"bad \"key\"\r\n")"));
  auto got = lines(text);
  ASSERT_EQ(got.size(), 1u);  // the newlines inside were escaped
  Parsed p = parseLine(got[0]);
  EXPECT_EQ(p.partitionKey, key);
  EXPECT_EQ(p.error, error);
}

TEST_F(DeadLetterFileTest, InvalidUtf8BecomesReplacementCharacterSoTheLineStaysJson) {
  auto file = openOk();
  ASSERT_TRUE(file);
  // lone 0xff, an overlong '/', a UTF-16 surrogate, a sequence cut short at the end
  std::string key = std::string("a\xff") + "b\xc0\xaf" + "c\xed\xa0\x80" + "d\xe6\x97";
  ASSERT_TRUE(file->write("invalid", "", "app", key, "x").isOk());
  std::string text = readFile(path_);
  EXPECT_THAT(text, HasSubstr(R"("partition_key":"a\ufffdb\ufffd\ufffdc\ufffd\ufffd\ufffdd\ufffd\ufffd")"));
  auto got = lines(text);
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(parseLine(got[0]).partitionKey,
            "a\xef\xbf\xbd" "b\xef\xbf\xbd\xef\xbf\xbd" "c\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd"
            "d\xef\xbf\xbd\xef\xbf\xbd");
}

TEST_F(DeadLetterFileTest, BinaryDataRoundTripsThroughBase64) {
  auto file = openOk();
  ASSERT_TRUE(file);
  std::string all;
  for (int i = 0; i < 256; ++i) all.push_back(static_cast<char>(i));
  // Lengths 0..3 cover every padding case; 256 bytes cover every byte value.
  std::vector<std::string> payloads = {"", std::string(1, '\0'), "\xff\xfe", "\x00\x80\xff", all,
                                       std::string(100000, '\x9c')};
  for (const auto& data : payloads) ASSERT_TRUE(file->write("invalid", "", "app", "k", data).isOk());
  auto got = lines(readFile(path_));
  ASSERT_EQ(got.size(), payloads.size());
  for (size_t i = 0; i < payloads.size(); ++i) {
    EXPECT_EQ(parseLine(got[i]).data, payloads[i]) << "payload " << i;
  }
}

TEST_F(DeadLetterFileTest, AppendsToAnExistingFileAndCountsItsSize) {
  const std::string existing = "{\"earlier\":\"line\"}\n";
  writeFile(path_, existing);
  auto file = openOk();
  ASSERT_TRUE(file);
  EXPECT_EQ(file->bytesWritten(), existing.size());
  ASSERT_TRUE(file->write("too_large", "e", "app", "k1", "one").isOk());
  ASSERT_TRUE(file->write("invalid", "e", "app", "k2", "two").isOk());
  std::string text = readFile(path_);
  EXPECT_EQ(file->bytesWritten(), text.size());
  ASSERT_TRUE(text.starts_with(existing));
  auto got = lines(text);
  ASSERT_EQ(got.size(), 3u);
  EXPECT_EQ(parseLine(got[1]).partitionKey, "k1");
  EXPECT_EQ(parseLine(got[2]).reason, "invalid");
  EXPECT_EQ(parseLine(got[2]).data, "two");
}

TEST_F(DeadLetterFileTest, CapReachedRefusesTheRecordAndWritesNothing) {
  // Size one line exactly, then cap the file at one line.
  uint64_t lineSize;
  {
    auto probe = openOk();
    ASSERT_TRUE(probe);
    ASSERT_TRUE(probe->write("too_large", "e", "app", "k", "data").isOk());
    lineSize = probe->bytesWritten();
    std::filesystem::remove(path_);
  }
  auto file = openOk(lineSize);
  ASSERT_TRUE(file);
  ASSERT_TRUE(file->write("too_large", "e", "app", "k", "data").isOk());  // exactly at the cap: fits
  EXPECT_EQ(file->bytesWritten(), lineSize);
  Status s = file->write("too_large", "e", "app", "k", "data");
  EXPECT_FALSE(s.isOk());
  EXPECT_TRUE(DeadLetterFile::isFull(s));
  EXPECT_EQ(s.code(), Status::Code::kUnavailable);
  EXPECT_THAT(s.message(), HasSubstr(path_));
  EXPECT_THAT(s.message(), HasSubstr("full"));
  EXPECT_EQ(std::filesystem::file_size(path_), lineSize);
  EXPECT_EQ(file->bytesWritten(), lineSize);
}

TEST_F(DeadLetterFileTest, CapCountsWhatWasThereBefore) {
  writeFile(path_, std::string(990, 'x') + "\n");
  auto file = openOk(1000);
  ASSERT_TRUE(file);
  Status s = file->write("too_large", "e", "app", "k", "data");
  EXPECT_TRUE(DeadLetterFile::isFull(s)) << s.message();
  EXPECT_EQ(std::filesystem::file_size(path_), 991u);
}

TEST_F(DeadLetterFileTest, CapFollowsAFileTruncatedBehindItsBack) {
  writeFile(path_, std::string(990, 'x') + "\n");
  auto file = openOk(1000);
  ASSERT_TRUE(file);
  std::filesystem::resize_file(path_, 0);  // e.g. rotated by copy-truncate
  Status s = file->write("too_large", "e", "app", "k", "data");
  EXPECT_TRUE(s.isOk()) << s.message();
  EXPECT_EQ(file->bytesWritten(), std::filesystem::file_size(path_));
}

// Dead letters are records: for the owner only, whatever the umask.
TEST_F(DeadLetterFileTest, CreatesTheFileWithMode0600) {
  mode_t old = ::umask(022);
  auto file = openOk();
  ::umask(old);
  ASSERT_TRUE(file);
  struct stat st {};
  ASSERT_EQ(::stat(path_.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
}

// One the operator created (e.g. for a group) keeps its mode.
TEST_F(DeadLetterFileTest, AFileThatExistsKeepsItsMode) {
  writeFile(path_, "");
  ASSERT_EQ(::chmod(path_.c_str(), 0640), 0);
  ASSERT_TRUE(openOk());
  struct stat st {};
  ASSERT_EQ(::stat(path_.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0640u);
}

TEST_F(DeadLetterFileTest, MissingDirectoryIsAnErrorNamingIt) {
  std::string missing = dir_ + "/no-such-dir";
  auto file = DeadLetterFile::open({.path = missing + "/dlq.jsonl"}, clock_);
  ASSERT_FALSE(file.has_value());
  EXPECT_EQ(file.error().code(), Status::Code::kNotFound);
  EXPECT_THAT(file.error().message(), HasSubstr("'" + missing + "'"));
  EXPECT_THAT(file.error().message(), HasSubstr("does not exist"));
  EXPECT_FALSE(std::filesystem::exists(missing));  // not created
}

TEST_F(DeadLetterFileTest, PathThatIsADirectoryIsAnError) {
  auto file = DeadLetterFile::open({.path = dir_}, clock_);
  ASSERT_FALSE(file.has_value());
  EXPECT_THAT(file.error().message(), HasSubstr(dir_));
  EXPECT_THAT(file.error().message(), HasSubstr("is a directory"));
}

TEST_F(DeadLetterFileTest, NonRegularFileIsAnError) {
  auto file = DeadLetterFile::open({.path = "/dev/null"}, clock_);
  ASSERT_FALSE(file.has_value());
  EXPECT_THAT(file.error().message(), HasSubstr("not a regular file"));
}

TEST_F(DeadLetterFileTest, EmptyPathIsDisabled) {
  auto file = DeadLetterFile::open({.path = ""}, clock_);
  ASSERT_TRUE(file.has_value());
  ASSERT_TRUE(*file);
  EXPECT_FALSE((*file)->enabled());
  Status s = (*file)->write("too_large", "e", "app", "k", "data");
  EXPECT_FALSE(s.isOk());
  EXPECT_FALSE(DeadLetterFile::isFull(s));
  EXPECT_EQ(s.code(), Status::Code::kNotFound);
  EXPECT_EQ((*file)->bytesWritten(), 0u);
}

// A write the file system cuts short (here a file size limit; a full disk
// behaves the same way) returns an error and leaves the file as it was, so
// the next line does not glue onto a torn one.
TEST_F(DeadLetterFileTest, FailedWriteIsAnErrorAndIsCutBack) {
  auto file = openOk();
  ASSERT_TRUE(file);
  ASSERT_TRUE(file->write("too_large", "e", "app", "k", "first").isOk());
  const std::string before = readFile(path_);

  struct rlimit saved {};
  ASSERT_EQ(::getrlimit(RLIMIT_FSIZE, &saved), 0);
  struct rlimit limited = saved;
  limited.rlim_cur = before.size() + 10;  // room for 10 bytes of the next line only
  auto oldHandler = ::signal(SIGXFSZ, SIG_IGN);
  ASSERT_EQ(::setrlimit(RLIMIT_FSIZE, &limited), 0);
  Status s = file->write("too_large", "e", "app", "k", std::string(200, 'z'));
  ::setrlimit(RLIMIT_FSIZE, &saved);
  ::signal(SIGXFSZ, oldHandler);

  EXPECT_FALSE(s.isOk());
  EXPECT_EQ(s.code(), Status::Code::kIoError);
  EXPECT_FALSE(DeadLetterFile::isFull(s));
  EXPECT_THAT(s.message(), HasSubstr(path_));
  EXPECT_THAT(s.message(), HasSubstr("too large"));  // strerror(EFBIG): "File too large"
  EXPECT_EQ(readFile(path_), before);
  EXPECT_EQ(file->bytesWritten(), before.size());

  // And it works again once there is room.
  ASSERT_TRUE(file->write("too_large", "e", "app", "k", "second").isOk());
  auto got = lines(readFile(path_));
  ASSERT_EQ(got.size(), 2u);
  EXPECT_EQ(parseLine(got[1]).data, "second");
}

// Through the Env seam: a disk that fills partway through a line.
TEST_F(DeadLetterFileTest, AWriteFailingPartwayLeavesTheFileAsItWasAndTheNextOneWorks) {
  kinship::testing::FaultEnv env;
  auto opened = DeadLetterFile::open({.path = path_}, clock_, env);
  ASSERT_TRUE(opened.has_value()) << opened.error().message();
  auto& file = *opened;
  ASSERT_TRUE(file->write("too_large", "e", "app", "k", "first").isOk());
  const std::string before = readFile(path_);

  env.failAppend(ENOSPC, /*written=*/25);
  Status s = file->write("invalid", "e", "app", "k", "second");
  EXPECT_EQ(s.code(), Status::Code::kIoError);
  EXPECT_FALSE(DeadLetterFile::isFull(s));
  EXPECT_THAT(s.message(), HasSubstr(path_));
  EXPECT_THAT(s.message(), HasSubstr("No space left on device"));
  EXPECT_EQ(readFile(path_), before) << "the torn line is cut back off";
  EXPECT_EQ(file->bytesWritten(), before.size());

  ASSERT_TRUE(file->write("invalid", "e", "app", "k", "third").isOk());
  auto got = lines(readFile(path_));
  ASSERT_EQ(got.size(), 2u);
  EXPECT_EQ(parseLine(got[1]).data, "third");
}

TEST_F(DeadLetterFileTest, ATornLineThatCannotBeCutBackSaysSo) {
  kinship::testing::FaultEnv env;
  auto opened = DeadLetterFile::open({.path = path_}, clock_, env);
  ASSERT_TRUE(opened.has_value()) << opened.error().message();
  env.failAppend(EIO, /*written=*/5);
  env.failTruncate(EIO);
  Status s = (*opened)->write("invalid", "e", "app", "k", "data");
  EXPECT_EQ(s.code(), Status::Code::kIoError);
  EXPECT_THAT(s.message(), HasSubstr("cutting back the torn line failed"));
}

TEST_F(DeadLetterFileTest, AnOpenTheEnvRefusesIsAnErrorNamingTheFile) {
  kinship::testing::FaultEnv env;
  env.failOpenWritable(EACCES);
  auto opened = DeadLetterFile::open({.path = path_}, clock_, env);
  ASSERT_FALSE(opened.has_value());
  EXPECT_THAT(opened.error().message(), HasSubstr("cannot open dead-letter file '" + path_ + "'"));
  EXPECT_THAT(opened.error().message(), HasSubstr("Permission denied"));
}

}  // namespace
