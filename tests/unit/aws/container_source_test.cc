#include "aws/container_source.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <string>
#include <vector>

#include "tests/support/fake_env.h"
#include "tests/support/recording_http_server.h"

namespace kinship::aws {
namespace {

using namespace std::chrono_literals;
using kinship::testing::FakeHttpServer;
using kinship::testing::HttpReply;
using kinship::testing::HttpRequest;
using kinship::testing::fakeEnv;

constexpr char kCredentialsBody[] =
    R"({"AccessKeyId":"ASIACONTAINER","SecretAccessKey":"container-secret-value",)"
    R"("Token":"container-session-token","Expiration":"2026-12-07T03:00:00Z"})";

// A container-credentials endpoint that records each request and answers
// with `body` and `status`.
struct FakeEndpoint : kinship::testing::RecordingHttpServer {
  FakeEndpoint()
      : RecordingHttpServer({.status = 200, .body = kCredentialsBody, .contentType = "application/json"}) {}
  void answer(int status, std::string body) {
    RecordingHttpServer::answer({.status = status, .body = std::move(body), .contentType = "application/json"});
  }
};

ContainerOptions towards(const FakeEndpoint& endpoint) {
  ContainerOptions options;
  options.relativeBase = endpoint.url();
  options.connectTimeout = 500ms;
  options.timeout = 1000ms;
  return options;
}

class TempFile {
 public:
  TempFile() {
    std::string pattern = (std::filesystem::temp_directory_path() / "kinship-token-XXXXXX").string();
    int fd = ::mkstemp(pattern.data());
    EXPECT_GE(fd, 0);
    ::close(fd);
    path_ = pattern;
  }
  ~TempFile() { std::filesystem::remove(path_); }
  const std::string& path() const { return path_; }
  void write(const std::string& content) const { std::ofstream(path_, std::ios::trunc | std::ios::binary) << content; }

