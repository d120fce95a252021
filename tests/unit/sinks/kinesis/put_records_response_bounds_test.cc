// Answers from the network that lie about their lengths (issue 12): the
// readers must refuse them before anything grows, and keep no more than a
// legitimate answer to the request could make them keep.

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstdint>
#include <fstream>
#include <functional>
#include <initializer_list>
#include <string>
#include <vector>

#include "sinks/kinesis/put_records_response.h"

using namespace kinship::kinesis;
using kinship::Status;
using ::testing::HasSubstr;

namespace {

std::string bytes(std::initializer_list<unsigned> list) {
  std::string out;
  for (unsigned b : list) out.push_back(static_cast<char>(b));
  return out;
}

// A CBOR head (RFC 8949 3.1) with the argument written in `width` bytes
// (0: in the first byte), so that tests choose how a length is declared.
std::string head(unsigned major, uint64_t value, int width) {
  std::string out;
  const unsigned info = width == 0 ? static_cast<unsigned>(value) : width == 1 ? 24 : width == 2 ? 25 : width == 4 ? 26 : 27;
  out.push_back(static_cast<char>((major << 5) | info));
  for (int i = width - 1; i >= 0; --i) out.push_back(static_cast<char>((value >> (8 * i)) & 0xff));
  return out;
}

std::string text(std::string_view s) {
  return head(3, s.size(), s.size() < 24 ? 0 : s.size() < 256 ? 1 : s.size() < 65536 ? 2 : 4) + std::string(s);
}

// FailedRecordCount `failed` ahead of Records, whose head is `recordsHead`.
std::string answerWithRecordsHead(unsigned failed, const std::string& recordsHead) {
  return "\xa2" + text("FailedRecordCount") + head(0, failed, failed < 24 ? 0 : 1) + text("Records") + recordsHead;
}

std::string okRecord() { return "\xa1" + text("ShardId") + text("shardId-000000000001"); }
std::string failedRecord() { return "\xa1" + text("ErrorCode") + text("InternalFailure"); }

size_t statusKib(const char* field) {
  std::ifstream status("/proc/self/status");
  std::string line;
  const std::string prefix = std::string(field) + ":";
  while (std::getline(status, line)) {
    if (line.starts_with(prefix)) return std::stoul(line.substr(prefix.size()));
  }
  return 0;
}

// How far resident memory rose above its level at the start while `fn`
// ran: writing "5" to /proc/self/clear_refs resets the high-water mark.
size_t peakGrowthBytes(const std::function<void()>& fn) {
  {
    std::ofstream reset("/proc/self/clear_refs");
    reset << "5";
  }
  const size_t before = statusKib("VmHWM");
  fn();
  const size_t after = statusKib("VmHWM");
  return (after > before ? after - before : 0) * 1024;
}

constexpr size_t kFewMegabytes = 32u << 20;

}  // namespace

TEST(PutRecordsResponseBounds, PeakMeasurementSeesALargeAllocation) {
  // Guards the measurement the tests below rely on.
  const size_t growth = peakGrowthBytes([] {
    std::vector<char> big(128u << 20, 1);
    ASSERT_EQ(big[big.size() / 2], 1);
  });
  EXPECT_GE(growth, 100u << 20);
}

TEST(PutRecordsResponseBounds, CborAnswerDeclaringAHugeRecordsArrayIsRefusedBeforeAnythingGrows) {
  struct Case {
    std::string body;
    size_t expected;
  };
  std::vector<Case> cases = {
      // 2^29, in four and in eight bytes (539 MB kept).
      {answerWithRecordsHead(0, head(4, uint64_t{1} << 29, 4)) + okRecord(), 1},
      {answerWithRecordsHead(0, head(4, uint64_t{1} << 29, 8)) + okRecord(), 500},
      // One more than sent, with and without failures.
      {answerWithRecordsHead(0, head(4, 2, 0)) + okRecord() + okRecord(), 1},
      {answerWithRecordsHead(0, head(4, 501, 2)) + okRecord(), 500},
      {answerWithRecordsHead(1, head(4, 3, 0)) + failedRecord() + okRecord() + okRecord(), 2},
      {answerWithRecordsHead(1, head(4, uint64_t{1} << 29, 4)) + failedRecord(), 2},
      // An indefinite array declares nothing: its records are counted.
      {answerWithRecordsHead(0, "\x9f") + okRecord() + okRecord() + okRecord() + "\xff", 2},
      {answerWithRecordsHead(1, "\x9f") + failedRecord() + okRecord() + "\xff", 1},
      // The body of issue 12, last because it throws std::length_error
      // from a reader that trusts it (exit 134 in the daemon): a length of
      // 2^64-1.
      {bytes({0xa2, 0x71}) + "FailedRecordCount" + bytes({0x00, 0x67}) + "Records" +
           bytes({0x9b, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xa0}),
       1},
  };
  for (size_t i = 0; i < cases.size(); ++i) {
    PutRecordsResponse r;
    Status s = r.parse(cases[i].body, cases[i].expected);
    EXPECT_EQ(s.code(), Status::Code::kCorruption) << i;
    EXPECT_THAT(s.message(), HasSubstr("records for " + std::to_string(cases[i].expected) + " sent")) << i;
    EXPECT_LE(r.results().capacity(), cases[i].expected) << i;
  }
}

