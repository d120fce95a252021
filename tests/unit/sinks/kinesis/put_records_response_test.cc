#include "sinks/kinesis/put_records_response.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>
#include <vector>

using namespace kinship::kinesis;
using kinship::Status;
using ::testing::HasSubstr;

namespace {

std::string okRecord(int n) {
  return R"({"SequenceNumber":"4959)" + std::to_string(n) + R"(","ShardId":"shardId-000000000000"})";
}

std::string failed(const std::string& code, const std::string& message) {
  return R"({"ErrorCode":")" + code + R"(","ErrorMessage":")" + message + R"("})";
}

std::string answer(int failedCount, const std::vector<std::string>& records) {
  std::string body = R"({"FailedRecordCount":)" + std::to_string(failedCount) + R"(,"Records":[)";
  for (size_t i = 0; i < records.size(); ++i) {
    if (i) body += ",";
    body += records[i];
  }
  body += "]}";
  return body;
}

}  // namespace

TEST(PutRecordsResponse, AllOk) {
  PutRecordsResponse r;
  std::string body = answer(0, {okRecord(1), okRecord(2), okRecord(3)});
  Status s = r.parse(body, 3);
  EXPECT_TRUE(s.isOk()) << s.message();
  EXPECT_EQ(r.results(), (std::vector<RecordError>{RecordError::kNone, RecordError::kNone, RecordError::kNone}));
  EXPECT_EQ(r.failedCount(), 0u);
  EXPECT_EQ(r.firstErrorCode(), "");
  EXPECT_EQ(r.firstErrorMessage(), "");
}

TEST(PutRecordsResponse, EmptyRecords) {
  PutRecordsResponse r;
  std::string body = answer(0, {});
  EXPECT_TRUE(r.parse(body, 0).isOk());
  EXPECT_TRUE(r.results().empty());
}

TEST(PutRecordsResponse, MixedResultsByPosition) {
  PutRecordsResponse r;
  std::string body = answer(3, {okRecord(1), failed("ProvisionedThroughputExceededException", "Rate exceeded for shard"),
                                okRecord(2), failed("InternalFailure", "Internal service failure."),
                                failed("KMSThrottlingException", "kms"), okRecord(3)});
  Status s = r.parse(body, 6);
  ASSERT_TRUE(s.isOk()) << s.message();
  EXPECT_EQ(r.results(), (std::vector<RecordError>{RecordError::kNone, RecordError::kThrottled, RecordError::kNone,
                                                   RecordError::kInternalFailure, RecordError::kOther,
                                                   RecordError::kNone}));
  EXPECT_EQ(r.failedCount(), 3u);
  EXPECT_EQ(r.firstErrorCode(), "ProvisionedThroughputExceededException");
  EXPECT_EQ(r.firstErrorMessage(), "Rate exceeded for shard");
}

TEST(PutRecordsResponse, FirstErrorIsTheFirstByPosition) {
  PutRecordsResponse r;
  std::string body = answer(2, {failed("InternalFailure", "first"), failed("ProvisionedThroughputExceededException", "second")});
  ASSERT_TRUE(r.parse(body, 2).isOk());
  EXPECT_EQ(r.firstErrorCode(), "InternalFailure");
  EXPECT_EQ(r.firstErrorMessage(), "first");
  EXPECT_EQ(r.failedCount(), 2u);
}

TEST(PutRecordsResponse, ErrorWithoutMessageAndEmptyOrNullCode) {
  PutRecordsResponse r;
  std::string body =
      answer(1, {R"({"ErrorCode":""})", R"({"ErrorCode":null})", R"({"ErrorCode":"InternalFailure"})"});
  ASSERT_TRUE(r.parse(body, 3).isOk());
  EXPECT_EQ(r.results(),
            (std::vector<RecordError>{RecordError::kNone, RecordError::kNone, RecordError::kInternalFailure}));
  EXPECT_EQ(r.failedCount(), 1u);
  EXPECT_EQ(r.firstErrorCode(), "InternalFailure");
  EXPECT_EQ(r.firstErrorMessage(), "");
}

