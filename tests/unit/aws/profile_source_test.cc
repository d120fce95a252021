#include "aws/profile_source.h"

#include <gtest/gtest.h>
#include <stdlib.h>
#include <sys/stat.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <string>
#include <vector>

#include "tests/support/fake_env.h"
#include "tests/support/fake_http_server.h"

namespace kinship::aws {
namespace {

using kinship::testing::FakeHttpServer;
using kinship::testing::HttpReply;
using kinship::testing::HttpRequest;

constexpr std::string_view kSourceSecret = "SOURCESECRETwJalrXUtnFEMIK7MDENG";
constexpr std::string_view kAssumedSecret = "ASSUMEDSECRETbPxRfiCYEXAMPLEKEY";
constexpr std::string_view kAssumedToken = "ASSUMEDTOKENIQoJb3JpZ2luX2Vj";

class TempDir {
 public:
  TempDir() {
    std::string pattern = (std::filesystem::temp_directory_path() / "kinship-profile-source-XXXXXX").string();
    if (::mkdtemp(pattern.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
    path_ = pattern;
  }
  ~TempDir() { std::filesystem::remove_all(path_); }
  std::string write(const std::string& name, const std::string& content) const {
    const std::string file = path_ + "/" + name;
    std::ofstream(file, std::ios::binary | std::ios::trunc) << content;
    return file;
  }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

std::string urlDecode(std::string_view text) {
  std::string out;
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '+') {
      out += ' ';
    } else if (text[i] == '%' && i + 2 < text.size()) {
      out += static_cast<char>(std::stoi(std::string(text.substr(i + 1, 2)), nullptr, 16));
      i += 2;
    } else {
      out += text[i];
    }
  }
  return out;
}

std::map<std::string, std::string> formParams(const std::string& body) {
  std::map<std::string, std::string> params;
  size_t pos = 0;
  while (pos <= body.size()) {
    size_t end = body.find('&', pos);
    if (end == std::string::npos) end = body.size();
    const std::string pair = body.substr(pos, end - pos);
    const size_t equals = pair.find('=');
    if (equals != std::string::npos) params[urlDecode(pair.substr(0, equals))] = urlDecode(pair.substr(equals + 1));
    pos = end + 1;
  }
  return params;
}

// The access key id a request was signed with ("" when unsigned).
std::string signedWith(const HttpRequest& request) {
  const auto found = request.headers.find("authorization");
  if (found == request.headers.end()) return "";
  const std::string& header = found->second;
  const size_t start = header.find("Credential=");
  if (start == std::string::npos) return "?";
  const size_t end = header.find('/', start);
  return header.substr(start + 11, end - start - 11);
}

struct StsCall {
  std::map<std::string, std::string> params;
  std::string accessKeyId;  // what it was signed with
};

// STS on 127.0.0.1: answers AssumeRole and AssumeRoleWithWebIdentity with
// an access key id naming the role ("ASIA" + the role's name, upper-cased),
// so chained calls can be told apart; remembers every call.
class FakeSts {
 public:
  FakeSts()
      : server_([this](const HttpRequest& request) { return answer(request); }) {}

  std::string url() const { return server_.url(); }
  std::vector<StsCall> calls() {
    std::lock_guard lock(mutex_);
    return calls_;
  }
  void refuseWith(int status) { refuseStatus_ = status; }

 private:
  HttpReply answer(const HttpRequest& request) {
    StsCall call{formParams(request.body), signedWith(request)};
    {
      std::lock_guard lock(mutex_);
      calls_.push_back(call);
    }
    if (refuseStatus_ != 0) {
      return {.status = refuseStatus_,
              .body = "<ErrorResponse><Error><Code>AccessDenied</Code><Message>not allowed</Message></Error>"
                      "</ErrorResponse>",
              .contentType = "text/xml"};
    }
    const std::string action = call.params["Action"];
    std::string role = call.params["RoleArn"].substr(call.params["RoleArn"].rfind('/') + 1);
    for (char& c : role) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    const std::string body = "<" + action + "Response xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\"><" + action +
                             "Result><Credentials><AccessKeyId>ASIA" + role + "</AccessKeyId><SecretAccessKey>" +
                             std::string(kAssumedSecret) + "</SecretAccessKey><SessionToken>" +
                             std::string(kAssumedToken) +
                             "</SessionToken><Expiration>2026-12-07T03:00:00Z</Expiration></Credentials></" + action +
                             "Result></" + action + "Response>";
    return {.status = 200, .body = body, .contentType = "text/xml"};
  }

