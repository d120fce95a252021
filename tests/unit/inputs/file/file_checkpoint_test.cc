#include "inputs/file/file_checkpoint.h"

#include <gtest/gtest.h>

using namespace kinship::inputs;
using Reason = ResumePoint::Reason;

namespace {

const std::string kHead = "{\"time\":\"2026-01-01T00:00:00Z\",\"service\":\"checkout\",\"msg\":\"hello\"}";

FileCheckpoint saved(uint64_t offset, std::string tail = "") {
  return {{1, 2}, kHead.substr(0, kFingerprintBytes), "/var/log/app.log", offset, std::move(tail)};
}

std::optional<uint64_t> offsetOf(const std::optional<ResumePoint>& point) {
  return point ? std::optional<uint64_t>(point->offset) : std::nullopt;
}

TEST(FileCheckpointTest, SameFileResumesAtItsCheckpoint) {
  auto point = resumePoint(saved(1000), kHead.substr(0, kFingerprintBytes), "", 5000);
  ASSERT_TRUE(point);
  EXPECT_EQ(point->offset, 1000u);
  EXPECT_EQ(point->reason, Reason::kSameFile);
  EXPECT_EQ(offsetOf(resumePoint(saved(5000), kHead.substr(0, kFingerprintBytes), "", 5000)), 5000u)
      << "read to its end";
}

TEST(FileCheckpointTest, InodeReusedByAnotherFileIsNotResumed) {
  std::string other = "{\"time\":\"2026-02-02T00:00:00Z\",\"service\":\"payments\",\"msg\":\"bye\"}";
  EXPECT_EQ(resumePoint(saved(1000), other.substr(0, kFingerprintBytes), "", 5000), std::nullopt);
  EXPECT_EQ(resumePoint(saved(1000, "line 41\n"), other.substr(0, kFingerprintBytes), "line 41\n", 5000),
            std::nullopt)
      << "a matching tail does not make up for other first bytes";
}

TEST(FileCheckpointTest, ShortFingerprintMatchesAFileThatGrew) {
  FileCheckpoint s{{1, 2}, "{\"a\":1}\n", "/x", 8, "{\"a\":1}\n"};
  EXPECT_EQ(offsetOf(resumePoint(s, "{\"a\":1}\n{\"b\":2}\n", "{\"a\":1}\n", 16)), 8u);
  EXPECT_EQ(resumePoint(s, "{\"c\":3}\n{\"b\":2}\n", "{\"c\":3}\n", 16), std::nullopt);
}

TEST(FileCheckpointTest, FileShorterThanItsCheckpointWasTruncatedAndStartsAtZero) {
  auto point = resumePoint(saved(1000, "x"), kHead.substr(0, 10), "", 10);
  ASSERT_TRUE(point);
  EXPECT_EQ(point->offset, 0u);
  EXPECT_EQ(point->reason, Reason::kTruncated);
  EXPECT_EQ(offsetOf(resumePoint(saved(1000), "", "", 0)), 0u);
}

// Truncated and written again past the old offset, with the same first 64
// bytes (every line opens with the same preamble): the bytes before the
// offset differ, so the file is read again from its start (its new
// beginning is not lost).
TEST(FileCheckpointTest, RewriteWithTheSameFirstBytesIsReadFromItsStart) {
  auto point = resumePoint(saved(1000, "\"msg\":\"line 12\"}\n"), kHead.substr(0, kFingerprintBytes),
                           "\"msg\":\"line 20\"}\n", 5000);
  ASSERT_TRUE(point);
  EXPECT_EQ(point->offset, 0u);
  EXPECT_EQ(point->reason, Reason::kRewritten);
  // The same bytes before the offset: the same file.
  point = resumePoint(saved(1000, "\"msg\":\"line 12\"}\n"), kHead.substr(0, kFingerprintBytes),
                      "\"msg\":\"line 12\"}\n", 5000);
  ASSERT_TRUE(point);
  EXPECT_EQ(point->offset, 1000u);
  EXPECT_EQ(point->reason, Reason::kSameFile);
}

}  // namespace
