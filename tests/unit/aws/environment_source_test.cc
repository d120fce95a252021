#include "aws/environment_source.h"

#include <gtest/gtest.h>

#include <string>

#include "tests/support/fake_env.h"

namespace kinship::aws {
namespace {

using kinship::testing::fakeEnv;

Result<Credentials> fetchFrom(EnvLookup env) { return EnvironmentSource(std::move(env)).fetch(); }

TEST(EnvironmentSource, ReadsAllThreeVariables) {
  auto creds = fetchFrom(fakeEnv(
      {{"AWS_ACCESS_KEY_ID", "AKIDEXAMPLE"}, {"AWS_SECRET_ACCESS_KEY", "secret"}, {"AWS_SESSION_TOKEN", "token"}}));
  ASSERT_TRUE(creds.has_value()) << creds.error().message();
  EXPECT_EQ(creds->accessKeyId, "AKIDEXAMPLE");
  EXPECT_EQ(creds->secretAccessKey, "secret");
  EXPECT_EQ(creds->sessionToken, "token");
  EXPECT_FALSE(creds->expiration.has_value());
}

TEST(EnvironmentSource, SessionTokenIsOptionalAndEmptyMeansNone) {
  auto creds = fetchFrom(fakeEnv({{"AWS_ACCESS_KEY_ID", "AKIDEXAMPLE"}, {"AWS_SECRET_ACCESS_KEY", "secret"}}));
  ASSERT_TRUE(creds.has_value()) << creds.error().message();
  EXPECT_TRUE(creds->sessionToken.empty());
  creds = fetchFrom(
      fakeEnv({{"AWS_ACCESS_KEY_ID", "AKIDEXAMPLE"}, {"AWS_SECRET_ACCESS_KEY", "secret"}, {"AWS_SESSION_TOKEN", ""}}));
  ASSERT_TRUE(creds.has_value()) << creds.error().message();
  EXPECT_TRUE(creds->sessionToken.empty());
}

TEST(EnvironmentSource, ConfiguredByEitherKeyVariable) {
  EXPECT_FALSE(EnvironmentSource(fakeEnv({})).configured());
  EXPECT_FALSE(EnvironmentSource(fakeEnv({{"AWS_SESSION_TOKEN", "t"}})).configured());
  EXPECT_FALSE(EnvironmentSource(fakeEnv({{"AWS_ACCESS_KEY_ID", ""}})).configured());
  EXPECT_TRUE(EnvironmentSource(fakeEnv({{"AWS_ACCESS_KEY_ID", "AKID"}})).configured());
  EXPECT_TRUE(EnvironmentSource(fakeEnv({{"AWS_SECRET_ACCESS_KEY", "s"}})).configured());
}

TEST(EnvironmentSource, AHalfSetPairNamesTheMissingVariableAndNoSecret) {
  auto creds = fetchFrom(fakeEnv({{"AWS_SECRET_ACCESS_KEY", "very-secret-value"}}));
  ASSERT_FALSE(creds.has_value());
  EXPECT_EQ(creds.error().code(), Status::Code::kNotFound);
  EXPECT_NE(creds.error().message().find("AWS_ACCESS_KEY_ID"), std::string::npos) << creds.error().message();
  EXPECT_EQ(creds.error().message().find("AWS_SECRET_ACCESS_KEY"), std::string::npos) << creds.error().message();
  EXPECT_EQ(creds.error().message().find("very-secret-value"), std::string::npos) << creds.error().message();

  creds = fetchFrom(fakeEnv({{"AWS_ACCESS_KEY_ID", "AKIDEXAMPLE"}}));
  ASSERT_FALSE(creds.has_value());
  EXPECT_NE(creds.error().message().find("AWS_SECRET_ACCESS_KEY"), std::string::npos) << creds.error().message();
  EXPECT_EQ(creds.error().message().find("AWS_ACCESS_KEY_ID"), std::string::npos) << creds.error().message();
}

TEST(EnvironmentSource, BothMissingAreBothNamed) {
  auto creds = fetchFrom(fakeEnv({{"AWS_SESSION_TOKEN", "token"}}));
  ASSERT_FALSE(creds.has_value());
  EXPECT_NE(creds.error().message().find("AWS_ACCESS_KEY_ID"), std::string::npos) << creds.error().message();
  EXPECT_NE(creds.error().message().find("AWS_SECRET_ACCESS_KEY"), std::string::npos) << creds.error().message();
}

}  // namespace
}  // namespace kinship::aws