TEST(PutRecordsResponse, CountMismatchIsAnError) {
  PutRecordsResponse r;
  std::string body = answer(0, {okRecord(1)});
  Status s = r.parse(body, 2);
  EXPECT_FALSE(s.isOk());
  EXPECT_EQ(s.code(), Status::Code::kCorruption);
  EXPECT_EQ(s.message(), "PutRecords answered 1 records for 2 sent");

  std::string more = answer(0, {okRecord(1), okRecord(2), okRecord(3)});
  Status s2 = r.parse(more, 2);
  EXPECT_EQ(s2.code(), Status::Code::kCorruption);
  EXPECT_EQ(s2.message(), "PutRecords answered 3 records for 2 sent");
}

TEST(PutRecordsResponse, NotJsonIsAnError) {
  PutRecordsResponse r;
  for (std::string body : {std::string("<html>502 Bad Gateway</html>"), std::string(""), std::string("{\"Records\":["),
                           std::string("{\"Records\":[]} trailing")}) {
    Status s = r.parse(body, 0);
    EXPECT_EQ(s.code(), Status::Code::kCorruption) << body;
    EXPECT_EQ(s.message(), "PutRecords answer is not JSON") << body;
  }
}

TEST(PutRecordsResponse, MissingOrWrongRecordsIsAnError) {
  PutRecordsResponse r;
  for (std::string body : {std::string(R"({"FailedRecordCount":0})"), std::string(R"({"Records":{}})"),
                           std::string(R"({"Records":"x"})"), std::string("[1,2]"), std::string("42")}) {
    Status s = r.parse(body, 0);
    EXPECT_EQ(s.code(), Status::Code::kCorruption) << body;
    EXPECT_EQ(s.message(), "PutRecords answer has no Records array") << body;
  }
  std::string notObject = R"({"Records":[{"SequenceNumber":"1"},7]})";
  Status s = r.parse(notObject, 2);
  EXPECT_EQ(s.code(), Status::Code::kCorruption);
  EXPECT_EQ(s.message(), "PutRecords answer has a record that is not an object");
}

TEST(PutRecordsResponse, ReuseResetsState) {
  PutRecordsResponse r;
  std::string bad = answer(1, {failed("InternalFailure", "boom"), okRecord(1)});
  ASSERT_TRUE(r.parse(bad, 2).isOk());
  EXPECT_EQ(r.failedCount(), 1u);
  std::string good = answer(0, {okRecord(1)});
  ASSERT_TRUE(r.parse(good, 1).isOk());
  EXPECT_EQ(r.results(), std::vector<RecordError>{RecordError::kNone});
  EXPECT_EQ(r.failedCount(), 0u);
  EXPECT_EQ(r.firstErrorCode(), "");
  EXPECT_EQ(r.firstErrorMessage(), "");
}

TEST(PutRecordsResponse, BodyContentUnchanged) {
  PutRecordsResponse r;
  std::string body = answer(0, {okRecord(1)});
  body.shrink_to_fit();
  const std::string copy = body;
  ASSERT_TRUE(r.parse(body, 1).isOk());
  EXPECT_EQ(body, copy);
  EXPECT_GE(body.capacity(), body.size() + simdjson::SIMDJSON_PADDING);
}

TEST(PutRecordsResponse, LargeAnswer) {
  PutRecordsResponse r;
  std::vector<std::string> records;
  for (int i = 0; i < 500; ++i) records.push_back(i % 7 == 3 ? failed("ProvisionedThroughputExceededException", "x") : okRecord(i));
  std::string body = answer(0, records);
  ASSERT_TRUE(r.parse(body, 500).isOk());
  ASSERT_EQ(r.results().size(), 500u);
  size_t throttled = 0;
  for (size_t i = 0; i < 500; ++i) {
    EXPECT_EQ(r.results()[i], i % 7 == 3 ? RecordError::kThrottled : RecordError::kNone) << i;
    throttled += r.results()[i] == RecordError::kThrottled;
  }
  EXPECT_EQ(r.failedCount(), throttled);
  EXPECT_EQ(throttled, 71u);
}

TEST(RecordErrorLabel, Labels) {
  EXPECT_EQ(recordErrorLabel(RecordError::kNone), "");
  EXPECT_EQ(recordErrorLabel(RecordError::kThrottled), "ProvisionedThroughputExceededException");
  EXPECT_EQ(recordErrorLabel(RecordError::kInternalFailure), "InternalFailure");
  EXPECT_EQ(recordErrorLabel(RecordError::kOther), "other");
}

