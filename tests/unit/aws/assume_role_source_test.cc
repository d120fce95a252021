#include "aws/assume_role_source.h"

#include <gtest/gtest.h>

#include <chrono>
#include <mutex>
#include <string>
#include <vector>

#include "tests/support/fake_env.h"
#include "tests/support/recording_http_server.h"

namespace kinship::aws {
namespace {

using namespace std::chrono_literals;
using kinship::testing::fakeEnv;
using kinship::testing::FakeHttpServer;
using kinship::testing::HttpReply;
using kinship::testing::HttpRequest;

constexpr std::string_view kRoleArn = "arn:aws:iam::210987654321:role/stream-writer";
constexpr std::string_view kAnswerSecret = "ANSWER-SECRET-ACCESS-KEY";
constexpr std::string_view kAnswerToken = "ANSWER-SESSION-TOKEN";

std::string successXml() {
  return "<AssumeRoleResponse><AssumeRoleResult><AssumedRoleUser><Arn>x</Arn></AssumedRoleUser><Credentials>"
         "<AccessKeyId>ASIAASSUMED</AccessKeyId><SecretAccessKey>" +
         std::string(kAnswerSecret) + "</SecretAccessKey><SessionToken>" + std::string(kAnswerToken) +
         "</SessionToken><Expiration>2026-12-07T03:00:00Z</Expiration>"
         "</Credentials></AssumeRoleResult></AssumeRoleResponse>";
}

// STS answering every call with `status` and `body`.
struct FakeSts : kinship::testing::RecordingHttpServer {
  FakeSts(int status, std::string body)
      : RecordingHttpServer({.status = status, .body = std::move(body), .contentType = "text/xml"}) {}
};

Credentials base(std::string keyId) {
  return {.accessKeyId = std::move(keyId),
          .secretAccessKey = "BASE-SECRET-KEY",
          .sessionToken = "BASE-SESSION-TOKEN",
          .expiration = std::nullopt};
}

AssumeRoleSource sourceFor(const FakeSts& sts, CredentialsGetter getter, std::string externalId = "",
                           std::string sessionName = "") {
  return AssumeRoleSource(std::move(getter),
                          AssumeRoleRequest{.roleArn = std::string(kRoleArn),
                                            .roleSessionName = std::move(sessionName),
                                            .externalId = std::move(externalId),
                                            .duration = 3600s},
                          StsOptions{.region = "eu-central-1", .endpoint = sts.url()}, fakeEnv({}));
}

void expectNoSecrets(const std::string& message) {
  for (std::string_view secret : {std::string_view("BASE-SECRET-KEY"), std::string_view("BASE-SESSION-TOKEN"),
                                  kAnswerSecret, kAnswerToken, std::string_view("EXTERNAL-ID-VALUE")}) {
    EXPECT_EQ(message.find(secret), std::string::npos) << message;
  }
}

TEST(AssumeRoleSource, SignsWithTheBaseCredentialsAndSendsItsParameters) {
  FakeSts sts(200, successXml());
  AssumeRoleSource source = sourceFor(
      sts, [] { return Result<Credentials>(base("AKIDBASE")); }, "EXTERNAL-ID-VALUE", "cross-account");
  EXPECT_EQ(source.name(), "assume_role");
  EXPECT_TRUE(source.configured());
  auto credentials = source.fetch();
  ASSERT_TRUE(credentials) << credentials.error().message();
  EXPECT_EQ(credentials->accessKeyId, "ASIAASSUMED");
  EXPECT_EQ(credentials->secretAccessKey, kAnswerSecret);
  EXPECT_EQ(credentials->sessionToken, kAnswerToken);
  EXPECT_TRUE(credentials->expiration.has_value());

  auto requests = sts.requests();
  ASSERT_EQ(requests.size(), 1u);
  const HttpRequest& request = requests[0];
  EXPECT_NE(request.headers.at("authorization").find("Credential=AKIDBASE/"), std::string::npos);
  EXPECT_NE(request.headers.at("authorization").find("/eu-central-1/sts/aws4_request"), std::string::npos);
  EXPECT_EQ(request.headers.at("x-amz-security-token"), "BASE-SESSION-TOKEN");
  EXPECT_NE(request.body.find("Action=AssumeRole&"), std::string::npos) << request.body;
  EXPECT_NE(request.body.find("&RoleArn=arn%3Aaws%3Aiam%3A%3A210987654321%3Arole%2Fstream-writer&"), std::string::npos);
  EXPECT_NE(request.body.find("&RoleSessionName=cross-account&"), std::string::npos) << request.body;
  EXPECT_NE(request.body.find("&ExternalId=EXTERNAL-ID-VALUE"), std::string::npos) << request.body;
}

TEST(AssumeRoleSource, AsksTheBaseAtEveryFetch) {
  FakeSts sts(200, successXml());
  int calls = 0;
  AssumeRoleSource source = sourceFor(sts, [&calls] {
    ++calls;
    return Result<Credentials>(base("AKIDBASE" + std::to_string(calls)));
  });
  ASSERT_TRUE(source.fetch());
  ASSERT_TRUE(source.fetch());
  auto requests = sts.requests();
  ASSERT_EQ(requests.size(), 2u);
  EXPECT_NE(requests[0].headers.at("authorization").find("Credential=AKIDBASE1/"), std::string::npos);
  EXPECT_NE(requests[1].headers.at("authorization").find("Credential=AKIDBASE2/"), std::string::npos);
}

TEST(AssumeRoleSource, DefaultSessionNameAndNoExternalId) {
  FakeSts sts(200, successXml());
  AssumeRoleSource source = sourceFor(sts, [] { return Result<Credentials>(base("AKIDBASE")); });
  ASSERT_TRUE(source.fetch());
  const std::string body = sts.requests().at(0).body;
  EXPECT_NE(body.find("&RoleSessionName=kinship-"), std::string::npos) << body;
  EXPECT_EQ(body.find("ExternalId"), std::string::npos) << body;
}

TEST(AssumeRoleSource, FailingBaseGivesItsError) {
  FakeSts sts(200, successXml());
  AssumeRoleSource source = sourceFor(
      sts, [] { return Result<Credentials>(fail(Status::unavailable("imds: http://169.254.169.254 timed out"))); });
  auto credentials = source.fetch();
  ASSERT_FALSE(credentials);
  EXPECT_EQ(credentials.error().code(), Status::Code::kUnavailable);
  EXPECT_NE(credentials.error().message().find("imds: http://169.254.169.254 timed out"), std::string::npos)
      << credentials.error().message();
  EXPECT_NE(credentials.error().message().find(std::string(kRoleArn)), std::string::npos);
  EXPECT_TRUE(sts.requests().empty());
}

TEST(AssumeRoleSource, StsRefusalIsAnErrorWithoutSecrets) {
  FakeSts sts(403,
              "<ErrorResponse><Error><Type>Sender</Type><Code>AccessDenied</Code><Message>User: "
              "arn:aws:iam::1:user/x is not authorized to perform: sts:AssumeRole</Message></Error></ErrorResponse>");
  AssumeRoleSource source = sourceFor(
      sts, [] { return Result<Credentials>(base("AKIDBASE")); }, "EXTERNAL-ID-VALUE", "s");
  auto credentials = source.fetch();
  ASSERT_FALSE(credentials);
  const std::string& message = credentials.error().message();
  EXPECT_NE(message.find("HTTP 403 AccessDenied: User: arn:aws:iam::1:user/x is not authorized"), std::string::npos)
      << message;
  expectNoSecrets(message);
}

TEST(AssumeRoleSource, MalformedAnswerIsAnErrorWithoutSecrets) {
  std::string truncated = successXml();
  truncated.resize(truncated.find("</SessionToken>"));
  FakeSts sts(200, truncated);
  AssumeRoleSource source = sourceFor(
      sts, [] { return Result<Credentials>(base("AKIDBASE")); }, "EXTERNAL-ID-VALUE", "s");
  auto credentials = source.fetch();
  ASSERT_FALSE(credentials);
  expectNoSecrets(credentials.error().message());
}

}  // namespace
}  // namespace kinship::aws
