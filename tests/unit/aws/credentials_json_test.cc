#include "aws/credentials_json.h"

#include <gtest/gtest.h>

#include <chrono>
#include <string>

namespace kinship::aws {
namespace {

using namespace std::chrono;
using namespace std::chrono_literals;

const system_clock::time_point kThreeAm = sys_days{year{2026} / 12 / 7} + 3h;

TEST(Iso8601UtcTest, ReadsWithAndWithoutFraction) {
  EXPECT_EQ(*parseIso8601Utc("2026-12-07T03:00:00Z"), kThreeAm);
  EXPECT_EQ(*parseIso8601Utc("2026-12-07T03:00:00.5Z"), kThreeAm + 500ms);
  EXPECT_EQ(*parseIso8601Utc("2026-12-07T03:00:00.123456789Z"), kThreeAm + 123ms);
  EXPECT_EQ(*parseIso8601Utc("2026-12-07T03:00:00+00:00"), kThreeAm);
  EXPECT_EQ(*parseIso8601Utc("2024-02-29T23:59:59Z"), sys_days{year{2024} / 2 / 29} + 23h + 59min + 59s);
}

TEST(Iso8601UtcTest, RefusesWhatIsNotAUtcTimestamp) {
  for (const char* text : {"", "2026-12-07", "2026-12-07T03:00:00", "2026-12-07 03:00:00Z", "2026-12-07T03:00:00+01:00",
                           "2026-12-07T03:00:00.Z", "2026-12-07T03:00:00.1234567890Z", "2026-02-30T03:00:00Z",
                           "2026-13-07T03:00:00Z", "2026-12-07T24:00:00Z", "2026-12-07T03:60:00Z",
                           "2026-12-07T03:00:60Z", "2026-12-07T03:00:00ZZ", "20a6-12-07T03:00:00Z", "1764990000"}) {
    EXPECT_FALSE(parseIso8601Utc(text)) << text;
  }
}

TEST(CredentialsJsonTest, ReadsTheFourFieldsAndIgnoresOthers) {
  auto credentials = parseCredentialsJson(
      R"({"Code":"Success","Type":"AWS-HMAC","AccessKeyId":"ASIA1","SecretAccessKey":"s1","Token":"t1",)"
      R"("Expiration":"2026-12-07T03:00:00Z","RoleArn":"arn:aws:iam::1:role/r"})",
      {"test", "http://x/", true});
  ASSERT_TRUE(credentials) << credentials.error().message();
  EXPECT_EQ(credentials->accessKeyId, "ASIA1");
  EXPECT_EQ(credentials->secretAccessKey, "s1");
  EXPECT_EQ(credentials->sessionToken, "t1");
  EXPECT_EQ(credentials->expiration, kThreeAm);
}

TEST(CredentialsJsonTest, TemporaryFieldsAreRequiredWhenAsked) {
  const std::string body = R"({"AccessKeyId":"ASIA1","SecretAccessKey":"s1"})";
  auto strict = parseCredentialsJson(body, {"test", "http://x/", true});
  ASSERT_FALSE(strict);
  EXPECT_NE(strict.error().message().find("has no Token"), std::string::npos) << strict.error().message();
  EXPECT_TRUE(parseCredentialsJson(body, {"test", "http://x/", false}));
}

TEST(CredentialsJsonTest, ACodeOtherThanSuccessIsNamedOnlyWhenPlain) {
  auto plain = parseCredentialsJson(R"({"Code":"AssumeRoleUnauthorizedAccess"})", {"test", "http://x/", true});
  ASSERT_FALSE(plain);
  EXPECT_NE(plain.error().message().find("Code AssumeRoleUnauthorizedAccess rather than Success"), std::string::npos)
      << plain.error().message();
  auto odd = parseCredentialsJson(R"({"Code":"secret value here"})", {"test", "http://x/", true});
  ASSERT_FALSE(odd);
  EXPECT_EQ(odd.error().message().find("secret value"), std::string::npos) << odd.error().message();
}

TEST(CredentialsJsonTest, EmptyFieldsAreRefused) {
  auto empty = parseCredentialsJson(R"({"AccessKeyId":"","SecretAccessKey":"s1"})", {"test", "http://x/", false});
  ASSERT_FALSE(empty);
  EXPECT_NE(empty.error().message().find("AccessKeyId is empty"), std::string::npos) << empty.error().message();
}

}  // namespace
}  // namespace kinship::aws