TEST(ErrorTypeOf, Cases) {
  std::string namespaced = R"({"__type":"com.amazonaws.kinesis.v20131202#ResourceNotFoundException","message":"x"})";
  EXPECT_EQ(errorTypeOf(namespaced), "ResourceNotFoundException");
  std::string plain = R"({"__type":"AccessDeniedException"})";
  EXPECT_EQ(errorTypeOf(plain), "AccessDeniedException");
  std::string code = R"({"code":"x"})";
  EXPECT_EQ(errorTypeOf(code), "x");
  std::string colon = R"({"__type":"ValidationException:http://internal.amazon.com/"})";
  EXPECT_EQ(errorTypeOf(colon), "ValidationException");
  std::string both = R"({"code":"second","__type":"first"})";
  EXPECT_EQ(errorTypeOf(both), "first");
  std::string notJson = "<html>Service Unavailable</html>";
  EXPECT_EQ(errorTypeOf(notJson), "");
  std::string empty;
  EXPECT_EQ(errorTypeOf(empty), "");
  std::string none = R"({"message":"x"})";
  EXPECT_EQ(errorTypeOf(none), "");
  std::string array = R"(["__type"])";
  EXPECT_EQ(errorTypeOf(array), "");
  std::string number = R"({"__type":5})";
  EXPECT_EQ(errorTypeOf(number), "");
}

// CBOR answers, written byte by byte (RFC 8949) so that the reader is checked
// against the format, not against an encoder.
namespace {

std::string cborText(std::string_view text) {
  std::string out;
  if (text.size() < 24) {
    out.push_back(static_cast<char>(0x60 + text.size()));
  } else {
    out.push_back(static_cast<char>(0x78));
    out.push_back(static_cast<char>(text.size()));
  }
  return out + std::string(text);
}

std::string cborOk(int n) {
  return "\xa2" + cborText("SequenceNumber") + cborText("4959" + std::to_string(n)) + cborText("ShardId") +
         cborText("shardId-000000000003");
}

std::string cborFailed(const std::string& code, const std::string& message) {
  return "\xa2" + cborText("ErrorCode") + cborText(code) + cborText("ErrorMessage") + cborText(message);
}

// Definite-length map of 2 or 3 pairs; records in a definite array (< 24).
std::string cborAnswer(int failedCount, const std::vector<std::string>& records, bool encryption = false) {
  std::string body = encryption ? "\xa3" : "\xa2";
  body += cborText("FailedRecordCount") + std::string(1, static_cast<char>(failedCount));
  body += cborText("Records") + std::string(1, static_cast<char>(0x80 + records.size()));
  for (const auto& r : records) body += r;
  if (encryption) body += cborText("EncryptionType") + cborText("NONE");
  return body;
}

}  // namespace

TEST(PutRecordsResponse, CborAnswerWithFailures) {
  PutRecordsResponse r;
  std::string body = cborAnswer(
      2, {cborOk(1), cborFailed("ProvisionedThroughputExceededException", "Rate exceeded for shard 3"),
          cborFailed("InternalFailure", "oops"), cborOk(2)},
      true);
  Status s = r.parse(body, 4);
  ASSERT_TRUE(s.isOk()) << s.message();
  EXPECT_EQ(r.results(), (std::vector<RecordError>{RecordError::kNone, RecordError::kThrottled,
                                                   RecordError::kInternalFailure, RecordError::kNone}));
  EXPECT_EQ(r.failedCount(), 2u);
  EXPECT_EQ(r.firstErrorCode(), "ProvisionedThroughputExceededException");
  EXPECT_EQ(r.firstErrorMessage(), "Rate exceeded for shard 3");
  EXPECT_EQ(r.firstShardId(), "shardId-000000000003");
}

TEST(PutRecordsResponse, CborIndefiniteLengthsChunkedStringsAndUnknownFields) {
  PutRecordsResponse r;
  // {_ "Records": [_ {_ "ShardId": (_ "shardId-" "000000000001"), "Extra": [1, {"a": null}], "SequenceNumber": h'01'},
  //                 {"ErrorCode": "Oops", "ErrorMessage": "x"} ], "FailedRecordCount": 1 }
  std::string body = "\xbf" + cborText("Records") + "\x9f";
  body += "\xbf" + cborText("ShardId") + "\x7f" + cborText("shardId-") + cborText("000000000001") + "\xff";
  body += cborText("Extra") + "\x82\x01\xa1" + cborText("a") + "\xf6";
  body += cborText("SequenceNumber") + "\x41\x01" + "\xff";
  body += cborFailed("Oops", "x");
  body += "\xff" + cborText("FailedRecordCount") + "\x01" + "\xff";
  Status s = r.parse(body, 2);
  ASSERT_TRUE(s.isOk()) << s.message();
  EXPECT_EQ(r.results(), (std::vector<RecordError>{RecordError::kNone, RecordError::kOther}));
  EXPECT_EQ(r.firstShardId(), "shardId-000000000001");
  EXPECT_EQ(r.firstErrorCode(), "Oops");
}