  std::mutex mutex_;
  std::vector<StsCall> calls_;
  std::atomic<int> refuseStatus_{0};
  FakeHttpServer server_;  // last: stopped before the rest goes
};

class ProfileSourceTest : public ::testing::Test {
 protected:
  void writeConfig(const std::string& text) { config_ = dir_.write("config", text); }
  void writeCredentials(const std::string& text) { credentials_ = dir_.write("credentials", text); }

  EnvLookup env(std::map<std::string, std::string, std::less<>> extra = {}) const {
    extra.emplace("HOME", dir_.path());
    extra.emplace("AWS_CONFIG_FILE", dir_.path() + "/config");
    extra.emplace("AWS_SHARED_CREDENTIALS_FILE", dir_.path() + "/credentials");
    extra.emplace("AWS_ENDPOINT_URL_STS", sts_.url());
    return kinship::testing::fakeEnv(std::move(extra));
  }
  ProfileSource source(std::string profile = {}, std::map<std::string, std::string, std::less<>> extra = {}) const {
    return ProfileSource({.profile = std::move(profile), .region = "us-west-2"}, env(std::move(extra)));
  }
  static void expectNoSecrets(const std::string& message) {
    for (std::string_view secret : {kSourceSecret, kAssumedSecret, kAssumedToken}) {
      EXPECT_EQ(message.find(secret), std::string::npos) << message;
    }
  }

