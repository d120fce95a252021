#include "aws/imds_client.h"

#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <map>
#include <mutex>
#include <string>
#include <vector>

#include "tests/support/fake_env.h"
#include "tests/support/fake_http_server.h"

namespace kinship::aws {
namespace {

using namespace std::chrono_literals;
using kinship::testing::FakeHttpServer;
using kinship::testing::HttpReply;
using kinship::testing::HttpRequest;
using kinship::testing::fakeEnv;

constexpr char kRolesPath[] = "/latest/meta-data/iam/security-credentials/";
constexpr char kCredentialsBody[] =
    R"({"Code":"Success","LastUpdated":"2026-12-07T01:00:00Z","Type":"AWS-HMAC",)"
    R"("AccessKeyId":"ASIAIMDSKEY","SecretAccessKey":"imds-secret-value","Token":"imds-session-token",)"
    R"("Expiration":"2026-12-07T03:00:00Z"})";

ImdsOptions shortTimeouts() {
  ImdsOptions options;
  options.connectTimeout = 500ms;
  options.timeout = 500ms;
  return options;
}

// A scripted IMDS that hands out tokens "token-1", "token-2"... and records
// every request; GETs with a token it did not hand out last get a 401.
class FakeImds {
 public:
  FakeImds() : server_([this](const HttpRequest& r) { return handle(r); }) {}

  std::string url() const { return server_.url(); }
  std::vector<HttpRequest> requests() {
    std::lock_guard lock(mutex_);
    return requests_;
  }
  void setRoleList(int status, std::string body) {
    std::lock_guard lock(mutex_);
    roleStatus_ = status;
    roleBody_ = std::move(body);
  }
  void setCredentialsBody(std::string body) {
    std::lock_guard lock(mutex_);
    credentialsBody_ = std::move(body);
  }
  // The next GET answers 401 whatever its token, as when a token expires.
  void expireToken() {
    std::lock_guard lock(mutex_);
    currentToken_.clear();
  }
  void failNextGets(int count) {
    std::lock_guard lock(mutex_);
    failGets_ = count;
  }

 private:
  HttpReply handle(const HttpRequest& request) {
    std::lock_guard lock(mutex_);
    requests_.push_back(request);
    HttpReply reply;
    reply.contentType = "text/plain";
    if (request.method == "PUT" && request.target == "/latest/api/token") {
      currentToken_ = "token-" + std::to_string(++tokens_);
      reply.body = currentToken_;
      return reply;
    }
    auto token = request.headers.find("x-aws-ec2-metadata-token");
    if (request.method != "GET" || token == request.headers.end() || token->second != currentToken_ ||
        currentToken_.empty()) {
      reply.status = 401;
      return reply;
    }
    if (failGets_ > 0) {
      --failGets_;
      reply.status = 503;
      return reply;
    }
    if (request.target == kRolesPath) {
      reply.status = roleStatus_;
      reply.body = roleBody_;
    } else if (request.target == std::string(kRolesPath) + "kinship-node") {
      reply.body = credentialsBody_;
    } else if (request.target == "/latest/meta-data/placement/region") {
      reply.body = "eu-west-3";
    } else {
      reply.status = 404;
    }
    return reply;
  }

