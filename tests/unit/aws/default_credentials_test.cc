// The default chain with its real sources, in the AWS SDKs' order:
// environment, web identity, profile, container, instance metadata; and the
// sink's role_arn assumed over whichever answers. One fake server on
// 127.0.0.1 plays STS, the container endpoint and IMDS, each answering with
// keys of its own, so the key that comes back names the source that won.

#include "aws/default_credentials.h"

#include <gtest/gtest.h>
#include <prometheus/registry.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <string>

#include "common/clock.h"
#include "tests/support/fake_env.h"
#include "tests/support/fake_http_server.h"
#include "tests/support/metrics_reader.h"

namespace kinship::aws {
namespace {

using kinship::testing::FakeHttpServer;
using kinship::testing::HttpReply;
using kinship::testing::HttpRequest;

std::string stsAnswer(const std::string& action, const std::string& keyId) {
  return "<" + action + "Response><" + action + "Result><Credentials><AccessKeyId>" + keyId +
         "</AccessKeyId><SecretAccessKey>s</SecretAccessKey><SessionToken>t</SessionToken>"
         "<Expiration>2099-01-01T00:00:00Z</Expiration></Credentials></" +
         action + "Result></" + action + "Response>";
}

std::string jsonCredentials(const std::string& keyId) {
  return R"({"Code":"Success","AccessKeyId":")" + keyId +
         R"(","SecretAccessKey":"s","Token":"t","Expiration":"2099-01-01T00:00:00Z"})";
}

class FakeAws {
 public:
  FakeAws()
      : server_([this](const HttpRequest& r) { return handle(r); }) {}
  std::string url() const { return server_.url(); }
  int asked(const std::string& service) {
    std::lock_guard lock(mu_);
    return asked_[service];
  }

 private:
  HttpReply handle(const HttpRequest& r) {
    std::lock_guard lock(mu_);
    if (r.target.starts_with("/latest/")) {
      ++asked_["imds"];
      if (r.method == "PUT") return HttpReply{200, "imds-session", "text/plain"};
      if (r.target == "/latest/meta-data/iam/security-credentials/") return HttpReply{200, "node-role", "text/plain"};
      return HttpReply{200, jsonCredentials("AKIDIMDS"), "application/json"};
    }
    if (r.target == "/creds") {
      ++asked_["container"];
      return HttpReply{200, jsonCredentials("AKIDCONTAINER"), "application/json"};
    }
    ++asked_["sts"];
    if (r.body.find("Action=AssumeRoleWithWebIdentity") != std::string::npos) {
      return HttpReply{200, stsAnswer("AssumeRoleWithWebIdentity", "AKIDWEBIDENTITY"), "text/xml"};
    }
    // AssumeRole: the key says who signed it.
    const bool byEnvironment = r.headers.at("authorization").find("Credential=AKIDENV/") != std::string::npos;
    return HttpReply{200, stsAnswer("AssumeRole", byEnvironment ? "AKIDROLEOVERENV" : "AKIDROLE"), "text/xml"};
  }

  std::mutex mu_;
  std::map<std::string, int> asked_;
  FakeHttpServer server_;
};

class DefaultCredentialsTest : public ::testing::Test {
 protected:
  DefaultCredentialsTest() {
    dir_ = std::filesystem::temp_directory_path() / ("kinship-chain-" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir_);
    std::ofstream(dir_ / "token") << "web-identity-token";
    std::ofstream(dir_ / "credentials") << "[team]\naws_access_key_id = AKIDPROFILE\naws_secret_access_key = s\n";
  }
  ~DefaultCredentialsTest() override { std::filesystem::remove_all(dir_); }

  // Each layer of the chain, set up or not.
  struct Setup {
    bool environment = false;
    bool webIdentity = false;
    bool profile = false;
    bool container = false;
  };

  // The access key id the provider hands out.
  std::string keyFrom(Setup setup, CredentialsOptions options = {}) {
    std::map<std::string, std::string, std::less<>> vars{
        {"HOME", dir_.string()},
        {"AWS_CONFIG_FILE", (dir_ / "no-config").string()},
        {"AWS_SHARED_CREDENTIALS_FILE", (dir_ / "credentials").string()},
        {"AWS_EC2_METADATA_SERVICE_ENDPOINT", aws_.url()},
        {"AWS_ENDPOINT_URL_STS", aws_.url()},
    };
    if (setup.environment) {
      vars["AWS_ACCESS_KEY_ID"] = "AKIDENV";
      vars["AWS_SECRET_ACCESS_KEY"] = "s";
    }
    if (setup.webIdentity) {
      vars["AWS_WEB_IDENTITY_TOKEN_FILE"] = (dir_ / "token").string();
      vars["AWS_ROLE_ARN"] = "arn:aws:iam::123456789012:role/irsa";
    }
    if (setup.profile) vars["AWS_PROFILE"] = "team";
    if (setup.container) vars["AWS_CONTAINER_CREDENTIALS_FULL_URI"] = aws_.url() + "/creds";
    options.region = "us-east-1";
    auto provider = makeCredentialsProvider(options, kinship::testing::fakeEnv(std::move(vars)),
                                            {registry_, "app", SystemClock::instance()});
    if (Status started = provider->start(); !started) return "error: " + started.message();
    auto credentials = provider->current();
    if (!credentials) return "error: " + credentials.error().message();
    return credentials->accessKeyId;
  }

  std::filesystem::path dir_;
  FakeAws aws_;
  prometheus::Registry registry_;
};

TEST_F(DefaultCredentialsTest, EachSourceWinsOverEveryLaterOne) {
  EXPECT_EQ(keyFrom({.environment = true, .webIdentity = true, .profile = true, .container = true}), "AKIDENV");
  EXPECT_EQ(keyFrom({.webIdentity = true, .profile = true, .container = true}), "AKIDWEBIDENTITY");
  EXPECT_EQ(keyFrom({.profile = true, .container = true}), "AKIDPROFILE");
  EXPECT_EQ(keyFrom({.container = true}), "AKIDCONTAINER");
  EXPECT_EQ(aws_.asked("imds"), 0) << "no source asked the metadata service while an earlier one answered";
  EXPECT_EQ(keyFrom({}), "AKIDIMDS");
}

TEST_F(DefaultCredentialsTest, TheSinksRoleIsAssumedWithTheChainsCredentials) {
  CredentialsOptions options;
  options.roleArn = "arn:aws:iam::210987654321:role/writer";
  EXPECT_EQ(keyFrom({.environment = true}, options), "AKIDROLEOVERENV");
  EXPECT_EQ(kinship::testing::metricValue(registry_, "kinship_credentials_refreshes_total",
                                          {{"provider", "assume_role"}, {"result", "success"}}),
            1);
}

}  // namespace
}  // namespace kinship::aws
