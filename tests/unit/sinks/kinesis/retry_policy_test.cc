// RetryPolicy: the answer read into a type, each record's fate, the
// backoff's bounds, and what an answer means for all sending.

#include "sinks/kinesis/retry_policy.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace kinship::kinesis {

void PrintTo(Fate fate, std::ostream* os) { *os << fateName(fate); }

namespace {

using namespace std::chrono_literals;

Answer failedWith(ErrorAction action, std::string label) {
  return {Answer::Kind::kFailed, {action, std::move(label)}, "detail", nullptr};
}

Answer records(const std::vector<RecordError>& results) { return {Answer::Kind::kRecords, {}, {}, &results}; }

// --- readAnswer: what came back, typed ---------------------------------------

TEST(ReadAnswer, AFailureBelowHttpIsClassifiedByItsKind) {
  aws::HttpRequest http;
  http.transportStatus = Status::unavailable("request to x failed: timeout");
  http.failure = aws::TransportFailure::kTimeout;
  PutRecordsResponse response;
  Answer answer = readAnswer(http, response, 3);
  EXPECT_EQ(answer.kind, Answer::Kind::kFailed);
  EXPECT_EQ(answer.error.action, ErrorAction::kRetry);
  EXPECT_EQ(answer.error.label, "transport_timeout");
  EXPECT_EQ(answer.detail, "request to x failed: timeout");
}

TEST(ReadAnswer, AnAnswerTooLongIsABadResponseToRetry) {
  aws::HttpRequest http;
  http.transportStatus = Status::unavailable("refused: longer than 8388608 bytes");
  http.failure = aws::TransportFailure::kOther;
  http.responseTooLarge = true;
  PutRecordsResponse response;
  Answer answer = readAnswer(http, response, 3);
  EXPECT_EQ(answer.error.action, ErrorAction::kRetry);
  EXPECT_EQ(answer.error.label, "bad_response");
}

TEST(ReadAnswer, AnHttpErrorIsClassifiedByItsTypeAndStatus) {
  aws::HttpRequest http;
  http.httpStatus = 400;
  http.responseBody = R"({"__type":"AccessDeniedException","message":"no"})";
  PutRecordsResponse response;
  Answer answer = readAnswer(http, response, 3);
  EXPECT_EQ(answer.kind, Answer::Kind::kFailed);
  EXPECT_EQ(answer.error.action, ErrorAction::kPause);
  EXPECT_EQ(answer.error.label, "AccessDeniedException");
  EXPECT_EQ(answer.detail.rfind("HTTP 400: ", 0), 0u) << answer.detail;
}

TEST(ReadAnswer, A200ThatIsNotAnAnswerToTheseRecordsIsABadResponse) {
  aws::HttpRequest http;
  http.httpStatus = 200;
  http.responseBody = R"({"FailedRecordCount":0,"Records":[{"SequenceNumber":"1","ShardId":"s"}]})";
  PutRecordsResponse response;
  Answer answer = readAnswer(http, response, 2);  // two records sent, one result
  EXPECT_EQ(answer.kind, Answer::Kind::kFailed);
  EXPECT_EQ(answer.error.label, "bad_response");
}

TEST(ReadAnswer, A200AnswersRecordByRecord) {
  aws::HttpRequest http;
  http.httpStatus = 200;
  http.responseBody = R"({"FailedRecordCount":1,"Records":[{"SequenceNumber":"1","ShardId":"s"},)"
                      R"({"ErrorCode":"ProvisionedThroughputExceededException","ErrorMessage":"slow down"}]})";
  PutRecordsResponse response;
  Answer answer = readAnswer(http, response, 2);
  ASSERT_EQ(answer.kind, Answer::Kind::kRecords);
  ASSERT_NE(answer.results, nullptr);
  EXPECT_EQ(*answer.results, (std::vector<RecordError>{RecordError::kNone, RecordError::kThrottled}));
}

TEST(ReadAnswer, NoCredentialsIsATypedNotSentNotASentinel) {
  Answer answer = notSent(Status::unavailable("credentials from web_identity: STS refused"));
  EXPECT_EQ(answer.kind, Answer::Kind::kNotSent);
  EXPECT_EQ(answer.error.action, ErrorAction::kPause);
  EXPECT_EQ(answer.error.label, "credentials");
  EXPECT_EQ(answer.detail, "credentials from web_identity: STS refused");
}

// --- decide: each record's fate ----------------------------------------------

TEST(RetryPolicy, EachRecordOfAPerRecordAnswerHasItsOwnFate) {
  RetryPolicy policy(100ms, 100ms, 1);
  const std::vector<RecordError> results{RecordError::kNone, RecordError::kThrottled, RecordError::kInternalFailure,
                                         RecordError::kOther};
  const Answer answer = records(results);
  RecordFate accepted = policy.decide(answer, 0, 4, 0);
  EXPECT_EQ(accepted.fate, Fate::kAccepted);
  RecordFate throttled = policy.decide(answer, 1, 4, 0);
  EXPECT_EQ(throttled.fate, Fate::kThrottled);
  EXPECT_EQ(throttled.delay, 100ms);
  EXPECT_EQ(throttled.attempts, 1);
  EXPECT_EQ(policy.decide(answer, 2, 4, 0).fate, Fate::kRetry);
  EXPECT_EQ(policy.decide(answer, 3, 4, 5).fate, Fate::kRetry) << "an unknown code is retried";
  EXPECT_EQ(policy.decide(answer, 3, 4, 5).attempts, 6);
}

TEST(RetryPolicy, ARequestFailingAsAWholeGivesEveryRecordTheSameFate) {
  RetryPolicy policy(100ms, 100ms, 1);
  EXPECT_EQ(policy.decide(failedWith(ErrorAction::kRetry, "InternalFailure"), 0, 5, 0).fate, Fate::kRetry);
  EXPECT_EQ(policy.decide(failedWith(ErrorAction::kRefreshCredentials, "ExpiredTokenException"), 3, 5, 0).fate,
            Fate::kRetry);
  EXPECT_EQ(policy.decide(failedWith(ErrorAction::kPause, "AccessDeniedException"), 1, 5, 0).fate, Fate::kPaused);
  EXPECT_EQ(policy.decide(notSent(Status::unavailable("none")), 4, 5, 0).fate, Fate::kPaused);
  // A request-level throttle names no shard: retried, no shard slows down.
  EXPECT_EQ(policy.decide(failedWith(ErrorAction::kThrottle, "LimitExceededException"), 0, 5, 0).fate, Fate::kRetry);
}

TEST(RetryPolicy, ARefusedRequestIsSplitUntilTheBadRecordIsAloneThenItIsADeadLetter) {
  RetryPolicy policy(100ms, 100ms, 1);
  const Answer invalid = failedWith(ErrorAction::kBisect, "InvalidArgumentException");
  RecordFate split = policy.decide(invalid, 0, 2, 3);
  EXPECT_EQ(split.fate, Fate::kSplit);
  EXPECT_EQ(split.attempts, 3) << "a split is not a failed attempt";
  EXPECT_EQ(split.delay, 0ms);
  RecordFate alone = policy.decide(invalid, 0, 1, 0);
  EXPECT_EQ(alone.fate, Fate::kDeadLetter);
  EXPECT_EQ(alone.deadLetterReason, "invalid");
  RecordFate tooLarge = policy.decide(failedWith(ErrorAction::kTooLarge, "http_413"), 0, 1, 0);
  EXPECT_EQ(tooLarge.fate, Fate::kDeadLetter);
  EXPECT_EQ(tooLarge.deadLetterReason, "too_large");
}

TEST(RetryPolicy, TheBackoffCeilingDoublesWithEachAttemptUpToTheMax) {
  RetryPolicy policy(100ms, 1000ms, 7);
  const std::vector<RecordError> results{RecordError::kInternalFailure};
  const Answer answer = records(results);
  const std::chrono::milliseconds ceilings[] = {100ms, 200ms, 400ms, 800ms, 1000ms, 1000ms};
  for (uint16_t attempts = 0; attempts < 6; ++attempts) {
    for (int i = 0; i < 200; ++i) {
      RecordFate fate = policy.decide(answer, 0, 1, attempts);
      ASSERT_GE(fate.delay, 100ms) << "attempt " << attempts + 1;
      ASSERT_LE(fate.delay, ceilings[attempts]) << "attempt " << attempts + 1;
    }
  }
}

TEST(RetryPolicy, AttemptsAreCountedUpToALimit) {
  RetryPolicy policy(1ms, 10ms, 1);
  const std::vector<RecordError> results{RecordError::kInternalFailure};
  EXPECT_EQ(policy.decide(records(results), 0, 1, RetryPolicy::kMaxCountedAttempts).attempts,
            RetryPolicy::kMaxCountedAttempts);
}

TEST(RetryPolicy, TheSameSeedGivesTheSameDelays) {
  RetryPolicy a(100ms, 10s, 42);
  RetryPolicy b(100ms, 10s, 42);
  const std::vector<RecordError> results{RecordError::kInternalFailure};
  for (uint16_t attempts = 0; attempts < 10; ++attempts) {
    EXPECT_EQ(a.decide(records(results), 0, 1, attempts).delay, b.decide(records(results), 0, 1, attempts).delay);
  }
}

// --- afterAnswer: all sending ------------------------------------------------

TEST(RetryPolicy, EverySendWaitsOnlyFromTheThirdRequestFailureInARow) {
  RetryPolicy policy(100ms, 100ms, 1);
  const Answer failed = failedWith(ErrorAction::kRetry, "InternalFailure");
  SendVerdict first = policy.afterAnswer(failed);
  EXPECT_EQ(first.health, SendVerdict::Health::kRetrying);
  EXPECT_EQ(first.holdAll, 0ms);
  EXPECT_EQ(policy.afterAnswer(failed).holdAll, 0ms);
  EXPECT_EQ(policy.afterAnswer(failed).holdAll, 100ms);
  EXPECT_EQ(policy.failuresInARow(), 3);
  const std::vector<RecordError> results{RecordError::kNone};
  SendVerdict ok = policy.afterAnswer(records(results));
  EXPECT_EQ(ok.health, SendVerdict::Health::kOk);
  EXPECT_EQ(policy.failuresInARow(), 0);
  EXPECT_EQ(policy.afterAnswer(failed).holdAll, 0ms) << "counting starts over";
}

TEST(RetryPolicy, APartialFailureIsAHealthyAnswer) {
  RetryPolicy policy(100ms, 100ms, 1);
  policy.afterAnswer(failedWith(ErrorAction::kRetry, "InternalFailure"));
  const std::vector<RecordError> results{RecordError::kThrottled, RecordError::kNone};
  EXPECT_EQ(policy.afterAnswer(records(results)).health, SendVerdict::Health::kOk);
  EXPECT_EQ(policy.failuresInARow(), 0);
}

TEST(RetryPolicy, APauseHoldsAllSendingForTheLongestBackoff) {
  RetryPolicy policy(100ms, 5s, 1);
  SendVerdict denied = policy.afterAnswer(failedWith(ErrorAction::kPause, "AccessDeniedException"));
  EXPECT_EQ(denied.health, SendVerdict::Health::kPaused);
  EXPECT_EQ(denied.holdAll, 5s);
  SendVerdict noCredentials = policy.afterAnswer(notSent(Status::unavailable("none")));
  EXPECT_EQ(noCredentials.health, SendVerdict::Health::kPaused);
  EXPECT_EQ(noCredentials.holdAll, 5s);
}

TEST(RetryPolicy, AnExpiredTokenAsksForNewCredentials) {
  RetryPolicy policy(100ms, 5s, 1);
  SendVerdict verdict = policy.afterAnswer(failedWith(ErrorAction::kRefreshCredentials, "ExpiredTokenException"));
  EXPECT_TRUE(verdict.refreshCredentials);
  EXPECT_EQ(verdict.health, SendVerdict::Health::kRetrying);
  EXPECT_FALSE(policy.afterAnswer(failedWith(ErrorAction::kRetry, "InternalFailure")).refreshCredentials);
}

TEST(RetryPolicy, ASplitSaysNothingOfTheEndpoint) {
  RetryPolicy policy(100ms, 5s, 1);
  SendVerdict verdict = policy.afterAnswer(failedWith(ErrorAction::kBisect, "InvalidArgumentException"));
  EXPECT_EQ(verdict.health, SendVerdict::Health::kUnchanged);
  EXPECT_EQ(verdict.holdAll, 0ms);
  EXPECT_EQ(policy.failuresInARow(), 0);
}

}  // namespace
}  // namespace kinship::kinesis