TEST(PutRecordsResponseBounds, JsonAnswerWithMoreRecordsThanSentIsRefusedBeforeAnythingGrows) {
  std::string body = R"({"FailedRecordCount":0,"Records":[)";
  for (int i = 0; i < 9; ++i) body += std::string(i ? "," : "") + R"({"ShardId":"shardId-000000000001"})";
  body += "]}";
  PutRecordsResponse r;
  Status s = r.parse(body, 8);
  EXPECT_EQ(s.code(), Status::Code::kCorruption);
  EXPECT_THAT(s.message(), HasSubstr("records for 8 sent"));
  EXPECT_LE(r.results().capacity(), 8u);
}

TEST(PutRecordsResponseBounds, AnswersStillMatchingTheCountAreRead) {
  PutRecordsResponse r;
  std::string exact = answerWithRecordsHead(0, head(4, 3, 8)) + okRecord();
  ASSERT_TRUE(r.parse(exact, 3).isOk());
  EXPECT_EQ(r.results(), std::vector<RecordError>(3, RecordError::kNone));
  std::string indefinite = answerWithRecordsHead(1, "\x9f") + okRecord() + failedRecord() + "\xff";
  ASSERT_TRUE(r.parse(indefinite, 2).isOk());
  EXPECT_EQ(r.results(), (std::vector<RecordError>{RecordError::kNone, RecordError::kInternalFailure}));
}

TEST(PutRecordsResponseBounds, KeptErrorTextsAreBounded) {
  // Texts longer than kept, whole or in 30 chunks: only a bounded prefix is
  // kept (for the log line), in both protocols.
  constexpr size_t kKept = PutRecordsResponse::kMaxKeptText;
  const std::string longText(3000, 'm');
  std::string chunked = "\x7f";
  for (int i = 0; i < 30; ++i) chunked += text(longText.substr(0, 100));
  chunked += "\xff";
  const std::string longShard = "shardId-" + longText;
  for (const std::string& message : {text(longText), chunked}) {
    std::string body = answerWithRecordsHead(1, "\x82") + "\xa2" + text("ErrorCode") + text(longText) +
                       text("ErrorMessage") + message + "\xa1" + text("ShardId") + text(longShard);
    PutRecordsResponse r;
    ASSERT_TRUE(r.parse(body, 2).isOk());
    EXPECT_EQ(r.results()[0], RecordError::kOther);
    EXPECT_EQ(r.firstErrorCode(), longText.substr(0, kKept));
    EXPECT_EQ(r.firstErrorMessage(), longText.substr(0, kKept));
    EXPECT_EQ(r.firstShardId(), longShard.substr(0, kKept));
  }
  std::string json = R"({"FailedRecordCount":1,"Records":[{"ErrorCode":")" + longText + R"(","ErrorMessage":")" +
                     longText + R"("},{"ShardId":")" + longShard + R"("}]})";
  PutRecordsResponse r;
  ASSERT_TRUE(r.parse(json, 2).isOk());
  EXPECT_EQ(r.firstErrorCode(), longText.substr(0, kKept));
  EXPECT_EQ(r.firstErrorMessage(), longText.substr(0, kKept));
  EXPECT_EQ(r.firstShardId(), longShard.substr(0, kKept));
  // A cut never splits a UTF-8 sequence: here a 3-byte one across the limit.
  std::string euros;
  while (euros.size() < 2 * kKept) euros += "\xe2\x82\xac";
  std::string withEuros = R"({"Records":[{"ErrorCode":"X","ErrorMessage":")" + euros + R"("}]})";
  ASSERT_TRUE(r.parse(withEuros, 1).isOk());
  EXPECT_EQ(r.firstErrorMessage(), euros.substr(0, kKept / 3 * 3));
}

TEST(PutRecordsResponseBounds, AnswerLongerThanAnyAnswerToTheRequestIsRefused) {
  // simdjson's buffers grow with the body and are kept for the next answer.
  const std::string padding(PutRecordsResponse::maxAnswerBytes(1), ' ');
  std::string json = R"({"Records":[{"ShardId":"shardId-000000000001"}])" + padding + "}";
  std::string cbor = "\xa2" + text("Records") + "\x81" + okRecord() + text("Padding") + text(padding);
  for (std::string* body : {&json, &cbor}) {
    PutRecordsResponse r;
    Status s = r.parse(*body, 1);
    EXPECT_EQ(s.code(), Status::Code::kCorruption);
    EXPECT_THAT(s.message(), HasSubstr("too long"));
  }
}

