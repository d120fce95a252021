#include "aws/credentials_chain.h"

#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

namespace kinship::aws {
namespace {

// A source whose answers the test sets; counts how often it is asked.
class ScriptedSource final : public CredentialsSource {
 public:
  ScriptedSource(std::string name, bool configured, Result<Credentials> answer)
      : name_(std::move(name)), configured_(configured), answer_(std::move(answer)) {}
  std::string_view name() const override { return name_; }
  bool configured() override {
    ++configuredCalls;
    return configured_;
  }
  Result<Credentials> fetch() override {
    ++fetches;
    return answer_;
  }
  int configuredCalls = 0;
  int fetches = 0;

 private:
  std::string name_;
  bool configured_;
  Result<Credentials> answer_;
};

Credentials keys(std::string id) { return Credentials{.accessKeyId = std::move(id), .secretAccessKey = "s"}; }

struct Chain {
  std::vector<ScriptedSource*> sources;
  std::unique_ptr<CredentialsChain> chain;
};

Chain makeChain(std::vector<std::unique_ptr<ScriptedSource>> sources) {
  Chain out;
  std::vector<std::unique_ptr<CredentialsSource>> owned;
  for (auto& s : sources) {
    out.sources.push_back(s.get());
    owned.push_back(std::move(s));
  }
  out.chain = std::make_unique<CredentialsChain>(std::move(owned));
  return out;
}


TEST(CredentialsChain, TheFirstConfiguredSourceAnswersAndTheRestAreNotAsked) {
  std::vector<std::unique_ptr<ScriptedSource>> v;
  v.push_back(std::make_unique<ScriptedSource>("environment", false, keys("ENV")));
  v.push_back(std::make_unique<ScriptedSource>("web_identity", true, keys("IRSA")));
  v.push_back(std::make_unique<ScriptedSource>("imds", true, keys("NODE")));
  Chain c = makeChain(std::move(v));
  auto creds = c.chain->fetch();
  ASSERT_TRUE(creds) << creds.error().message();
  EXPECT_EQ(creds->accessKeyId, "IRSA");
  EXPECT_EQ(c.chain->name(), "web_identity");
  EXPECT_EQ(c.sources[2]->configuredCalls, 0);
  EXPECT_EQ(c.sources[2]->fetches, 0);
}

TEST(CredentialsChain, AConfiguredSourceThatFailsIsAnErrorNotAFallThrough) {
  std::vector<std::unique_ptr<ScriptedSource>> v;
  v.push_back(std::make_unique<ScriptedSource>("environment", false, keys("ENV")));
  v.push_back(std::make_unique<ScriptedSource>(
      "web_identity", true, fail(Status::unavailable("STS AssumeRoleWithWebIdentity refused: HTTP 403 AccessDenied"))));
  v.push_back(std::make_unique<ScriptedSource>("imds", true, keys("NODE")));
  Chain c = makeChain(std::move(v));
  auto creds = c.chain->fetch();
  ASSERT_FALSE(creds);
  EXPECT_EQ(creds.error().message(),
            "credentials from web_identity: STS AssumeRoleWithWebIdentity refused: HTTP 403 AccessDenied");
  EXPECT_EQ(c.sources[2]->fetches, 0) << "fell through to the node's identity";
}

TEST(CredentialsChain, StaysWithTheSourceThatAnsweredFirst) {
  std::vector<std::unique_ptr<ScriptedSource>> v;
  v.push_back(std::make_unique<ScriptedSource>("environment", false, keys("ENV")));
  v.push_back(std::make_unique<ScriptedSource>("profile", true, keys("PROFILE")));
  Chain c = makeChain(std::move(v));
  ASSERT_TRUE(c.chain->fetch());
  ASSERT_TRUE(c.chain->fetch());
  EXPECT_EQ(c.sources[0]->configuredCalls, 1);
  EXPECT_EQ(c.sources[1]->fetches, 2);
}

TEST(CredentialsChain, NoSourceConfiguredListsWhatWasTried) {
  std::vector<std::unique_ptr<ScriptedSource>> v;
  v.push_back(std::make_unique<ScriptedSource>("environment", false, keys("ENV")));
  v.push_back(std::make_unique<ScriptedSource>("imds", false, keys("NODE")));
  Chain c = makeChain(std::move(v));
  EXPECT_FALSE(c.chain->configured());
  EXPECT_EQ(c.chain->name(), "none");
  auto creds = c.chain->fetch();
  ASSERT_FALSE(creds);
  EXPECT_EQ(creds.error().code(), Status::Code::kNotFound);
  EXPECT_EQ(creds.error().message(), "no AWS credentials found (tried: environment, imds)");
}

}  // namespace
}  // namespace kinship::aws
