#include "inputs/udp/udp_input_config.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <yaml-cpp/yaml.h>

#include <string>

using namespace kinship::inputs;
using kinship::config::ConfigError;
using kinship::config::EnvLookup;
using kinship::config::InputClaim;
using kinship::config::Section;
using ::testing::HasSubstr;

namespace {

const EnvLookup kNoEnv = [](std::string_view) -> std::optional<std::string> { return std::nullopt; };

Section sectionOf(const std::string& yaml) {
  return Section::validate(YAML::Load(yaml), udpInputSchema(), "kinship.yaml", "pipelines.app.inputs[0]", kNoEnv);
}

std::vector<InputClaim> claimsOf(const std::string& listen) {
  return udpInputClaims(sectionOf("listen: \"" + listen + "\"\n"));
}

}  // namespace

// The loader refuses two inputs with equal claims (see loader_test), so the
// claim must name the port and say which address.
TEST(UdpInputClaims, ClaimTheBoundPortOnItsAddress) {
  auto claims = claimsOf("127.0.0.1:5514");
  ASSERT_EQ(claims.size(), 1u);
  EXPECT_EQ(claims[0].resource, "UDP port 5514");
  EXPECT_EQ(claims[0].address, "127.0.0.1");
  EXPECT_EQ(claims[0].option, "listen");
  EXPECT_EQ(claimsOf("[::1]:5514").at(0).address, "::1");
  // Names compare case-insensitively, as the resolver does.
  EXPECT_EQ(claimsOf("LocalHost:5514").at(0).address, "localhost");
}

TEST(UdpInputClaims, WildcardAddressesClaimEveryAddress) {
  for (const char* listen : {"0.0.0.0:5514", "[::]:5514", "[0:0::0]:5514"}) {
    auto claims = claimsOf(listen);
    ASSERT_EQ(claims.size(), 1u) << listen;
    EXPECT_EQ(claims[0].resource, "UDP port 5514") << listen;
    EXPECT_EQ(claims[0].address, "") << listen;
  }
}

TEST(UdpInputClaims, PortZeroClaimsNothing) {
  EXPECT_TRUE(claimsOf("127.0.0.1:0").empty());
  EXPECT_TRUE(claimsOf("0.0.0.0:0").empty());
}

TEST(UdpInputConfig, BadListenAddressNamesTheOption) {
  try {
    udpInputConfigFrom(sectionOf("listen: \"127.0.0.1:70000\"\n"));
    FAIL() << "no error";
  } catch (const ConfigError& e) {
    EXPECT_THAT(e.what(), HasSubstr("kinship.yaml:1:9: pipelines.app.inputs[0].listen: '127.0.0.1:70000': port"));
  }
}