TEST(ErrorTypeOfBounds, CborErrorAnswersDeclaringHugeLengthsAllocateNothingProportional) {
  // The first body is issue 12's (539 MB peak); the others would need
  // gigabytes from a reader that trusted them, so they come after it.
  const std::vector<std::string> bodies = {
      bytes({0xa1, 0x9a, 0x04, 0x00, 0x00, 0x00}),
      bytes({0xa1, 0x9a, 0x20, 0x00, 0x00, 0x00}),                                // an array of 2^29
      bytes({0xa1, 0x9a, 0xad, 0x9a, 0x8c, 0x90}),                                // 21.5 GB in issue 12
      bytes({0xa1, 0x9b, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff}),        // an array of 2^64-1
      bytes({0xa1, 0x66}) + "__type" + bytes({0xba, 0x20, 0x00, 0x00, 0x00}),      // a map of 2^29 pairs
      bytes({0xbb, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x66}) + "__type",  // the top map itself
      bytes({0xa1, 0x66}) + "__type" + bytes({0x7a, 0x20, 0x00, 0x00, 0x00}) + "Resource",  // a text of 2^29
      bytes({0xa1, 0x5b, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff}),        // a byte string of 2^64-1
  };
  for (size_t i = 0; i < bodies.size(); ++i) {
    std::string body = bodies[i];
    std::string type = "unset";
    const size_t growth = peakGrowthBytes([&] { type = errorTypeOf(body); });
    ASSERT_LT(growth, kFewMegabytes) << "body " << i;
    EXPECT_EQ(type, "") << "body " << i;
    EXPECT_EQ(errorTypeOfCbor(bodies[i]), "") << "body " << i;
  }
}

TEST(ErrorTypeOfBounds, CborErrorTypeIsFoundByStreaming) {
  // The type after nested values of every kind, which are skipped.
  std::string nested = "\xa3" + text("message") + "\x83\x01\xa1" + text("a") + "\x9f\x01\x02\xff" + bytes({0x41, 0x00}) +
                       text("extra") + "\xbf" + text("__type") + text("inner") + "\xff" + text("__type") +
                       text("com.amazonaws.kinesis.v20131202#ResourceNotFoundException");
  EXPECT_EQ(errorTypeOf(nested), "ResourceNotFoundException");
  // An indefinite map, and a type written in chunks.
  std::string chunked = "\xbf" + text("__type") + "\x7f" + text("Access") + text("DeniedException") + "\xff\xff";
  EXPECT_EQ(errorTypeOf(chunked), "AccessDeniedException");
  // "__type" wins over "code" wherever they stand, as in JSON.
  std::string codeFirst = "\xa2" + text("code") + text("second") + text("__type") + text("first");
  EXPECT_EQ(errorTypeOf(codeFirst), "first");
  std::string codeOnly = "\xa1" + text("code") + text("x");
  EXPECT_EQ(errorTypeOf(codeOnly), "x");
  // Not a text, or not at the top level: no type.
  std::string number = "\xa1" + text("__type") + "\x05";
  EXPECT_EQ(errorTypeOf(number), "");
  std::string byteString = "\xa1" + text("__type") + "\x43" + "abc";
  EXPECT_EQ(errorTypeOf(byteString), "");
  std::string inner = "\xa1" + text("error") + "\xa1" + text("__type") + text("x");
  EXPECT_EQ(errorTypeOf(inner), "");
  EXPECT_EQ(errorTypeOfCbor("\x81\x01"), "");
  // Truncated or nested too deeply: no type.
  std::string truncated = "\xa2" + text("message") + text("m") + text("__type") + "\x6a" + "Resour";
  EXPECT_EQ(errorTypeOf(truncated), "");
  std::string deep = "\xa2" + text("message") + std::string(40, '\x81') + "\x01" + text("__type") + text("x");
  EXPECT_EQ(errorTypeOf(deep), "");
  // A type longer than kept is cut.
  std::string huge = "\xa1" + text("__type") + text(std::string(100'000, 'T'));
  EXPECT_EQ(errorTypeOf(huge), std::string(PutRecordsResponse::kMaxKeptText, 'T'));
}

TEST(ErrorTypeOfBounds, JsonErrorTypeIsBounded) {
  std::string huge = R"({"__type":")" + std::string(10'000, 'T') + R"("})";
  EXPECT_EQ(errorTypeOf(huge), std::string(PutRecordsResponse::kMaxKeptText, 'T'));
}
