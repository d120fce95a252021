#include "aws/web_identity_source.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <stdexcept>
#include <string>
#include <vector>

#include "tests/support/fake_env.h"
#include "tests/support/recording_http_server.h"

namespace kinship::aws {
namespace {

using kinship::testing::fakeEnv;
using kinship::testing::FakeHttpServer;
using kinship::testing::HttpReply;
using kinship::testing::HttpRequest;

constexpr std::string_view kRoleArn = "arn:aws:iam::123456789012:role/irsa";
constexpr std::string_view kAnswerSecret = "ANSWER-SECRET-ACCESS-KEY";
constexpr std::string_view kAnswerToken = "ANSWER-SESSION-TOKEN";

// A temporary directory removed with the test.
class TempDir {
 public:
  TempDir() {
    std::string pattern = (std::filesystem::temp_directory_path() / "kinship-web-identity-test-XXXXXX").string();
    if (::mkdtemp(pattern.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
    path_ = pattern;
  }
  ~TempDir() {
    std::error_code ignored;
    std::filesystem::remove_all(path_, ignored);
  }
  std::string file(std::string_view name) const { return (path_ / name).string(); }

 private:
  std::filesystem::path path_;
};

void writeFile(const std::string& path, std::string_view content) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << content;
}

std::string percentDecode(std::string_view text) {
  std::string out;
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '%' && i + 2 < text.size()) {
      out += static_cast<char>(std::stoi(std::string(text.substr(i + 1, 2)), nullptr, 16));
      i += 2;
    } else {
      out += text[i] == '+' ? ' ' : text[i];
    }
  }
  return out;
}

std::map<std::string, std::string> formFields(std::string_view body) {
  std::map<std::string, std::string> fields;
  while (!body.empty()) {
    const size_t amp = body.find('&');
    const std::string_view pair = body.substr(0, amp);
    const size_t eq = pair.find('=');
    fields[std::string(pair.substr(0, eq))] = eq == std::string_view::npos ? "" : percentDecode(pair.substr(eq + 1));
    body = amp == std::string_view::npos ? std::string_view() : body.substr(amp + 1);
  }
  return fields;
}

std::string successXml() {
  return "<AssumeRoleWithWebIdentityResponse><AssumeRoleWithWebIdentityResult><Credentials>"
         "<AccessKeyId>ASIAIRSA</AccessKeyId><SecretAccessKey>" +
         std::string(kAnswerSecret) + "</SecretAccessKey><SessionToken>" + std::string(kAnswerToken) +
         "</SessionToken><Expiration>2026-12-07T03:00:00Z</Expiration>"
         "</Credentials></AssumeRoleWithWebIdentityResult></AssumeRoleWithWebIdentityResponse>";
}

// An STS stand-in recording the form fields of each request.
// STS answering every call with `status` and `body`; requests() gives each
// call's form fields.
struct FakeSts : kinship::testing::RecordingHttpServer {
  FakeSts(int status, std::string body)
      : RecordingHttpServer({.status = status, .body = std::move(body), .contentType = "text/xml"}) {}
  std::vector<std::map<std::string, std::string>> requests() {
    std::vector<std::map<std::string, std::string>> out;
    for (const auto& request : RecordingHttpServer::requests()) out.push_back(formFields(request.body));
    return out;
  }
};

WebIdentitySource irsa(const FakeSts& sts, std::map<std::string, std::string, std::less<>> vars) {
  vars["AWS_ENDPOINT_URL_STS"] = sts.url();
  return WebIdentitySource(fakeEnv(std::move(vars)), StsOptions{.region = "eu-west-1"});
}

TEST(WebIdentitySource, NotConfiguredWithoutItsVariables) {
  WebIdentitySource none(fakeEnv({}), StsOptions{.region = "eu-west-1"});
  EXPECT_FALSE(none.configured());
  WebIdentitySource empty(fakeEnv({{"AWS_WEB_IDENTITY_TOKEN_FILE", ""}, {"AWS_ROLE_ARN", ""}}),
                          StsOptions{.region = "eu-west-1"});
  EXPECT_FALSE(empty.configured());
  EXPECT_EQ(none.name(), "web_identity");
}

TEST(WebIdentitySource, ReadsTheTokenFileAtEveryFetch) {
  TempDir dir;
  const std::string tokenFile = dir.file("token");
  FakeSts sts(200, successXml());
  WebIdentitySource source = irsa(sts, {{"AWS_WEB_IDENTITY_TOKEN_FILE", tokenFile},
                                        {"AWS_ROLE_ARN", std::string(kRoleArn)},
                                        {"AWS_ROLE_SESSION_NAME", "pod-a"}});
  ASSERT_TRUE(source.configured());

  writeFile(tokenFile, "token-A");
  auto first = source.fetch();
  ASSERT_TRUE(first) << first.error().message();
  EXPECT_EQ(first->accessKeyId, "ASIAIRSA");
  EXPECT_EQ(first->sessionToken, kAnswerToken);
  EXPECT_TRUE(first->expiration.has_value());

  writeFile(tokenFile, "token-B\n");  // the kubelet rotated it
  auto second = source.fetch();
  ASSERT_TRUE(second) << second.error().message();

  auto requests = sts.requests();
  ASSERT_EQ(requests.size(), 2u);
  EXPECT_EQ(requests[0]["WebIdentityToken"], "token-A");
  EXPECT_EQ(requests[1]["WebIdentityToken"], "token-B");
  EXPECT_EQ(requests[0]["Action"], "AssumeRoleWithWebIdentity");
  EXPECT_EQ(requests[0]["RoleArn"], kRoleArn);
  EXPECT_EQ(requests[0]["RoleSessionName"], "pod-a");
}

TEST(WebIdentitySource, DefaultSessionName) {
  TempDir dir;
  writeFile(dir.file("token"), "token-A");
  FakeSts sts(200, successXml());
  WebIdentitySource source =
      irsa(sts, {{"AWS_WEB_IDENTITY_TOKEN_FILE", dir.file("token")}, {"AWS_ROLE_ARN", std::string(kRoleArn)}});
  ASSERT_TRUE(source.fetch());
  const std::string name = sts.requests().at(0).at("RoleSessionName");
  ASSERT_GT(name.size(), 8u);
  EXPECT_EQ(name.substr(0, 8), "kinship-");
  EXPECT_EQ(name.find_first_not_of("0123456789", 8), std::string::npos) << name;
}

TEST(WebIdentitySource, MissingRoleArnIsAnErrorNamingIt) {
  TempDir dir;
  writeFile(dir.file("token"), "token-A");
  FakeSts sts(200, successXml());
  WebIdentitySource source = irsa(sts, {{"AWS_WEB_IDENTITY_TOKEN_FILE", dir.file("token")}});
  ASSERT_TRUE(source.configured());  // half a setup is not a reason to try the next identity
  auto credentials = source.fetch();
  ASSERT_FALSE(credentials);
  EXPECT_NE(credentials.error().message().find("AWS_ROLE_ARN is not set"), std::string::npos)
      << credentials.error().message();
  EXPECT_TRUE(sts.requests().empty());
}

TEST(WebIdentitySource, MissingTokenFileVariableIsAnErrorNamingIt) {
  FakeSts sts(200, successXml());
  WebIdentitySource source = irsa(sts, {{"AWS_ROLE_ARN", std::string(kRoleArn)}});
  ASSERT_TRUE(source.configured());
  auto credentials = source.fetch();
  ASSERT_FALSE(credentials);
  EXPECT_NE(credentials.error().message().find("AWS_WEB_IDENTITY_TOKEN_FILE is not set"), std::string::npos)
      << credentials.error().message();
  EXPECT_TRUE(sts.requests().empty());
}

TEST(WebIdentitySource, UnusableTokenFilesAreErrorsNamingTheFile) {
  TempDir dir;
  writeFile(dir.file("empty"), "\n");
  writeFile(dir.file("huge"), std::string(kMaxWebIdentityTokenBytes + 1, 'a'));
  writeFile(dir.file("at-limit"), std::string(kMaxWebIdentityTokenBytes, 'a'));
  std::filesystem::create_directory(dir.file("directory"));
  FakeSts sts(200, successXml());
  struct Case {
    std::string file;
    std::string expected;
  };
  for (const Case& c : {Case{dir.file("missing"), "cannot open"}, Case{dir.file("directory"), "cannot read"},
                        Case{dir.file("empty"), "is empty"}, Case{dir.file("huge"), "larger than 65536 bytes"}}) {
    WebIdentitySource source =
        irsa(sts, {{"AWS_WEB_IDENTITY_TOKEN_FILE", c.file}, {"AWS_ROLE_ARN", std::string(kRoleArn)}});
    auto credentials = source.fetch();
    ASSERT_FALSE(credentials) << c.file;
    const std::string& message = credentials.error().message();
    EXPECT_NE(message.find("web identity token file " + c.file), std::string::npos) << message;
    EXPECT_NE(message.find(c.expected), std::string::npos) << message;
  }
  EXPECT_TRUE(sts.requests().empty());

  WebIdentitySource atLimit =
      irsa(sts, {{"AWS_WEB_IDENTITY_TOKEN_FILE", dir.file("at-limit")}, {"AWS_ROLE_ARN", std::string(kRoleArn)}});
  auto credentials = atLimit.fetch();
  EXPECT_TRUE(credentials) << credentials.error().message();
}

TEST(WebIdentitySource, StsRefusalIsAnErrorWithoutSecrets) {
  TempDir dir;
  writeFile(dir.file("token"), "SECRET-WEB-IDENTITY-TOKEN");
  FakeSts sts(403,
              "<ErrorResponse><Error><Type>Sender</Type><Code>AccessDenied</Code>"
              "<Message>Not authorized to perform sts:AssumeRoleWithWebIdentity</Message></Error></ErrorResponse>");
  WebIdentitySource source =
      irsa(sts, {{"AWS_WEB_IDENTITY_TOKEN_FILE", dir.file("token")}, {"AWS_ROLE_ARN", std::string(kRoleArn)}});
  auto credentials = source.fetch();
  ASSERT_FALSE(credentials);
  const std::string& message = credentials.error().message();
  EXPECT_NE(message.find("HTTP 403 AccessDenied: Not authorized"), std::string::npos) << message;
  EXPECT_NE(message.find(std::string(kRoleArn)), std::string::npos) << message;
  EXPECT_EQ(message.find("SECRET-WEB-IDENTITY-TOKEN"), std::string::npos) << message;
}

TEST(WebIdentitySource, MalformedAnswerIsAnErrorWithoutSecrets) {
  TempDir dir;
  writeFile(dir.file("token"), "SECRET-WEB-IDENTITY-TOKEN");
  std::string truncated = successXml();
  truncated.resize(truncated.find("</SessionToken>"));
  FakeSts sts(200, truncated);
  WebIdentitySource source =
      irsa(sts, {{"AWS_WEB_IDENTITY_TOKEN_FILE", dir.file("token")}, {"AWS_ROLE_ARN", std::string(kRoleArn)}});
  auto credentials = source.fetch();
  ASSERT_FALSE(credentials);
  const std::string& message = credentials.error().message();
  for (std::string_view secret : {std::string_view("SECRET-WEB-IDENTITY-TOKEN"), kAnswerSecret, kAnswerToken}) {
    EXPECT_EQ(message.find(secret), std::string::npos) << message;
  }
}

TEST(WebIdentitySource, FromAProfile) {
  TempDir dir;
  writeFile(dir.file("token"), "profile-token");
  FakeSts sts(200, successXml());
  WebIdentitySource source(dir.file("token"), std::string(kRoleArn), "laptop", StsOptions{.region = "eu-west-1"},
                           fakeEnv({{"AWS_ENDPOINT_URL_STS", sts.url()}}));
  EXPECT_TRUE(source.configured());
  auto credentials = source.fetch();
  ASSERT_TRUE(credentials) << credentials.error().message();
  auto requests = sts.requests();
  ASSERT_EQ(requests.size(), 1u);
  EXPECT_EQ(requests[0]["WebIdentityToken"], "profile-token");
  EXPECT_EQ(requests[0]["RoleSessionName"], "laptop");
}

}  // namespace
}  // namespace kinship::aws