  std::mutex mutex_;
  std::vector<HttpRequest> requests_;
  int tokens_ = 0;
  std::string currentToken_;
  int roleStatus_ = 200;
  std::string roleBody_ = "kinship-node\n";
  std::string credentialsBody_ = kCredentialsBody;
  int failGets_ = 0;
  FakeHttpServer server_;  // last: its threads stop before the state above goes
};

TEST(ImdsClientTest, PutsForATokenFirstAndSendsItWithEveryGet) {
  FakeImds imds;
  ImdsClient client(fakeEnv({{"AWS_EC2_METADATA_SERVICE_ENDPOINT", imds.url() + "/"}}), shortTimeouts());
  EXPECT_EQ(client.endpoint(), imds.url());

  auto credentials = client.credentials();
  ASSERT_TRUE(credentials) << credentials.error().message();
  EXPECT_EQ(credentials->accessKeyId, "ASIAIMDSKEY");
  EXPECT_EQ(credentials->secretAccessKey, "imds-secret-value");
  EXPECT_EQ(credentials->sessionToken, "imds-session-token");
  ASSERT_TRUE(credentials->expiration.has_value());
  EXPECT_EQ(*credentials->expiration, std::chrono::sys_days{std::chrono::year{2026} / 12 / 7} + 3h);

  auto requests = imds.requests();
  ASSERT_EQ(requests.size(), 3u);
  EXPECT_EQ(requests[0].method, "PUT");
  EXPECT_EQ(requests[0].target, "/latest/api/token");
  EXPECT_EQ(requests[0].headers["x-aws-ec2-metadata-token-ttl-seconds"], "21600");
  EXPECT_EQ(requests[1].target, kRolesPath);
  EXPECT_EQ(requests[2].target, std::string(kRolesPath) + "kinship-node");
  for (size_t i = 1; i < requests.size(); ++i) {
    EXPECT_EQ(requests[i].method, "GET");
    EXPECT_EQ(requests[i].headers["x-aws-ec2-metadata-token"], "token-1");
  }
}

TEST(ImdsClientTest, ReusesItsTokenAcrossCalls) {
  FakeImds imds;
  ImdsClient client(fakeEnv({{"AWS_EC2_METADATA_SERVICE_ENDPOINT", imds.url()}}), shortTimeouts());
  ASSERT_TRUE(client.credentials());
  ASSERT_TRUE(client.region());
  int puts = 0;
  for (const auto& r : imds.requests()) puts += r.method == "PUT";
  EXPECT_EQ(puts, 1);
}

TEST(ImdsClientTest, ReadsTheRegion) {
  FakeImds imds;
  ImdsClient client(fakeEnv({{"AWS_EC2_METADATA_SERVICE_ENDPOINT", imds.url()}}), shortTimeouts());
  auto region = client.region();
  ASSERT_TRUE(region) << region.error().message();
  EXPECT_EQ(*region, "eu-west-3");
}

TEST(ImdsClientTest, An401FetchesANewTokenAndRetriesOnce) {
  FakeImds imds;
  ImdsClient client(fakeEnv({{"AWS_EC2_METADATA_SERVICE_ENDPOINT", imds.url()}}), shortTimeouts());
  ASSERT_TRUE(client.region());
  imds.expireToken();

  auto credentials = client.credentials();
  ASSERT_TRUE(credentials) << credentials.error().message();
  EXPECT_EQ(credentials->accessKeyId, "ASIAIMDSKEY");

  // PUT, GET region, GET roles (401), PUT, GET roles, GET credentials.
  auto requests = imds.requests();
  ASSERT_EQ(requests.size(), 6u);
  EXPECT_EQ(requests[2].headers["x-aws-ec2-metadata-token"], "token-1");
  EXPECT_EQ(requests[3].method, "PUT");
  EXPECT_EQ(requests[4].headers["x-aws-ec2-metadata-token"], "token-2");
  EXPECT_EQ(requests[5].headers["x-aws-ec2-metadata-token"], "token-2");
}

TEST(ImdsClientTest, AServerErrorIsRetriedOnce) {
  FakeImds imds;
  ImdsClient client(fakeEnv({{"AWS_EC2_METADATA_SERVICE_ENDPOINT", imds.url()}}), shortTimeouts());
  imds.failNextGets(1);
  auto region = client.region();
  ASSERT_TRUE(region) << region.error().message();

  imds.failNextGets(2);
  region = client.region();
  ASSERT_FALSE(region);
  EXPECT_NE(region.error().message().find("answered HTTP 503"), std::string::npos) << region.error().message();
}

TEST(ImdsClientTest, NoRoleListedMeansNoInstanceProfile) {
  FakeImds imds;
  imds.setRoleList(404, "");
  ImdsClient client(fakeEnv({{"AWS_EC2_METADATA_SERVICE_ENDPOINT", imds.url()}}), shortTimeouts());
  auto credentials = client.credentials();
  ASSERT_FALSE(credentials);
  EXPECT_EQ(credentials.error().code(), Status::Code::kNotFound);
  EXPECT_NE(credentials.error().message().find("no instance profile attached"), std::string::npos)
      << credentials.error().message();
  EXPECT_NE(credentials.error().message().find("404"), std::string::npos);
}

TEST(ImdsClientTest, ARoleNameThatIsNotOneIsRefused) {
  FakeImds imds;
  imds.setRoleList(200, "../../latest/user-data\n");
  ImdsClient client(fakeEnv({{"AWS_EC2_METADATA_SERVICE_ENDPOINT", imds.url()}}), shortTimeouts());
  auto credentials = client.credentials();
  ASSERT_FALSE(credentials);
  EXPECT_NE(credentials.error().message().find("not an IAM role name"), std::string::npos)
      << credentials.error().message();
  EXPECT_EQ(imds.requests().size(), 2u);  // PUT and the role list, nothing after
}

TEST(ImdsClientTest, MalformedCredentialsAreAClearErrorWithoutTheSecrets) {
  const std::vector<std::string> bodies = {
      // cut short
      R"({"Code":"Success","AccessKeyId":"ASIAIMDSKEY","SecretAccessKey":"imds-secret-value",)"
      R"("Token":"imds-session-tok)",
      // no secret key
      R"({"Code":"Success","AccessKeyId":"ASIAIMDSKEY","Token":"imds-session-token",)"
      R"("Expiration":"2026-12-07T03:00:00Z"})",
      // not Success
      R"({"Code":"AssumeRoleUnauthorizedAccess","AccessKeyId":"ASIAIMDSKEY","SecretAccessKey":"imds-secret-value",)"
      R"("Token":"imds-session-token","Expiration":"2026-12-07T03:00:00Z"})",
      // expiration not a timestamp
      R"({"Code":"Success","AccessKeyId":"ASIAIMDSKEY","SecretAccessKey":"imds-secret-value",)"
      R"("Token":"imds-session-token","Expiration":"imds-secret-value"})",
  };
  for (const auto& body : bodies) {
    FakeImds imds;
    imds.setCredentialsBody(body);
    ImdsClient client(fakeEnv({{"AWS_EC2_METADATA_SERVICE_ENDPOINT", imds.url()}}), shortTimeouts());
    auto credentials = client.credentials();
    ASSERT_FALSE(credentials) << body;
    const std::string& message = credentials.error().message();
    EXPECT_NE(message.find("instance metadata"), std::string::npos) << message;
    EXPECT_NE(message.find(imds.url() + kRolesPath + "kinship-node"), std::string::npos) << message;
    EXPECT_EQ(message.find("imds-secret-value"), std::string::npos) << message;
    EXPECT_EQ(message.find("imds-session-tok"), std::string::npos) << message;
  }
}

// A socket that listens and never accepts: the kernel completes the TCP
// handshake, so the connection succeeds and no answer ever comes, like an
// IMDS behind a hop limit that drops the reply.
class SilentListener {
 public:
  SilentListener() {
    fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    EXPECT_EQ(::bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
    EXPECT_EQ(::listen(fd_, 16), 0);
    socklen_t len = sizeof addr;
    ::getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len);
    port_ = ntohs(addr.sin_port);
  }
  ~SilentListener() { ::close(fd_); }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_); }

 private:
  int fd_ = -1;
  uint16_t port_ = 0;
};