 private:
  std::string path_;
};

TEST(ContainerSourceTest, ConfiguredByEitherUri) {
  EXPECT_EQ(ContainerSource(fakeEnv({})).name(), "container");
  EXPECT_FALSE(ContainerSource(fakeEnv({})).configured());
  EXPECT_FALSE(ContainerSource(fakeEnv({{"AWS_CONTAINER_CREDENTIALS_FULL_URI", ""}})).configured());
  EXPECT_TRUE(ContainerSource(fakeEnv({{"AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", "/v2/credentials/x"}})).configured());
  EXPECT_TRUE(ContainerSource(fakeEnv({{"AWS_CONTAINER_CREDENTIALS_FULL_URI", "http://127.0.0.1/x"}})).configured());
}

TEST(ContainerSourceTest, RelativeUriAsksTheEcsEndpoint) {
  FakeEndpoint endpoint;
  ContainerSource source(fakeEnv({{"AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", "/v2/credentials/6f1c-task"}}),
                         towards(endpoint));
  auto credentials = source.fetch();
  ASSERT_TRUE(credentials) << credentials.error().message();
  EXPECT_EQ(credentials->accessKeyId, "ASIACONTAINER");
  EXPECT_EQ(credentials->secretAccessKey, "container-secret-value");
  EXPECT_EQ(credentials->sessionToken, "container-session-token");
  ASSERT_TRUE(credentials->expiration.has_value());
  EXPECT_EQ(*credentials->expiration, std::chrono::sys_days{std::chrono::year{2026} / 12 / 7} + 3h);

  auto requests = endpoint.requests();
  ASSERT_EQ(requests.size(), 1u);
  EXPECT_EQ(requests[0].method, "GET");
  EXPECT_EQ(requests[0].target, "/v2/credentials/6f1c-task");
  EXPECT_EQ(requests[0].headers.count("authorization"), 0u);
}

TEST(ContainerSourceTest, RelativeUriWinsOverFullUri) {
  FakeEndpoint endpoint;
  ContainerSource source(fakeEnv({{"AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", "/relative"},
                                {"AWS_CONTAINER_CREDENTIALS_FULL_URI", "http://example.com/full"}}),
                         towards(endpoint));
  ASSERT_TRUE(source.fetch());
  ASSERT_EQ(endpoint.requests().size(), 1u);
  EXPECT_EQ(endpoint.requests()[0].target, "/relative");
}

TEST(ContainerSourceTest, RelativeUriThatLeadsElsewhereIsRefused) {
  FakeEndpoint endpoint;
  for (const std::string uri : {"@example.com/creds", "v2/credentials", ".example.com/x"}) {
    ContainerSource source(fakeEnv({{"AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", uri}}), towards(endpoint));
    auto credentials = source.fetch();
    ASSERT_FALSE(credentials) << uri;
    EXPECT_EQ(credentials.error().code(), Status::Code::kInvalidArgument) << uri;
    EXPECT_NE(credentials.error().message().find("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI"), std::string::npos);
  }
  EXPECT_TRUE(endpoint.requests().empty());
}

TEST(ContainerSourceTest, FullUriOnLoopbackSendsTheAuthorizationToken) {
  FakeEndpoint endpoint;
  ContainerSource source(fakeEnv({{"AWS_CONTAINER_CREDENTIALS_FULL_URI", endpoint.url() + "/v1/credentials"},
                                {"AWS_CONTAINER_AUTHORIZATION_TOKEN", "Basic c2VjcmV0"}}),
                         towards(endpoint));
  auto credentials = source.fetch();
  ASSERT_TRUE(credentials) << credentials.error().message();
  EXPECT_EQ(credentials->accessKeyId, "ASIACONTAINER");
  auto requests = endpoint.requests();
  ASSERT_EQ(requests.size(), 1u);
  EXPECT_EQ(requests[0].target, "/v1/credentials");
  EXPECT_EQ(requests[0].headers["authorization"], "Basic c2VjcmV0");
}

TEST(ContainerSourceTest, TheTokenFileIsReadAgainAtEveryFetch) {
  FakeEndpoint endpoint;
  TempFile tokenFile;
  tokenFile.write("token-A\n");
  ContainerSource source(fakeEnv({{"AWS_CONTAINER_CREDENTIALS_FULL_URI", endpoint.url() + "/v1/credentials"},
                                {"AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE", tokenFile.path()},
                                {"AWS_CONTAINER_AUTHORIZATION_TOKEN", "token-from-the-variable"}}),
                         towards(endpoint));
  ASSERT_TRUE(source.fetch());
  tokenFile.write("token-B\r\n");
  ASSERT_TRUE(source.fetch());

  auto requests = endpoint.requests();
  ASSERT_EQ(requests.size(), 2u);
  EXPECT_EQ(requests[0].headers["authorization"], "token-A");
  EXPECT_EQ(requests[1].headers["authorization"], "token-B");
}

TEST(ContainerSourceTest, TokenFileProblemsAreErrorsNamingTheFile) {
  FakeEndpoint endpoint;
  TempFile tokenFile;
  auto fetchWith = [&](const std::string& path) {
    return ContainerSource(fakeEnv({{"AWS_CONTAINER_CREDENTIALS_FULL_URI", endpoint.url() + "/v1/credentials"},
                                  {"AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE", path}}),
                           towards(endpoint))
        .fetch();
  };
  auto missing = fetchWith(tokenFile.path() + ".missing");
  ASSERT_FALSE(missing);
  EXPECT_NE(missing.error().message().find(tokenFile.path() + ".missing"), std::string::npos);

  tokenFile.write("\n");
  auto empty = fetchWith(tokenFile.path());
  ASSERT_FALSE(empty);
  EXPECT_NE(empty.error().message().find("is empty"), std::string::npos) << empty.error().message();

  tokenFile.write(std::string(16 * 1024 + 1, 'a'));
  auto tooLong = fetchWith(tokenFile.path());
  ASSERT_FALSE(tooLong);
  EXPECT_NE(tooLong.error().message().find("larger than 16384 bytes"), std::string::npos)
      << tooLong.error().message();

  tokenFile.write(std::string(16 * 1024, 'a'));
  EXPECT_TRUE(fetchWith(tokenFile.path()));
  EXPECT_EQ(endpoint.requests().size(), 1u);
}

TEST(ContainerSourceTest, ATokenWithALineBreakIsRefused) {
  FakeEndpoint endpoint;
  TempFile tokenFile;
  tokenFile.write("token-secret\nX-Injected: yes\n");
  const std::vector<std::map<std::string, std::string, std::less<>>> envs = {
      {{"AWS_CONTAINER_AUTHORIZATION_TOKEN", "token-secret\r\nX-Injected: yes"}},
      {{"AWS_CONTAINER_AUTHORIZATION_TOKEN", "token-secret\nX-Injected: yes"}},
      {{"AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE", tokenFile.path()}},
  };
  for (auto env : envs) {
    env["AWS_CONTAINER_CREDENTIALS_FULL_URI"] = endpoint.url() + "/v1/credentials";
    auto credentials = ContainerSource(fakeEnv(env), towards(endpoint)).fetch();
    ASSERT_FALSE(credentials);
    EXPECT_EQ(credentials.error().code(), Status::Code::kInvalidArgument);
    EXPECT_NE(credentials.error().message().find("line break"), std::string::npos) << credentials.error().message();
    EXPECT_EQ(credentials.error().message().find("token-secret"), std::string::npos) << credentials.error().message();
  }
  EXPECT_TRUE(endpoint.requests().empty());
}

TEST(ContainerSourceTest, FullUriOnANonLoopbackHttpHostIsRefusedWithoutConnecting) {
  FakeEndpoint endpoint;
  // 0.0.0.0 reaches the local fake on Linux, so a check that let it through
  // would show up as a request.
  const std::string zeroHost = "http://0.0.0.0:" + endpoint.url().substr(endpoint.url().rfind(':') + 1) + "/creds";
  for (const std::string& uri : {std::string("http://example.com/creds"), std::string("http://10.0.0.1/x"), zeroHost}) {
    ContainerSource source(fakeEnv({{"AWS_CONTAINER_CREDENTIALS_FULL_URI", uri}}), towards(endpoint));
    auto credentials = source.fetch();
    ASSERT_FALSE(credentials) << uri;
    // httpFetch's failures are kUnavailable: this one came before any request.
    EXPECT_EQ(credentials.error().code(), Status::Code::kInvalidArgument) << uri;
    EXPECT_NE(credentials.error().message().find("is refused"), std::string::npos) << credentials.error().message();
    EXPECT_NE(credentials.error().message().find(uri), std::string::npos) << credentials.error().message();
  }
  EXPECT_TRUE(endpoint.requests().empty());
}

TEST(ContainerSourceTest, FullUriCheck) {
  const std::vector<std::string> accepted = {
      "https://example.com/creds",
      "https://10.0.0.1/x",
      "HTTPS://credentials.internal:8443/v1",
      "http://127.0.0.1:8080/v1/credentials",
      "http://127.1.2.3/creds",
      "http://localhost/creds",
      "http://LocalHost:9911/creds",
      "http://[::1]:80/creds",
      "http://[0:0:0:0:0:0:0:1]/creds",
      "http://169.254.170.2/v2/credentials/x",
      "http://169.254.170.23/v1/credentials",
      "http://[fd00:ec2::23]/v1/credentials",
      "http://[FD00:EC2:0:0::23]/v1/credentials",
  };
  for (const auto& uri : accepted) {
    auto url = checkContainerFullUri(uri);
    EXPECT_TRUE(url) << uri << ": " << url.error().message();
  }
  const std::vector<std::string> refused = {
      "http://example.com/creds",
      "http://10.0.0.1/x",
      "http://169.254.169.254/latest/meta-data/",
      "http://169.254.170.3/creds",
      "http://[fd00:ec2::24]/creds",
      "http://[fd00:ec2::254]/creds",
      "http://0.0.0.0/creds",
      "http://localhost.example.com/creds",
      "http://127.0.0.1.example.com/creds",
      "http://127.0.0.1@example.com/creds",
      "http://example.com#@127.0.0.1/creds",
      "http://user:password@127.0.0.1/creds",
      "ftp://127.0.0.1/creds",
      "file:///var/run/secrets/token",
      "127.0.0.1/creds",
      "",
  };
  for (const auto& uri : refused) {
    auto url = checkContainerFullUri(uri);
    ASSERT_FALSE(url) << uri << " gave " << *url;
    EXPECT_EQ(url.error().code(), Status::Code::kInvalidArgument);
    EXPECT_NE(url.error().message().find("AWS_CONTAINER_CREDENTIALS_FULL_URI"), std::string::npos);
  }
}

TEST(ContainerSourceTest, ErrorStatusNamesUrlAndStatus) {
  FakeEndpoint endpoint;
  endpoint.answer(403, R"({"code":"AccessDenied","message":"container-secret-value"})");
  ContainerSource source(fakeEnv({{"AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", "/v2/credentials/t"}}), towards(endpoint));
  auto credentials = source.fetch();
  ASSERT_FALSE(credentials);
  const std::string& message = credentials.error().message();
  EXPECT_NE(message.find("container credentials"), std::string::npos) << message;
  EXPECT_NE(message.find(endpoint.url() + "/v2/credentials/t"), std::string::npos) << message;
  EXPECT_NE(message.find("HTTP 403"), std::string::npos) << message;
  EXPECT_EQ(message.find("container-secret-value"), std::string::npos) << message;
  EXPECT_EQ(endpoint.requests().size(), 1u);  // a 4xx is not retried
}

TEST(ContainerSourceTest, AServerErrorIsRetriedOnce) {
  FakeEndpoint endpoint;
  endpoint.answer(500, "");
  ContainerSource source(fakeEnv({{"AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", "/v2/credentials/t"}}), towards(endpoint));
  auto credentials = source.fetch();
  ASSERT_FALSE(credentials);
  EXPECT_NE(credentials.error().message().find("HTTP 500"), std::string::npos);
  EXPECT_EQ(endpoint.requests().size(), 2u);
}

TEST(ContainerSourceTest, MalformedAnswersAreClearErrorsWithoutTheSecrets) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {R"({"AccessKeyId":"ASIACONTAINER","SecretAccessKey":"container-secret-value","Token":"container-session-)",
       "not valid JSON"},
      {R"(["container-secret-value"])", "not a JSON object"},
      {R"({"AccessKeyId":"ASIACONTAINER","Token":"container-session-token"})", "no SecretAccessKey"},
      {R"({"AccessKeyId":"ASIACONTAINER","SecretAccessKey":42,"Token":"container-session-token"})",
       "SecretAccessKey is not a string"},
      {R"({"AccessKeyId":"ASIACONTAINER","SecretAccessKey":"container-secret-value","Token":"container-session-token",)"
       R"("Expiration":"container-secret-value"})",
       "Expiration is not an ISO 8601 UTC timestamp"},
      {R"({"AccessKeyId":"ASIACONTAINER","SecretAccessKey":"container-secret-value",)"
       R"("Token":"container-session-token\r\nX: y","Expiration":"2026-12-07T03:00:00Z"})",
       "Token holds characters other than visible ASCII"},
  };
  for (const auto& [body, expected] : cases) {
    FakeEndpoint endpoint;
    endpoint.answer(200, body);
    ContainerSource source(fakeEnv({{"AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", "/v2/credentials/t"}}),
                           towards(endpoint));
    auto credentials = source.fetch();
    ASSERT_FALSE(credentials) << body;
    const std::string& message = credentials.error().message();
    EXPECT_NE(message.find(expected), std::string::npos) << message;
    EXPECT_NE(message.find(endpoint.url() + "/v2/credentials/t"), std::string::npos) << message;
    EXPECT_EQ(message.find("container-secret-value"), std::string::npos) << message;
    EXPECT_EQ(message.find("container-session-"), std::string::npos) << message;
  }
}

TEST(ContainerSourceTest, LongTermKeysWithoutTokenOrExpirationAreAccepted) {
  FakeEndpoint endpoint;
  endpoint.answer(200, R"({"AccessKeyId":"AKIALOCAL","SecretAccessKey":"local-secret"})");
  ContainerSource source(fakeEnv({{"AWS_CONTAINER_CREDENTIALS_FULL_URI", endpoint.url() + "/creds"}}), towards(endpoint));
  auto credentials = source.fetch();
  ASSERT_TRUE(credentials) << credentials.error().message();
  EXPECT_EQ(credentials->accessKeyId, "AKIALOCAL");
  EXPECT_TRUE(credentials->sessionToken.empty());
  EXPECT_FALSE(credentials->expiration.has_value());
}

}  // namespace
}  // namespace kinship::aws