  TempDir dir_;
  mutable FakeSts sts_;
  std::string config_;
  std::string credentials_;
};

TEST_F(ProfileSourceTest, StaticKeysOfTheDefaultProfile) {
  writeCredentials("[default]\naws_access_key_id = AKIDDEFAULT\naws_secret_access_key = s1\naws_session_token = t1\n");
  auto profile = source();
  EXPECT_EQ(profile.name(), "profile");
  EXPECT_TRUE(profile.configured());
  auto credentials = profile.fetch();
  ASSERT_TRUE(credentials.has_value()) << credentials.error().message();
  EXPECT_EQ(credentials->accessKeyId, "AKIDDEFAULT");
  EXPECT_EQ(credentials->secretAccessKey, "s1");
  EXPECT_EQ(credentials->sessionToken, "t1");
  EXPECT_FALSE(credentials->expiration.has_value());
}

TEST_F(ProfileSourceTest, StaticKeysInTheConfigFileToo) {
  writeConfig("[profile dev]\naws_access_key_id = AKIDCONFIG\naws_secret_access_key = s\n");
  auto credentials = source("dev").fetch();
  ASSERT_TRUE(credentials.has_value()) << credentials.error().message();
  EXPECT_EQ(credentials->accessKeyId, "AKIDCONFIG");
  EXPECT_TRUE(credentials->sessionToken.empty());
}

TEST_F(ProfileSourceTest, AwsProfilePicksTheProfileAndTheOptionWinsOverIt) {
  writeCredentials(
      "[default]\naws_access_key_id = AKIDDEFAULT\naws_secret_access_key = s\n"
      "[dev]\naws_access_key_id = AKIDDEV\naws_secret_access_key = s\n"
      "[prod]\naws_access_key_id = AKIDPROD\naws_secret_access_key = s\n");
  auto dev = source("", {{"AWS_PROFILE", "dev"}}).fetch();
  ASSERT_TRUE(dev.has_value()) << dev.error().message();
  EXPECT_EQ(dev->accessKeyId, "AKIDDEV");
  auto prod = source("prod", {{"AWS_PROFILE", "dev"}}).fetch();
  ASSERT_TRUE(prod.has_value()) << prod.error().message();
  EXPECT_EQ(prod->accessKeyId, "AKIDPROD");
}

TEST_F(ProfileSourceTest, ANamedProfileThatIsMissingIsConfiguredAndAnError) {
  writeCredentials("[default]\naws_access_key_id = AKIDDEFAULT\naws_secret_access_key = s\n");
  for (auto profile : {source("nope"), source("", {{"AWS_PROFILE", "nope"}})}) {
    EXPECT_TRUE(profile.configured());
    auto credentials = profile.fetch();
    ASSERT_FALSE(credentials.has_value());
    EXPECT_EQ(credentials.error().message(),
              "profile nope not found in " + dir_.path() + "/credentials and " + dir_.path() + "/config");
  }
}

TEST_F(ProfileSourceTest, NoDefaultProfileOrOneWithoutCredentialsIsNotConfigured) {
  EXPECT_FALSE(source().configured());
  writeConfig("[default]\nregion = eu-west-1\n");
  EXPECT_FALSE(source().configured());
  writeConfig("[default]\nregion = eu-west-1\ncredential_process = /bin/false\n");
  EXPECT_TRUE(source().configured());
}

TEST_F(ProfileSourceTest, UnreadableFilesAreConfiguredAndTheErrorNamesThem) {
  std::filesystem::create_directories(dir_.path() + "/config");
  auto profile = source();
  EXPECT_TRUE(profile.configured());
  auto credentials = profile.fetch();
  ASSERT_FALSE(credentials.has_value());
  EXPECT_NE(credentials.error().message().find(dir_.path() + "/config"), std::string::npos);
}

TEST_F(ProfileSourceTest, HalfAKeyPairIsAnErrorNamingProfileAndFileNotTheSecret) {
  writeCredentials("[dev]\naws_secret_access_key = " + std::string(kSourceSecret) + "\n");
  auto credentials = source("dev").fetch();
  ASSERT_FALSE(credentials.has_value());
  const std::string& message = credentials.error().message();
  EXPECT_NE(message.find("profile dev in " + dir_.path() + "/credentials"), std::string::npos) << message;
  EXPECT_NE(message.find("no aws_access_key_id"), std::string::npos) << message;
  expectNoSecrets(message);
}

TEST_F(ProfileSourceTest, AKeyWithAContinuationLineIsRefused) {
  writeCredentials("[dev]\naws_access_key_id = AKID\naws_secret_access_key = " + std::string(kSourceSecret) +
                   "\n  more\n");
  auto credentials = source("dev").fetch();
  ASSERT_FALSE(credentials.has_value());
  EXPECT_NE(credentials.error().message().find("visible ASCII"), std::string::npos);
  expectNoSecrets(credentials.error().message());
}

TEST_F(ProfileSourceTest, RoleArnWithSourceProfileAssumesTheRoleSignedWithTheSourceKeys) {
  writeConfig(
      "[profile deploy]\nrole_arn = arn:aws:iam::123456789012:role/deploy\nsource_profile = base\n"
      "external_id = ext-42\nrole_session_name = kinship-test\nduration_seconds = 1800\n");
  writeCredentials("[base]\naws_access_key_id = AKIDSOURCE\naws_secret_access_key = " + std::string(kSourceSecret) +
                   "\n");
  auto credentials = source("deploy").fetch();
  ASSERT_TRUE(credentials.has_value()) << credentials.error().message();
  EXPECT_EQ(credentials->accessKeyId, "ASIADEPLOY");
  EXPECT_EQ(credentials->secretAccessKey, kAssumedSecret);
  EXPECT_EQ(credentials->sessionToken, kAssumedToken);
  EXPECT_TRUE(credentials->expiration.has_value());

  const auto calls = sts_.calls();
  ASSERT_EQ(calls.size(), 1U);
  EXPECT_EQ(calls[0].accessKeyId, "AKIDSOURCE");
  auto params = calls[0].params;
  EXPECT_EQ(params["Action"], "AssumeRole");
  EXPECT_EQ(params["RoleArn"], "arn:aws:iam::123456789012:role/deploy");
  EXPECT_EQ(params["ExternalId"], "ext-42");
  EXPECT_EQ(params["RoleSessionName"], "kinship-test");
  EXPECT_EQ(params["DurationSeconds"], "1800");
}

TEST_F(ProfileSourceTest, SourceProfilesChain) {
  writeConfig(
      "[profile top]\nrole_arn = arn:aws:iam::1:role/second\nsource_profile = middle\n"
      "[profile middle]\nrole_arn = arn:aws:iam::1:role/first\nsource_profile = base\n");
  writeCredentials("[base]\naws_access_key_id = AKIDSOURCE\naws_secret_access_key = s\n");
  auto credentials = source("top").fetch();
  ASSERT_TRUE(credentials.has_value()) << credentials.error().message();
  EXPECT_EQ(credentials->accessKeyId, "ASIASECOND");
  const auto calls = sts_.calls();
  ASSERT_EQ(calls.size(), 2U);
  EXPECT_EQ(calls[0].accessKeyId, "AKIDSOURCE");
  EXPECT_EQ(calls[0].params.at("RoleArn"), "arn:aws:iam::1:role/first");
  EXPECT_FALSE(calls[0].params.at("RoleSessionName").empty());
  EXPECT_EQ(calls[1].accessKeyId, "ASIAFIRST");
  EXPECT_EQ(calls[1].params.at("RoleArn"), "arn:aws:iam::1:role/second");
  EXPECT_EQ(calls[1].params.count("ExternalId"), 0U);
}

TEST_F(ProfileSourceTest, AProfileThatIsItsOwnSourceUsesItsStaticKeys) {
  writeConfig("[profile self]\nrole_arn = arn:aws:iam::1:role/me\nsource_profile = self\n");
  writeCredentials("[self]\naws_access_key_id = AKIDSELF\naws_secret_access_key = s\n");
  auto credentials = source("self").fetch();
  ASSERT_TRUE(credentials.has_value()) << credentials.error().message();
  EXPECT_EQ(credentials->accessKeyId, "ASIAME");
  ASSERT_EQ(sts_.calls().size(), 1U);
  EXPECT_EQ(sts_.calls()[0].accessKeyId, "AKIDSELF");
}

TEST_F(ProfileSourceTest, ASourceProfileLoopIsAnError) {
  writeConfig(
      "[profile a]\nrole_arn = arn:aws:iam::1:role/a\nsource_profile = b\n"
      "[profile b]\nrole_arn = arn:aws:iam::1:role/b\nsource_profile = a\n");
  auto credentials = source("a").fetch();
  ASSERT_FALSE(credentials.has_value());
  EXPECT_NE(credentials.error().message().find("source_profile loop: a -> b -> a"), std::string::npos)
      << credentials.error().message();
  EXPECT_TRUE(sts_.calls().empty());
}

TEST_F(ProfileSourceTest, ALongSourceProfileChainIsCut) {
  std::string config;
  for (int i = 0; i < 12; ++i) {
    config += "[profile p" + std::to_string(i) + "]\nrole_arn = arn:aws:iam::1:role/r\nsource_profile = p" +
              std::to_string(i + 1) + "\n";
  }
  writeConfig(config + "[profile p12]\naws_access_key_id = A\naws_secret_access_key = s\n");
  auto credentials = source("p0").fetch();
  ASSERT_FALSE(credentials.has_value());
  EXPECT_NE(credentials.error().message().find("longer than 8"), std::string::npos) << credentials.error().message();
  EXPECT_TRUE(sts_.calls().empty());
}

TEST_F(ProfileSourceTest, AMissingSourceProfileIsAnError) {
  writeConfig("[profile a]\nrole_arn = arn:aws:iam::1:role/a\nsource_profile = gone\n");
  auto credentials = source("a").fetch();
  ASSERT_FALSE(credentials.has_value());
  EXPECT_NE(credentials.error().message().find("profile gone (source_profile of a) not found"), std::string::npos)
      << credentials.error().message();
}

TEST_F(ProfileSourceTest, StsRefusalNamesTheProfileAndNoSecret) {
  writeConfig("[profile deploy]\nrole_arn = arn:aws:iam::1:role/deploy\nsource_profile = base\n");
  writeCredentials("[base]\naws_access_key_id = AKIDSOURCE\naws_secret_access_key = " + std::string(kSourceSecret) +
                   "\n");
  sts_.refuseWith(403);
  auto credentials = source("deploy").fetch();
  ASSERT_FALSE(credentials.has_value());
  const std::string& message = credentials.error().message();
  EXPECT_NE(message.find("profile deploy in " + dir_.path() + "/config"), std::string::npos) << message;
  EXPECT_NE(message.find("AccessDenied"), std::string::npos) << message;
  expectNoSecrets(message);
}

TEST_F(ProfileSourceTest, BadDurationSecondsIsAnError) {
  writeConfig("[profile d]\nrole_arn = arn:aws:iam::1:role/d\nsource_profile = d\nduration_seconds = 60\n");
  writeCredentials("[d]\naws_access_key_id = A\naws_secret_access_key = s\n");
  auto credentials = source("d").fetch();
  ASSERT_FALSE(credentials.has_value());
  EXPECT_NE(credentials.error().message().find("duration_seconds"), std::string::npos);
  EXPECT_TRUE(sts_.calls().empty());
}

TEST_F(ProfileSourceTest, RoleArnWithWebIdentityTokenFileReadsTheFileAtEachFetch) {
  const std::string tokenFile = dir_.write("token", "first-token\n");
  writeConfig("[profile irsa]\nrole_arn = arn:aws:iam::1:role/pod\nweb_identity_token_file = " + tokenFile +
              "\nrole_session_name = pod-session\n");
  auto profile = source("irsa");
  auto credentials = profile.fetch();
  ASSERT_TRUE(credentials.has_value()) << credentials.error().message();
  EXPECT_EQ(credentials->accessKeyId, "ASIAPOD");
  dir_.write("token", "second-token");
  credentials = profile.fetch();
  ASSERT_TRUE(credentials.has_value()) << credentials.error().message();

  const auto calls = sts_.calls();
  ASSERT_EQ(calls.size(), 2U);
  EXPECT_EQ(calls[0].accessKeyId, "");  // unsigned
  EXPECT_EQ(calls[0].params.at("Action"), "AssumeRoleWithWebIdentity");
  EXPECT_EQ(calls[0].params.at("RoleArn"), "arn:aws:iam::1:role/pod");
  EXPECT_EQ(calls[0].params.at("RoleSessionName"), "pod-session");
  EXPECT_EQ(calls[0].params.at("WebIdentityToken"), "first-token");
  EXPECT_EQ(calls[1].params.at("WebIdentityToken"), "second-token");
}

TEST_F(ProfileSourceTest, AMissingTokenFileNamesProfileAndFile) {
  writeConfig("[profile irsa]\nrole_arn = arn:aws:iam::1:role/pod\nweb_identity_token_file = " + dir_.path() +
              "/no-token\n");
  auto credentials = source("irsa").fetch();
  ASSERT_FALSE(credentials.has_value());
  EXPECT_NE(credentials.error().message().find("profile irsa in " + dir_.path() + "/config"), std::string::npos)
      << credentials.error().message();
  EXPECT_NE(credentials.error().message().find(dir_.path() + "/no-token"), std::string::npos)
      << credentials.error().message();
}

TEST_F(ProfileSourceTest, CredentialProcessOfAProfile) {
  const std::string helper = dir_.write(
      "helper", "#!/bin/sh\necho '{\"Version\": 1, \"AccessKeyId\": \"AKIDPROC\", \"SecretAccessKey\": \"s\"}'\n");
  ::chmod(helper.c_str(), 0755);
  writeConfig("[profile proc]\ncredential_process = " + helper + " --role x\n");
  auto credentials = source("proc").fetch();
  ASSERT_TRUE(credentials.has_value()) << credentials.error().message();
  EXPECT_EQ(credentials->accessKeyId, "AKIDPROC");
}

TEST_F(ProfileSourceTest, StaticKeysComeBeforeCredentialProcess) {
  writeConfig("[profile both]\ncredential_process = /bin/false\n");
  writeCredentials("[both]\naws_access_key_id = AKIDSTATIC\naws_secret_access_key = s\n");
  auto credentials = source("both").fetch();
  ASSERT_TRUE(credentials.has_value()) << credentials.error().message();
  EXPECT_EQ(credentials->accessKeyId, "AKIDSTATIC");
}

TEST_F(ProfileSourceTest, UnsupportedSetupsSaySo) {
  writeConfig(
      "[profile ec2]\nrole_arn = arn:aws:iam::1:role/r\ncredential_source = Ec2InstanceMetadata\n"
      "[profile sso]\nsso_session = corp\nsso_account_id = 1\nsso_role_name = r\n"
      "[profile bare-role]\nrole_arn = arn:aws:iam::1:role/r\n"
      "[profile region-only]\nregion = eu-west-1\n");
  auto ec2 = source("ec2").fetch();
  ASSERT_FALSE(ec2.has_value());
  EXPECT_NE(ec2.error().message().find("credential_source is not supported"), std::string::npos);
  auto sso = source("sso").fetch();
  ASSERT_FALSE(sso.has_value());
  EXPECT_NE(sso.error().message().find("not supported yet"), std::string::npos);
  EXPECT_NE(sso.error().message().find("profile sso in " + dir_.path() + "/config"), std::string::npos);
  auto bare = source("bare-role").fetch();
  ASSERT_FALSE(bare.has_value());
  EXPECT_NE(bare.error().message().find("no source_profile"), std::string::npos);
  auto regionOnly = source("region-only").fetch();
  ASSERT_FALSE(regionOnly.has_value());
  EXPECT_NE(regionOnly.error().message().find("holds no credentials"), std::string::npos);
  EXPECT_TRUE(sts_.calls().empty());
}

}  // namespace
}  // namespace kinship::aws
