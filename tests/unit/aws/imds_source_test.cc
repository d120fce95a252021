#include "aws/imds_source.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <map>
#include <string>

#include "tests/support/fake_env.h"
#include "tests/support/fake_http_server.h"

namespace kinship::aws {
namespace {

using namespace std::chrono_literals;
using kinship::testing::FakeHttpServer;
using kinship::testing::HttpReply;
using kinship::testing::HttpRequest;
using kinship::testing::fakeEnv;

ImdsOptions shortTimeouts() {
  ImdsOptions options;
  options.connectTimeout = 500ms;
  options.timeout = 500ms;
  return options;
}

TEST(ImdsSourceTest, NameAndConfigured) {
  ImdsSource plain(fakeEnv({}));
  EXPECT_EQ(plain.name(), "imds");
  EXPECT_TRUE(plain.configured());
  EXPECT_TRUE(ImdsSource(fakeEnv({{"AWS_EC2_METADATA_DISABLED", "false"}})).configured());
  EXPECT_FALSE(ImdsSource(fakeEnv({{"AWS_EC2_METADATA_DISABLED", "true"}})).configured());
  EXPECT_FALSE(ImdsSource(fakeEnv({{"AWS_EC2_METADATA_DISABLED", "True"}})).configured());
}

TEST(ImdsSourceTest, FetchesTheInstanceProfileCredentials) {
  FakeHttpServer server([](const HttpRequest& request) {
    HttpReply reply;
    if (request.method == "PUT") {
      reply.body = "t";
    } else if (request.target == "/latest/meta-data/iam/security-credentials/") {
      reply.body = "node-role";
    } else if (request.target == "/latest/meta-data/iam/security-credentials/node-role") {
      reply.body = R"({"Code":"Success","AccessKeyId":"ASIAX","SecretAccessKey":"s","Token":"t",)"
                   R"("Expiration":"2026-12-07T03:00:00.123Z"})";
    } else {
      reply.status = 404;
    }
    return reply;
  });
  ImdsSource source(fakeEnv({{"AWS_EC2_METADATA_SERVICE_ENDPOINT", server.url()}}), shortTimeouts());
  auto credentials = source.fetch();
  ASSERT_TRUE(credentials) << credentials.error().message();
  EXPECT_EQ(credentials->accessKeyId, "ASIAX");
  EXPECT_EQ(*credentials->expiration, std::chrono::sys_days{std::chrono::year{2026} / 12 / 7} + 3h + 123ms);
}

TEST(ImdsSourceTest, DisabledFetchesNothing) {
  std::atomic<int> requests{0};
  FakeHttpServer server([&](const HttpRequest&) {
    ++requests;
    return HttpReply{};
  });
  ImdsSource source(fakeEnv({{"AWS_EC2_METADATA_SERVICE_ENDPOINT", server.url()}, {"AWS_EC2_METADATA_DISABLED", "TRUE"}}),
                    shortTimeouts());
  auto credentials = source.fetch();
  ASSERT_FALSE(credentials);
  EXPECT_NE(credentials.error().message().find("AWS_EC2_METADATA_DISABLED"), std::string::npos);
  EXPECT_EQ(requests, 0);
}

}  // namespace
}  // namespace kinship::aws
