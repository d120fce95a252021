#include "aws/sts_client.h"

#include <gtest/gtest.h>

#include <chrono>
#include <mutex>
#include <ostream>
#include <string>
#include <vector>

#include "aws/sigv4.h"
#include "tests/support/fake_env.h"
#include "tests/support/recording_http_server.h"

namespace kinship::aws {
namespace {

using namespace std::chrono_literals;
using kinship::testing::fakeEnv;
using kinship::testing::FakeHttpServer;
using kinship::testing::HttpReply;
using kinship::testing::HttpRequest;

constexpr std::string_view kRoleArn = "arn:aws:iam::123456789012:role/kinship writer";
constexpr std::string_view kToken = "eyJhbGciOi.WEBIDENTITY-TOKEN-SECRET+/=";
constexpr std::string_view kAnswerKeyId = "ASIAANSWERKEYID";
constexpr std::string_view kAnswerSecret = "ANSWER-SECRET-ACCESS-KEY";
constexpr std::string_view kAnswerToken = "ANSWER-SESSION-TOKEN";

std::string credentialsXml(std::string_view action, std::string_view expiration = "2026-12-07T03:00:00Z",
                           bool withSessionToken = true) {
  std::string xml = "<" + std::string(action) + "Response xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\">\n  <" +
                    std::string(action) + "Result>\n    <Credentials>\n      <AccessKeyId>" +
                    std::string(kAnswerKeyId) + "</AccessKeyId>\n      <SecretAccessKey>" + std::string(kAnswerSecret) +
                    "</SecretAccessKey>\n";
  if (withSessionToken) xml += "      <SessionToken>" + std::string(kAnswerToken) + "</SessionToken>\n";
  xml += "      <Expiration>" + std::string(expiration) + "</Expiration>\n    </Credentials>\n  </" +
         std::string(action) + "Result>\n  <ResponseMetadata><RequestId>c6104cbe</RequestId></ResponseMetadata>\n</" +
         std::string(action) + "Response>\n";
  return xml;
}

std::string errorXml(std::string_view code, std::string_view message) {
  return "<ErrorResponse xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\">\n  <Error>\n    <Type>Sender</Type>\n"
         "    <Code>" +
         std::string(code) + "</Code>\n    <Message>" + std::string(message) +
         "</Message>\n  </Error>\n  <RequestId>4f1c</RequestId>\n</ErrorResponse>\n";
}

HttpReply xmlReply(int status, std::string body) {
  return HttpReply{.status = status, .body = std::move(body), .contentType = "text/xml", .closeConnection = false};
}

// An STS stand-in that records what it was sent and answers with `reply`.
using FakeSts = kinship::testing::RecordingHttpServer;

StsClient clientFor(const FakeSts& sts, std::string region = "") {
  return StsClient(StsOptions{.region = std::move(region), .endpoint = sts.url()}, fakeEnv({}));
}

WebIdentityRequest webIdentityRequest() {
  return {.roleArn = std::string(kRoleArn),
          .roleSessionName = "kinship-session",
          .webIdentityToken = std::string(kToken),
          .duration = 3600s};
}

Credentials caller(std::string sessionToken) {
  return {.accessKeyId = "AKIDCALLER",
          .secretAccessKey = "CALLER-SECRET-KEY",
          .sessionToken = std::move(sessionToken),
          .expiration = std::nullopt};
}

void expectNoSecrets(const std::string& message) {
  for (std::string_view secret : {kToken, kAnswerSecret, kAnswerToken, std::string_view("CALLER-SECRET-KEY"),
                                  std::string_view("CALLER-SESSION-TOKEN")}) {
    EXPECT_EQ(message.find(secret), std::string::npos) << "secret in: " << message;
  }
}

TEST(StsClient, WebIdentityRequestIsTheExpectedUnsignedForm) {
  FakeSts sts(xmlReply(200, credentialsXml("AssumeRoleWithWebIdentity")));
  auto credentials = clientFor(sts).assumeRoleWithWebIdentity(webIdentityRequest());
  ASSERT_TRUE(credentials) << credentials.error().message();

  auto requests = sts.requests();
  ASSERT_EQ(requests.size(), 1u);
  const HttpRequest& request = requests[0];
  EXPECT_EQ(request.method, "POST");
  EXPECT_EQ(request.target, "/");
  EXPECT_EQ(request.headers.at("content-type"), "application/x-www-form-urlencoded; charset=utf-8");
  EXPECT_FALSE(request.headers.contains("authorization"));
  EXPECT_FALSE(request.headers.contains("x-amz-security-token"));
  EXPECT_EQ(request.body,
            "Action=AssumeRoleWithWebIdentity&Version=2011-06-15"
            "&RoleArn=arn%3Aaws%3Aiam%3A%3A123456789012%3Arole%2Fkinship%20writer"
            "&RoleSessionName=kinship-session"
            "&WebIdentityToken=eyJhbGciOi.WEBIDENTITY-TOKEN-SECRET%2B%2F%3D"
            "&DurationSeconds=3600");
}

TEST(StsClient, AnswerGivesCredentialsAndExpiration) {
  FakeSts sts(xmlReply(200, credentialsXml("AssumeRoleWithWebIdentity")));
  auto credentials = clientFor(sts).assumeRoleWithWebIdentity(webIdentityRequest());
  ASSERT_TRUE(credentials) << credentials.error().message();
  EXPECT_EQ(credentials->accessKeyId, kAnswerKeyId);
  EXPECT_EQ(credentials->secretAccessKey, kAnswerSecret);
  EXPECT_EQ(credentials->sessionToken, kAnswerToken);
  ASSERT_TRUE(credentials->expiration.has_value());
  EXPECT_EQ(*credentials->expiration, std::chrono::sys_days{std::chrono::year{2026} / std::chrono::December / 7} + 3h);
}

TEST(StsClient, ExpirationWithFractionalSeconds) {
  FakeSts sts(xmlReply(200, credentialsXml("AssumeRole", "2026-12-07T03:00:00.123Z")));
  auto credentials = clientFor(sts).assumeRole({.roleArn = std::string(kRoleArn)}, caller(""));
  ASSERT_TRUE(credentials) << credentials.error().message();
  ASSERT_TRUE(credentials->expiration.has_value());
  const auto hour = std::chrono::sys_days{std::chrono::year{2026} / std::chrono::December / 7} + 3h;
  EXPECT_GE(*credentials->expiration, hour);
  EXPECT_LT(*credentials->expiration, hour + 1s);
}

// The Authorization header must be a valid signature of what was sent,
// recomputed here from the request the server saw.
void expectSignedBy(const HttpRequest& request, const Credentials& by, std::string_view region) {
  ASSERT_TRUE(request.headers.contains("authorization"));
  ASSERT_TRUE(request.headers.contains("x-amz-date"));
  const std::string& authorization = request.headers.at("authorization");
  const std::string amzDate = request.headers.at("x-amz-date");
  const std::string date = amzDate.substr(0, 8);
  const std::string scope =
      "Credential=" + by.accessKeyId + "/" + date + "/" + std::string(region) + "/sts/aws4_request";
  EXPECT_NE(authorization.find(scope), std::string::npos) << authorization;

  const std::string signedHeadersKey = "SignedHeaders=";
  const size_t start = authorization.find(signedHeadersKey);
  ASSERT_NE(start, std::string::npos);
  const size_t end = authorization.find(',', start);
  const std::string signedHeaders =
      authorization.substr(start + signedHeadersKey.size(), end - start - signedHeadersKey.size());
  HeaderList headers;
  for (size_t pos = 0; pos <= signedHeaders.size();) {
    size_t next = signedHeaders.find(';', pos);
    if (next == std::string::npos) next = signedHeaders.size();
    const std::string name = signedHeaders.substr(pos, next - pos);
    ASSERT_TRUE(request.headers.contains(name)) << name;
    headers.emplace_back(name, request.headers.at(name));
    pos = next + 1;
  }
  const SigV4Signer signer(std::string(region), "sts");
  const auto canonical = signer.canonicalRequest(
      {.method = "POST", .path = "/", .query = "", .headers = headers, .payload = request.body});
  const std::string signature = signer.signature(by, date, signer.stringToSign(amzDate, canonical.text));
  EXPECT_NE(authorization.find("Signature=" + signature), std::string::npos) << authorization;
}

TEST(StsClient, AssumeRoleIsSignedWithTheCallersSessionToken) {
  FakeSts sts(xmlReply(200, credentialsXml("AssumeRole")));
  const Credentials by = caller("CALLER-SESSION-TOKEN");
  auto credentials = clientFor(sts).assumeRole(
      {.roleArn = std::string(kRoleArn), .roleSessionName = "cross", .externalId = "ext id/1", .duration = 900s}, by);
  ASSERT_TRUE(credentials) << credentials.error().message();
  EXPECT_EQ(credentials->sessionToken, kAnswerToken);

  auto requests = sts.requests();
  ASSERT_EQ(requests.size(), 1u);
  const HttpRequest& request = requests[0];
  EXPECT_EQ(request.body,
            "Action=AssumeRole&Version=2011-06-15"
            "&RoleArn=arn%3Aaws%3Aiam%3A%3A123456789012%3Arole%2Fkinship%20writer"
            "&RoleSessionName=cross&DurationSeconds=900&ExternalId=ext%20id%2F1");
  EXPECT_EQ(request.headers.at("x-amz-security-token"), "CALLER-SESSION-TOKEN");
  expectSignedBy(request, by, "us-east-1");
}

TEST(StsClient, AssumeRoleSignsForTheConfiguredRegionWithoutTokenWhenLongTerm) {
  FakeSts sts(xmlReply(200, credentialsXml("AssumeRole")));
  const Credentials by = caller("");
  auto credentials = clientFor(sts, "eu-west-3").assumeRole({.roleArn = std::string(kRoleArn)}, by);
  ASSERT_TRUE(credentials) << credentials.error().message();
  auto requests = sts.requests();
  ASSERT_EQ(requests.size(), 1u);
  EXPECT_FALSE(requests[0].headers.contains("x-amz-security-token"));
  EXPECT_EQ(requests[0].body.find("ExternalId"), std::string::npos);
  expectSignedBy(requests[0], by, "eu-west-3");
}

TEST(StsClient, ErrorAnswerNamesActionEndpointStatusCodeAndMessage) {
  FakeSts sts(xmlReply(403, errorXml("AccessDenied", "Not authorized to perform sts:AssumeRoleWithWebIdentity")));
  auto credentials = clientFor(sts).assumeRoleWithWebIdentity(webIdentityRequest());
  ASSERT_FALSE(credentials);
  EXPECT_EQ(credentials.error().message(),
            "STS AssumeRoleWithWebIdentity at " + sts.url() +
                " refused: HTTP 403 AccessDenied: Not authorized to perform sts:AssumeRoleWithWebIdentity");
  expectNoSecrets(credentials.error().message());
}

TEST(StsClient, LongErrorMessageIsCut) {
  FakeSts sts(xmlReply(400, errorXml("ValidationError", std::string(5000, 'm'))));
  auto credentials = clientFor(sts).assumeRole({.roleArn = std::string(kRoleArn)}, caller(""));
  ASSERT_FALSE(credentials);
  EXPECT_NE(credentials.error().message().find("ValidationError: mmm"), std::string::npos);
  EXPECT_LT(credentials.error().message().size(), 700u);
}

TEST(StsClient, ErrorStatusWithoutStsErrorIsStillARefusal) {
  FakeSts sts(HttpReply{.status = 503,
                        .body = "<html>busy " + std::string(kAnswerSecret) + "</html>",
                        .contentType = "text/html",
                        .closeConnection = false});
  auto credentials = clientFor(sts).assumeRoleWithWebIdentity(webIdentityRequest());
  ASSERT_FALSE(credentials);
  EXPECT_NE(credentials.error().message().find("refused: HTTP 503"), std::string::npos)
      << credentials.error().message();
  expectNoSecrets(credentials.error().message());
}

struct BadAnswer {
  const char* name;
  std::string body;
  const char* expected;  // part of the error
};

void PrintTo(const BadAnswer& answer, std::ostream* out) { *out << answer.name; }

class StsClientBadAnswer : public ::testing::TestWithParam<BadAnswer> {};

TEST_P(StsClientBadAnswer, IsAClearErrorWithoutTheAnswersSecrets) {
  FakeSts sts(xmlReply(200, GetParam().body));
  auto credentials = clientFor(sts).assumeRoleWithWebIdentity(webIdentityRequest());
  ASSERT_FALSE(credentials) << GetParam().name;
  const std::string& message = credentials.error().message();
  EXPECT_NE(message.find("STS AssumeRoleWithWebIdentity at " + sts.url()), std::string::npos) << message;
  EXPECT_NE(message.find(GetParam().expected), std::string::npos) << message;
  expectNoSecrets(message);
}

std::string truncated() {
  std::string xml = credentialsXml("AssumeRoleWithWebIdentity");
  return xml.substr(0, xml.find("</SessionToken>"));
}

std::string mangled() {
  std::string xml = credentialsXml("AssumeRoleWithWebIdentity");
  xml.replace(xml.find("</SecretAccessKey>"), 18, "</Secret>");
  return xml;
}

INSTANTIATE_TEST_SUITE_P(
    Answers, StsClientBadAnswer,
    ::testing::Values(
        BadAnswer{"malformed", mangled(), "not well-formed XML"},
        BadAnswer{"truncated", truncated(), "not well-formed XML"},
        BadAnswer{"missing_session_token", credentialsXml("AssumeRoleWithWebIdentity", "2026-12-07T03:00:00Z", false),
                  "lack SessionToken"},
        BadAnswer{"bad_expiration", credentialsXml("AssumeRoleWithWebIdentity", "tomorrow"), "Expiration"},
        BadAnswer{"wrong_action", credentialsXml("AssumeRole"), "not an AssumeRoleWithWebIdentity answer"},
        BadAnswer{"html", "<!DOCTYPE html><html><body>Login " + std::string(kAnswerSecret) + "</body></html>",
                  "not an AssumeRoleWithWebIdentity answer"},
        BadAnswer{"empty", "", "not well-formed XML"}),
    [](const ::testing::TestParamInfo<BadAnswer>& info) { return std::string(info.param.name); });

TEST(StsClient, EndpointComesFromTheEnvironmentWhenNotConfigured) {
  FakeSts sts(xmlReply(200, credentialsXml("AssumeRoleWithWebIdentity")));
  StsClient client(StsOptions{.region = "eu-west-1"}, fakeEnv({{"AWS_ENDPOINT_URL_STS", sts.url()}}));
  EXPECT_EQ(client.endpoint(), sts.url());
  auto credentials = client.assumeRoleWithWebIdentity(webIdentityRequest());
  ASSERT_TRUE(credentials) << credentials.error().message();
  EXPECT_EQ(sts.requests().size(), 1u);
}

TEST(StsClient, ConfiguredEndpointWinsOverTheEnvironment) {
  StsClient client(StsOptions{.region = "eu-west-1", .endpoint = "http://127.0.0.1:9/"},
                   fakeEnv({{"AWS_ENDPOINT_URL_STS", "http://127.0.0.1:8/"}}));
  EXPECT_EQ(client.endpoint(), "http://127.0.0.1:9/");
}

TEST(StsClient, RegionalEndpointByDefault) {
  StsClient client(StsOptions{.region = "ap-southeast-2"}, fakeEnv({}));
  EXPECT_EQ(client.endpoint(), "https://sts.ap-southeast-2.amazonaws.com");
}

TEST(StsClient, NoRegionAndNoEndpointIsAClearError) {
  StsClient client(StsOptions{}, fakeEnv({}));
  auto credentials = client.assumeRoleWithWebIdentity(webIdentityRequest());
  ASSERT_FALSE(credentials);
  EXPECT_EQ(credentials.error().code(), Status::Code::kInvalidArgument);
  EXPECT_NE(credentials.error().message().find("AWS_REGION"), std::string::npos) << credentials.error().message();
  EXPECT_NE(credentials.error().message().find("AWS_ENDPOINT_URL_STS"), std::string::npos);
}

TEST(StsClient, EndpointThatIsNotHttpIsRefused) {
  StsClient client(StsOptions{.endpoint = "file:///etc/passwd"}, fakeEnv({}));
  auto credentials = client.assumeRole({.roleArn = std::string(kRoleArn)}, caller(""));
  ASSERT_FALSE(credentials);
  EXPECT_NE(credentials.error().message().find("not an http:// or https:// URL"), std::string::npos);
}

TEST(StsClient, UnreachableEndpointNamesTheAction) {
  std::string url;
  {
    FakeSts gone(xmlReply(200, ""));
    url = gone.url();
  }
  StsClient client(StsOptions{.endpoint = url, .connectTimeout = 500ms, .timeout = 1000ms}, fakeEnv({}));
  auto credentials = client.assumeRole({.roleArn = std::string(kRoleArn)}, caller("CALLER-SESSION-TOKEN"));
  ASSERT_FALSE(credentials);
  EXPECT_NE(credentials.error().message().find("STS AssumeRole: "), std::string::npos) << credentials.error().message();
  expectNoSecrets(credentials.error().message());
}

}  // namespace
}  // namespace kinship::aws