TEST(ImdsClientTest, AnImdsThatNeverAnswersIsAClearErrorWithinTheTimeouts) {
  SilentListener silent;
  ImdsOptions options;
  options.connectTimeout = 200ms;
  options.timeout = 200ms;
  ImdsClient client(fakeEnv({{"AWS_EC2_METADATA_SERVICE_ENDPOINT", silent.url()}}), options);

  auto credentials = client.credentials();
  ASSERT_FALSE(credentials);
  EXPECT_EQ(credentials.error().code(), Status::Code::kUnavailable);
  const std::string& message = credentials.error().message();
  EXPECT_NE(message.find("did not answer at " + silent.url() + " within 200 ms"), std::string::npos) << message;
  EXPECT_NE(message.find("2 attempts"), std::string::npos) << message;
}

TEST(ImdsClientTest, EndpointDefaultsAndMode) {
  EXPECT_EQ(ImdsClient(fakeEnv({})).endpoint(), "http://169.254.169.254");
  EXPECT_EQ(ImdsClient(fakeEnv({{"AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE", "ipv6"}})).endpoint(),
            "http://[fd00:ec2::254]");
  EXPECT_EQ(ImdsClient(fakeEnv({{"AWS_EC2_METADATA_SERVICE_ENDPOINT", "http://127.0.0.1:9"},
                              {"AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE", "IPv6"}}))
                .endpoint(),
            "http://127.0.0.1:9");
}

TEST(ImdsClientTest, DisabledIsTrueInAnyCaseOnly) {
  EXPECT_FALSE(imdsDisabled(fakeEnv({})));
  EXPECT_FALSE(imdsDisabled(fakeEnv({{"AWS_EC2_METADATA_DISABLED", "false"}})));
  EXPECT_FALSE(imdsDisabled(fakeEnv({{"AWS_EC2_METADATA_DISABLED", "1"}})));
  EXPECT_TRUE(imdsDisabled(fakeEnv({{"AWS_EC2_METADATA_DISABLED", "true"}})));
  EXPECT_TRUE(imdsDisabled(fakeEnv({{"AWS_EC2_METADATA_DISABLED", "TRUE"}})));
}

}  // namespace
}  // namespace kinship::aws
