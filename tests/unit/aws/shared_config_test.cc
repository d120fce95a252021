#include "aws/shared_config.h"

#include <gtest/gtest.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "tests/support/fake_env.h"

namespace kinship::aws {
namespace {

using kinship::testing::fakeEnv;

class TempDir {
 public:
  TempDir() {
    std::string pattern = (std::filesystem::temp_directory_path() / "kinship-shared-config-XXXXXX").string();
    if (::mkdtemp(pattern.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
    path_ = pattern;
  }
  ~TempDir() { std::filesystem::remove_all(path_); }
  std::string write(const std::string& name, const std::string& content) const {
    const std::string file = path_ + "/" + name;
    std::filesystem::create_directories(std::filesystem::path(file).parent_path());
    std::ofstream(file, std::ios::binary) << content;
    return file;
  }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

std::string valueOf(const SharedFileProfiles& profiles, const std::string& profile, const std::string& key) {
  const auto p = profiles.find(profile);
  if (p == profiles.end()) return "<no profile>";
  const auto k = p->second.find(key);
  if (k == p->second.end()) return "<no key>";
  return k->second.value;
}

Result<SharedFileProfiles> parseConfig(std::string_view text) {
  return parseSharedFile(text, SharedFileKind::kConfig, "/home/u/.aws/config");
}

TEST(SharedConfigParse, ConfigFileSectionsNeedTheProfilePrefixExceptDefault) {
  auto profiles = parseConfig(
      "[default]\nregion = us-east-1\n"
      "[profile dev]\nregion = eu-west-1\n"
      "[bare]\nregion = ap-south-1\n"
      "[sso-session corp]\nsso_region = us-east-1\n"
      "[services local]\nkinesis =\n  endpoint_url = http://localhost\n");
  ASSERT_TRUE(profiles.has_value()) << profiles.error().message();
  EXPECT_EQ(valueOf(*profiles, "default", "region"), "us-east-1");
  EXPECT_EQ(valueOf(*profiles, "dev", "region"), "eu-west-1");
  EXPECT_EQ(profiles->count("bare"), 0U);
  EXPECT_EQ(profiles->count("corp"), 0U);
  EXPECT_EQ(profiles->count("sso-session corp"), 0U);
  EXPECT_EQ(profiles->size(), 2U);
}

TEST(SharedConfigParse, CredentialsFileSectionsAreProfileNames) {
  auto profiles = parseSharedFile("[default]\naws_access_key_id = A1\n[dev]\naws_access_key_id = A2\n",
                                  SharedFileKind::kCredentials, "creds");
  ASSERT_TRUE(profiles.has_value()) << profiles.error().message();
  EXPECT_EQ(valueOf(*profiles, "default", "aws_access_key_id"), "A1");
  EXPECT_EQ(valueOf(*profiles, "dev", "aws_access_key_id"), "A2");
  EXPECT_EQ(valueOf(*profiles, "default", "aws_access_key_id"), "A1");
}

TEST(SharedConfigParse, CommentsOfBothStylesAndInlineAfterABlank) {
  auto profiles = parseConfig(
      "# a comment\n; another\n[profile a] # trailing comment on the header\n"
      "  # an indented comment\n"
      "region = eu-west-1 # mine\n"
      "output = json ; also a comment\n"
      "role_arn = arn:aws:iam::1:role/x#y\n"
      "external_id = a;b\n");
  ASSERT_TRUE(profiles.has_value()) << profiles.error().message();
  EXPECT_EQ(valueOf(*profiles, "a", "region"), "eu-west-1");
  EXPECT_EQ(valueOf(*profiles, "a", "output"), "json");
  EXPECT_EQ(valueOf(*profiles, "a", "role_arn"), "arn:aws:iam::1:role/x#y");
  EXPECT_EQ(valueOf(*profiles, "a", "external_id"), "a;b");
}

TEST(SharedConfigParse, NestedSubPropertiesAreSkipped) {
  auto profiles = parseConfig(
      "[profile a]\n"
      "s3 =\n"
      "  max_concurrent_requests = 20\n"
      "  addressing_style = path\n"
      "region = eu-west-1\n");
  ASSERT_TRUE(profiles.has_value()) << profiles.error().message();
  EXPECT_EQ(valueOf(*profiles, "a", "region"), "eu-west-1");
  EXPECT_EQ(valueOf(*profiles, "a", "s3"), "");
  EXPECT_EQ(valueOf(*profiles, "a", "max_concurrent_requests"), "<no key>");
  EXPECT_EQ(valueOf(*profiles, "a", "addressing_style"), "<no key>");
}

TEST(SharedConfigParse, IndentedLineAfterAValueContinuesIt) {
  auto profiles = parseConfig("[profile a]\ncredential_process = helper\n  --flag\nregion = x\n");
  ASSERT_TRUE(profiles.has_value()) << profiles.error().message();
  EXPECT_EQ(valueOf(*profiles, "a", "credential_process"), "helper\n--flag");
  EXPECT_EQ(valueOf(*profiles, "a", "region"), "x");
}

TEST(SharedConfigParse, KeysAreLowercasedProfileNamesAndValuesKeepTheirCase) {
  auto profiles = parseConfig("[profile Dev]\nAWS_Access_Key_ID = AKIDMixedCase\n");
  ASSERT_TRUE(profiles.has_value()) << profiles.error().message();
  EXPECT_EQ(valueOf(*profiles, "Dev", "aws_access_key_id"), "AKIDMixedCase");
  EXPECT_EQ(profiles->count("dev"), 0U);
}

TEST(SharedConfigParse, ProfileDefaultWinsOverDefault) {
  auto profiles = parseConfig("[profile default]\nregion = from-prefixed\n[default]\nregion = from-plain\n");
  ASSERT_TRUE(profiles.has_value()) << profiles.error().message();
  EXPECT_EQ(valueOf(*profiles, "default", "region"), "from-prefixed");
}

TEST(SharedConfigParse, AProfileNamedTwiceIsMergedLaterKeysWinning) {
  auto profiles = parseConfig("[profile a]\nregion = one\noutput = json\n[profile b]\n[profile a]\nregion = two\n");
  ASSERT_TRUE(profiles.has_value()) << profiles.error().message();
  EXPECT_EQ(valueOf(*profiles, "a", "region"), "two");
  EXPECT_EQ(valueOf(*profiles, "a", "output"), "json");
}

TEST(SharedConfigParse, CrLfBomAndBlankLines) {
  auto profiles = parseConfig("\xEF\xBB\xBF[default]\r\n\r\nregion = eu-west-1\r\n   \r\noutput=text\r\n");
  ASSERT_TRUE(profiles.has_value()) << profiles.error().message();
  EXPECT_EQ(valueOf(*profiles, "default", "region"), "eu-west-1");
  EXPECT_EQ(valueOf(*profiles, "default", "output"), "text");
}

// inih as Debian builds it cuts lines at 200 bytes; session tokens are longer.
TEST(SharedConfigParse, LongValuesAreKeptWhole) {
  const std::string token(3000, 'T');
  auto profiles = parseSharedFile("[default]\naws_session_token = " + token + "\n", SharedFileKind::kCredentials, "c");
  ASSERT_TRUE(profiles.has_value()) << profiles.error().message();
  EXPECT_EQ(valueOf(*profiles, "default", "aws_session_token"), token);
}

TEST(SharedConfigParse, MalformedLinesAreErrorsNamingFileAndLineButNotTheLine) {
  auto noEquals = parseSharedFile("[default]\naws_secret_access_key SECRETVALUE123\n", SharedFileKind::kCredentials,
                                  "/home/u/.aws/credentials");
  ASSERT_FALSE(noEquals.has_value());
  EXPECT_NE(noEquals.error().message().find("/home/u/.aws/credentials:2"), std::string::npos)
      << noEquals.error().message();
  EXPECT_EQ(noEquals.error().message().find("SECRETVALUE123"), std::string::npos);

  auto beforeSection = parseConfig("region = x\n[default]\n");
  ASSERT_FALSE(beforeSection.has_value());
  EXPECT_NE(beforeSection.error().message().find("config:1"), std::string::npos);

  auto unclosed = parseConfig("[default\n");
  ASSERT_FALSE(unclosed.has_value());
  EXPECT_NE(unclosed.error().message().find("config:1"), std::string::npos);

  auto noName = parseConfig("[default]\n = value\n");
  ASSERT_FALSE(noName.has_value());
}

TEST(SharedConfigParse, LinesOfSkippedSectionsAreNotChecked) {
  auto profiles = parseConfig("[services x]\nwhatever this is\n[default]\nregion = r\n");
  ASSERT_TRUE(profiles.has_value()) << profiles.error().message();
  EXPECT_EQ(valueOf(*profiles, "default", "region"), "r");
}

TEST(SharedFilePaths, DefaultsUnderHomeAndVariablesWin) {
  auto paths = sharedFilePaths(fakeEnv({{"HOME", "/home/u"}}));
  EXPECT_EQ(paths.config, "/home/u/.aws/config");
  EXPECT_EQ(paths.credentials, "/home/u/.aws/credentials");
  paths = sharedFilePaths(fakeEnv(
      {{"HOME", "/home/u"}, {"AWS_CONFIG_FILE", "~/cfg"}, {"AWS_SHARED_CREDENTIALS_FILE", "/etc/kinship/creds"}}));
  EXPECT_EQ(paths.config, "/home/u/cfg");
  EXPECT_EQ(paths.credentials, "/etc/kinship/creds");
  paths = sharedFilePaths(fakeEnv({}));
  EXPECT_EQ(paths.config, "");
  EXPECT_EQ(paths.credentials, "");
}

TEST(SharedConfigLoad, CredentialsFileWinsOverConfigFile) {
  TempDir dir;
  dir.write(".aws/config", "[profile dev]\nregion = eu-west-1\naws_access_key_id = FROMCONFIG\n");
  dir.write(".aws/credentials", "[dev]\naws_access_key_id = FROMCREDENTIALS\n");
  auto config = SharedConfig::load(fakeEnv({{"HOME", dir.path()}}));
  ASSERT_TRUE(config.has_value()) << config.error().message();
  const ProfileProperties* dev = config->profile("dev");
  ASSERT_NE(dev, nullptr);
  EXPECT_EQ(dev->at("aws_access_key_id").value, "FROMCREDENTIALS");
  EXPECT_EQ(dev->at("aws_access_key_id").file, SharedFileKind::kCredentials);
  EXPECT_EQ(dev->at("region").value, "eu-west-1");
  EXPECT_EQ(dev->at("region").file, SharedFileKind::kConfig);
}

TEST(SharedConfigLoad, ExplicitFilesThroughTheVariables) {
  TempDir dir;
  const std::string config = dir.write("c.ini", "[profile x]\nregion = r\n");
  const std::string credentials = dir.write("k.ini", "[y]\naws_access_key_id = A\n");
  auto loaded = SharedConfig::load(
      fakeEnv({{"HOME", "/nonexistent"}, {"AWS_CONFIG_FILE", config}, {"AWS_SHARED_CREDENTIALS_FILE", credentials}}));
  ASSERT_TRUE(loaded.has_value()) << loaded.error().message();
  EXPECT_TRUE(loaded->hasProfile("x"));
  EXPECT_TRUE(loaded->hasProfile("y"));
  EXPECT_EQ(loaded->describeFiles(), credentials + " and " + config);
}

TEST(SharedConfigLoad, MissingFilesAreEmpty) {
  TempDir dir;
  auto config = SharedConfig::load(fakeEnv({{"HOME", dir.path()}}));
  ASSERT_TRUE(config.has_value()) << config.error().message();
  EXPECT_FALSE(config->hasProfile("default"));
  auto noHome = SharedConfig::load(fakeEnv({}));
  ASSERT_TRUE(noHome.has_value()) << noHome.error().message();
}

TEST(SharedConfigLoad, UnreadableFileIsAnErrorNamingIt) {
  TempDir dir;
  // A directory where the file should be: unreadable as a file even for root.
  std::filesystem::create_directories(dir.path() + "/.aws/credentials");
  auto config = SharedConfig::load(fakeEnv({{"HOME", dir.path()}}));
  ASSERT_FALSE(config.has_value());
  EXPECT_NE(config.error().message().find(dir.path() + "/.aws/credentials"), std::string::npos)
      << config.error().message();

  if (::geteuid() != 0) {
    const std::string file = dir.write("locked", "[default]\n");
    ::chmod(file.c_str(), 0);
    auto locked = SharedConfig::load(fakeEnv({{"AWS_CONFIG_FILE", file}}));
    ASSERT_FALSE(locked.has_value());
    EXPECT_NE(locked.error().message().find(file), std::string::npos) << locked.error().message();
  }
}

TEST(SharedConfigLoad, FileOverTheBoundIsAnErrorNamingIt) {
  TempDir dir;
  const std::string big =
      dir.write("big", "[default]\n# " + std::string(kMaxSharedFileBytes, 'x') + "\nregion = r\n");
  auto config = SharedConfig::load(fakeEnv({{"AWS_CONFIG_FILE", big}}));
  ASSERT_FALSE(config.has_value());
  EXPECT_NE(config.error().message().find(big), std::string::npos) << config.error().message();
  EXPECT_NE(config.error().message().find("larger than"), std::string::npos) << config.error().message();
}

TEST(SharedConfigLoad, ParseErrorNamesTheFile) {
  TempDir dir;
  dir.write(".aws/config", "[default]\nnot a property\n");
  auto config = SharedConfig::load(fakeEnv({{"HOME", dir.path()}}));
  ASSERT_FALSE(config.has_value());
  EXPECT_NE(config.error().message().find(dir.path() + "/.aws/config:2"), std::string::npos)
      << config.error().message();
}

TEST(ChooseProfile, OptionThenAwsProfileThenDefault) {
  EXPECT_EQ(chooseProfile("opt", fakeEnv({{"AWS_PROFILE", "env"}})).name, "opt");
  EXPECT_TRUE(chooseProfile("opt", fakeEnv({})).named);
  EXPECT_EQ(chooseProfile("", fakeEnv({{"AWS_PROFILE", "env"}})).name, "env");
  EXPECT_TRUE(chooseProfile("", fakeEnv({{"AWS_PROFILE", "env"}})).named);
  EXPECT_EQ(chooseProfile("", fakeEnv({{"AWS_PROFILE", ""}})).name, "default");
  EXPECT_FALSE(chooseProfile("", fakeEnv({})).named);
}

TEST(ProfileRegion, FromTheChosenProfileOfTheConfigFile) {
  TempDir dir;
  dir.write(".aws/config",
            "[default]\nregion = us-east-2\n[profile dev]\nregion = eu-west-1 # dev's\n"
            "[profile none]\noutput = json\n");
  dir.write(".aws/credentials", "[creds-only]\nregion = ap-south-1\n");
  const std::string home = dir.path();

  auto region = profileRegion(fakeEnv({{"HOME", home}}));
  ASSERT_TRUE(region.has_value()) << region.error().message();
  EXPECT_EQ(*region, std::optional<std::string>("us-east-2"));

  region = profileRegion(fakeEnv({{"HOME", home}, {"AWS_PROFILE", "dev"}}));
  ASSERT_TRUE(region.has_value());
  EXPECT_EQ(*region, std::optional<std::string>("eu-west-1"));

  region = profileRegion(fakeEnv({{"HOME", home}, {"AWS_PROFILE", "dev"}}), "default");
  ASSERT_TRUE(region.has_value());
  EXPECT_EQ(*region, std::optional<std::string>("us-east-2"));

  region = profileRegion(fakeEnv({{"HOME", home}}), "none");
  ASSERT_TRUE(region.has_value());
  EXPECT_FALSE(region->has_value());

  // The SDKs read the region from the config file only.
  region = profileRegion(fakeEnv({{"HOME", home}}), "creds-only");
  ASSERT_TRUE(region.has_value());
  EXPECT_FALSE(region->has_value());

  region = profileRegion(fakeEnv({{"HOME", home}}), "missing");
  ASSERT_TRUE(region.has_value());
  EXPECT_FALSE(region->has_value());
}

TEST(ProfileRegion, UnreadableConfigFileIsAnError) {
  TempDir dir;
  std::filesystem::create_directories(dir.path() + "/.aws/config");
  auto region = profileRegion(fakeEnv({{"HOME", dir.path()}}));
  ASSERT_FALSE(region.has_value());
  EXPECT_NE(region.error().message().find(dir.path() + "/.aws/config"), std::string::npos);
}

}  // namespace
}  // namespace kinship::aws
