#include "common/bounded_file.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>

namespace kinship {
namespace {

class BoundedFileTest : public ::testing::Test {
 protected:
  BoundedFileTest() : dir_(std::filesystem::temp_directory_path() / ("kinship-bounded-" + std::to_string(::getpid()))) {
    std::filesystem::create_directories(dir_);
  }
  ~BoundedFileTest() override { std::filesystem::remove_all(dir_); }
  std::string write(const std::string& name, const std::string& content) {
    std::string path = (dir_ / name).string();
    std::ofstream(path, std::ios::binary) << content;
    return path;
  }
  std::filesystem::path dir_;
};

TEST_F(BoundedFileTest, ReadsUpToTheBoundAndRefusesMore) {
  auto exact = readFileAtMost(write("exact", std::string(100, 'a')), 100);
  ASSERT_TRUE(exact) << exact.error().message();
  EXPECT_EQ(*exact, std::string(100, 'a'));
  auto empty = readFileAtMost(write("empty", ""), 100);
  ASSERT_TRUE(empty);
  EXPECT_EQ(*empty, "");
  auto over = readFileAtMost(write("over", std::string(101, 'b')), 100);
  ASSERT_FALSE(over);
  EXPECT_EQ(over.error().code(), Status::Code::kInvalidArgument);
  EXPECT_EQ(over.error().message(), "larger than 100 bytes");
}

TEST_F(BoundedFileTest, AFileLargerThanTheFirstReadsIsReadWholeExactlyUpToTheBound) {
  // The buffer starts at 64 KiB and doubles: sizes around its steps.
  std::string content;
  for (int i = 0; content.size() < 300 * 1024; ++i) content += std::to_string(i) + ",";
  for (size_t size : {size_t{64 * 1024 - 1}, size_t{64 * 1024}, size_t{64 * 1024 + 1}, size_t{131072}, size_t{300000}}) {
    const std::string part = content.substr(0, size);
    auto whole = readFileAtMost(write("big", part), 1 << 20);
    ASSERT_TRUE(whole) << size;
    EXPECT_EQ(*whole, part) << size;
    auto atBound = readFileAtMost(write("big", part), size);
    ASSERT_TRUE(atBound) << size;
    EXPECT_EQ(*atBound, part) << size;
    auto over = readFileAtMost(write("big", part), size - 1);
    ASSERT_FALSE(over) << size;
    EXPECT_EQ(over.error().message(), "larger than " + std::to_string(size - 1) + " bytes");
  }
}

TEST_F(BoundedFileTest, AnEndlessFileStopsAtTheBound) {
  auto zero = readFileAtMost("/dev/zero", 1 << 20);
  ASSERT_FALSE(zero);
  EXPECT_EQ(zero.error().message(), "larger than 1048576 bytes");
}

TEST_F(BoundedFileTest, MissingIsNotFoundAndADirectoryCannotBeRead) {
  auto missing = readFileAtMost((dir_ / "missing").string(), 100);
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().code(), Status::Code::kNotFound);
  EXPECT_EQ(missing.error().message(), "cannot open: No such file or directory");
  auto directory = readFileAtMost(dir_.string(), 100);
  ASSERT_FALSE(directory);
  EXPECT_EQ(directory.error().code(), Status::Code::kIoError);
  EXPECT_EQ(directory.error().message(), "cannot read: Is a directory");
}

}  // namespace
}  // namespace kinship