TEST(PutRecordsResponse, CborAnswersThatAreNotPutRecordsAnswersAreErrors) {
  PutRecordsResponse r;
  std::string countMismatch = cborAnswer(0, {cborOk(1)});
  EXPECT_THAT(r.parse(countMismatch, 2).message(), HasSubstr("answered 1 records for 2"));
  std::string noRecords = "\xa1" + cborText("FailedRecordCount") + std::string(1, '\0');
  EXPECT_THAT(r.parse(noRecords, 0).message(), HasSubstr("no Records"));
  std::string recordsNotArray = "\xa1" + cborText("Records") + "\xa0";
  EXPECT_THAT(r.parse(recordsNotArray, 0).message(), HasSubstr("no Records"));
  std::string recordNotMap = "\xa1" + cborText("Records") + "\x81" + cborText("x");
  EXPECT_THAT(r.parse(recordNotMap, 1).message(), HasSubstr("not an object"));
  std::string notMap = "\x81\x01";
  EXPECT_FALSE(r.parse(notMap, 1).isOk());
  // (With FailedRecordCount 0 the answer is read only up to its first
  // record; the transport refuses a body shorter than its Content-Length.)
  std::string truncated = cborAnswer(1, {cborOk(1), cborFailed("InternalFailure", "x")});
  truncated.resize(truncated.size() - 5);
  EXPECT_THAT(r.parse(truncated, 2).message(), HasSubstr("truncated"));
  std::string reserved = "\xa1" + cborText("Records") + "\x81\xa1\x1c";  // additional information 28 is reserved
  EXPECT_FALSE(r.parse(reserved, 1).isOk());
  std::string deep = "\xa1" + cborText("Records") + "\x81\xa1" + cborText("a") + std::string(40, '\x81') + "\x01";
  EXPECT_THAT(r.parse(deep, 1).message(), HasSubstr("nests too deeply"));
}

TEST(PutRecordsResponse, ErrorTypeOfCborAnswer) {
  std::string body = "\xa2" + cborText("__type") + cborText("com.amazonaws.kinesis#ResourceNotFoundException") +
                     cborText("message") + cborText("Stream s not found");
  EXPECT_EQ(errorTypeOf(body), "ResourceNotFoundException");
  std::string none = "\xa1" + cborText("message") + cborText("x");
  EXPECT_EQ(errorTypeOf(none), "");
}

TEST(PutRecordsResponse, CborAnswerWithoutFailuresIsReadUpToItsFirstRecord) {
  PutRecordsResponse r;
  // FailedRecordCount 0 ahead of a counted array: the records after the
  // first are not read (here the third is not even a map).
  std::string body = "\xa2" + cborText("FailedRecordCount") + std::string(1, '\0') + cborText("Records") + "\x83" +
                     cborOk(1) + cborOk(2) + cborText("not read");
  Status s = r.parse(body, 3);
  ASSERT_TRUE(s.isOk()) << s.message();
  EXPECT_EQ(r.results(), (std::vector<RecordError>(3, RecordError::kNone)));
  EXPECT_EQ(r.firstShardId(), "shardId-000000000003");
  EXPECT_EQ(r.failedCount(), 0u);
  // The count still has to match.
  EXPECT_THAT(r.parse(body, 4).message(), HasSubstr("answered 3 records for 4"));

  // FailedRecordCount after Records: every record is read, and a failure
  // in the last one is found.
  std::string late = "\xa2" + cborText("Records") + "\x83" + cborOk(1) + cborOk(2) +
                     cborFailed("ProvisionedThroughputExceededException", "slow down") +
                     cborText("FailedRecordCount") + "\x01";
  s = r.parse(late, 3);
  ASSERT_TRUE(s.isOk()) << s.message();
  EXPECT_EQ(r.results(), (std::vector<RecordError>{RecordError::kNone, RecordError::kNone, RecordError::kThrottled}));
}
