#include "inputs/file/file_checkpoint.h"

#include <gtest/gtest.h>

using namespace kinship::inputs;

namespace {

const std::string kHead = "{\"time\":\"2026-01-01T00:00:00Z\",\"service\":\"checkout\",\"msg\":\"hello\"}";

FileCheckpoint saved(uint64_t offset) {
  return {{1, 2}, kHead.substr(0, kFingerprintBytes), "/var/log/app.log", offset};
}

TEST(FileCheckpointTest, SameFileResumesAtItsCheckpoint) {
  EXPECT_EQ(resumeOffset(saved(1000), kHead.substr(0, kFingerprintBytes), 5000), 1000u);
  EXPECT_EQ(resumeOffset(saved(5000), kHead.substr(0, kFingerprintBytes), 5000), 5000u) << "read to its end";
}

TEST(FileCheckpointTest, InodeReusedByAnotherFileIsNotResumed) {
  std::string other = "{\"time\":\"2026-02-02T00:00:00Z\",\"service\":\"payments\",\"msg\":\"bye\"}";
  EXPECT_EQ(resumeOffset(saved(1000), other.substr(0, kFingerprintBytes), 5000), std::nullopt);
}

TEST(FileCheckpointTest, ShortFingerprintMatchesAFileThatGrew) {
  FileCheckpoint s{{1, 2}, "{\"a\":1}\n", "/x", 8};
  EXPECT_EQ(resumeOffset(s, "{\"a\":1}\n{\"b\":2}\n", 16), 8u);
  EXPECT_EQ(resumeOffset(s, "{\"c\":3}\n{\"b\":2}\n", 16), std::nullopt);
}

TEST(FileCheckpointTest, FileShorterThanItsCheckpointWasTruncatedAndStartsAtZero) {
  EXPECT_EQ(resumeOffset(saved(1000), kHead.substr(0, 10), 10), 0u);
  EXPECT_EQ(resumeOffset(saved(1000), "", 0), 0u);
}

}  // namespace
