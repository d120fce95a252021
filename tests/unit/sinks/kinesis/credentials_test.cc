#include "sinks/kinesis/credentials.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <map>
#include <memory>
#include <string>

namespace kinship::kinesis {
namespace {

EnvLookup fakeEnv(std::map<std::string, std::string, std::less<>> vars) {
  return [vars = std::move(vars)](std::string_view name) -> std::optional<std::string> {
    auto it = vars.find(name);
    if (it == vars.end()) return std::nullopt;
    return it->second;
  };
}

TEST(CredentialsFromEnvironment, ReadsAllThreeVariables) {
  auto creds = credentialsFromEnvironment(fakeEnv({{"AWS_ACCESS_KEY_ID", "AKIDEXAMPLE"},
                                                   {"AWS_SECRET_ACCESS_KEY", "secret"},
                                                   {"AWS_SESSION_TOKEN", "token"}}));
  ASSERT_TRUE(creds.has_value()) << creds.error().message();
  EXPECT_EQ(creds->accessKeyId, "AKIDEXAMPLE");
  EXPECT_EQ(creds->secretAccessKey, "secret");
  EXPECT_EQ(creds->sessionToken, "token");
}

TEST(CredentialsFromEnvironment, SessionTokenIsOptional) {
  auto creds =
      credentialsFromEnvironment(fakeEnv({{"AWS_ACCESS_KEY_ID", "AKIDEXAMPLE"}, {"AWS_SECRET_ACCESS_KEY", "secret"}}));
  ASSERT_TRUE(creds.has_value()) << creds.error().message();
  EXPECT_EQ(creds->accessKeyId, "AKIDEXAMPLE");
  EXPECT_EQ(creds->secretAccessKey, "secret");
  EXPECT_TRUE(creds->sessionToken.empty());
}

TEST(CredentialsFromEnvironment, EmptySessionTokenMeansNone) {
  auto creds = credentialsFromEnvironment(fakeEnv(
      {{"AWS_ACCESS_KEY_ID", "AKIDEXAMPLE"}, {"AWS_SECRET_ACCESS_KEY", "secret"}, {"AWS_SESSION_TOKEN", ""}}));
  ASSERT_TRUE(creds.has_value()) << creds.error().message();
  EXPECT_TRUE(creds->sessionToken.empty());
}

TEST(CredentialsFromEnvironment, MissingKeyIdIsNamed) {
  auto creds = credentialsFromEnvironment(fakeEnv({{"AWS_SECRET_ACCESS_KEY", "secret"}}));
  ASSERT_FALSE(creds.has_value());
  EXPECT_EQ(creds.error().code(), Status::Code::kNotFound);
  EXPECT_NE(creds.error().message().find("AWS_ACCESS_KEY_ID"), std::string::npos) << creds.error().message();
  EXPECT_EQ(creds.error().message().find("AWS_SECRET_ACCESS_KEY"), std::string::npos) << creds.error().message();
}

TEST(CredentialsFromEnvironment, MissingSecretIsNamed) {
  auto creds = credentialsFromEnvironment(fakeEnv({{"AWS_ACCESS_KEY_ID", "AKIDEXAMPLE"}}));
  ASSERT_FALSE(creds.has_value());
  EXPECT_EQ(creds.error().code(), Status::Code::kNotFound);
  EXPECT_NE(creds.error().message().find("AWS_SECRET_ACCESS_KEY"), std::string::npos) << creds.error().message();
  EXPECT_EQ(creds.error().message().find("AWS_ACCESS_KEY_ID"), std::string::npos) << creds.error().message();
}

TEST(CredentialsFromEnvironment, BothMissingAreBothNamed) {
  auto creds = credentialsFromEnvironment(fakeEnv({{"AWS_SESSION_TOKEN", "token"}}));
  ASSERT_FALSE(creds.has_value());
  EXPECT_NE(creds.error().message().find("AWS_ACCESS_KEY_ID"), std::string::npos) << creds.error().message();
  EXPECT_NE(creds.error().message().find("AWS_SECRET_ACCESS_KEY"), std::string::npos) << creds.error().message();
}

TEST(CredentialsFromEnvironment, EmptyValueCountsAsMissing) {
  auto creds = credentialsFromEnvironment(fakeEnv({{"AWS_ACCESS_KEY_ID", ""}, {"AWS_SECRET_ACCESS_KEY", "secret"}}));
  ASSERT_FALSE(creds.has_value());
  EXPECT_NE(creds.error().message().find("AWS_ACCESS_KEY_ID"), std::string::npos) << creds.error().message();
}

TEST(EnvironmentCredentialsProvider, ReadsThroughTheInjectedLookup) {
  std::unique_ptr<CredentialsProvider> provider = std::make_unique<EnvironmentCredentialsProvider>(
      fakeEnv({{"AWS_ACCESS_KEY_ID", "AKIDEXAMPLE"}, {"AWS_SECRET_ACCESS_KEY", "secret"}}));
  auto creds = provider->current();
  ASSERT_TRUE(creds.has_value()) << creds.error().message();
  EXPECT_EQ(creds->accessKeyId, "AKIDEXAMPLE");
  EXPECT_EQ(creds->secretAccessKey, "secret");
}

TEST(EnvironmentCredentialsProvider, ReportsMissingVariables) {
  EnvironmentCredentialsProvider provider(fakeEnv({}));
  auto creds = provider.current();
  ASSERT_FALSE(creds.has_value());
  EXPECT_NE(creds.error().message().find("AWS_ACCESS_KEY_ID"), std::string::npos);
}

TEST(ProcessEnvironment, ReadsTheRealEnvironment) {
  ASSERT_EQ(::setenv("KINSHIP_CREDENTIALS_TEST_VAR", "value", 1), 0);
  EnvLookup env = processEnvironment();
  EXPECT_EQ(env("KINSHIP_CREDENTIALS_TEST_VAR"), std::optional<std::string>("value"));
  ::unsetenv("KINSHIP_CREDENTIALS_TEST_VAR");
  EXPECT_EQ(env("KINSHIP_CREDENTIALS_TEST_VAR"), std::nullopt);
}

}  // namespace
}  // namespace kinship::kinesis
