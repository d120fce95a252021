#include "common/host_port.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace kinship {
namespace {

using ::testing::HasSubstr;

TEST(ParseHostPortTest, AcceptsNamesAndLiterals) {
  auto v4 = parseHostPort("127.0.0.1:9464");
  ASSERT_TRUE(v4.has_value());
  EXPECT_EQ(v4->host, "127.0.0.1");
  EXPECT_EQ(v4->port, 9464);
  EXPECT_EQ(parseHostPort("localhost:0")->port, 0);
  EXPECT_EQ(parseHostPort("0.0.0.0:65535")->port, 65535);
  EXPECT_EQ(parseHostPort("[::1]:5514")->host, "::1");
  EXPECT_EQ(parseHostPort("[::]:80")->host, "::");
  EXPECT_EQ(parseHostPort("my-host_1.example.com:80")->host, "my-host_1.example.com");
}

TEST(ParseHostPortTest, RefusesWhatCannotBeBound) {
  EXPECT_THAT(parseHostPort("garbage").error().message(), HasSubstr("missing port"));
  EXPECT_THAT(parseHostPort("127.0.0.1:70000").error().message(), HasSubstr("port '70000' is not a number"));
  EXPECT_THAT(parseHostPort("127.0.0.1:-1").error().message(), HasSubstr("is not a number"));
  EXPECT_THAT(parseHostPort("127.0.0.1:").error().message(), HasSubstr("missing port"));
  EXPECT_THAT(parseHostPort(":80").error().message(), HasSubstr("empty host"));
  EXPECT_THAT(parseHostPort("[]:80").error().message(), HasSubstr("empty host"));
  EXPECT_THAT(parseHostPort("::1:9464").error().message(), HasSubstr("must be in brackets"));
  EXPECT_THAT(parseHostPort("[::1:9464").error().message(), HasSubstr("missing ']'"));
  EXPECT_THAT(parseHostPort("[127.0.0.1]:9464").error().message(), HasSubstr("not an IPv6 address"));
  EXPECT_THAT(parseHostPort("bad host:9464").error().message(), HasSubstr("invalid host"));
  EXPECT_THAT(parseHostPort("[::1]x9464").error().message(), HasSubstr("missing port"));
  EXPECT_THAT(parseHostPort("").error().message(), HasSubstr("missing port"));
}

TEST(IsWildcardHostTest, OnlyTheUnspecifiedAddresses) {
  EXPECT_TRUE(isWildcardHost("0.0.0.0"));
  EXPECT_TRUE(isWildcardHost("::"));
  EXPECT_TRUE(isWildcardHost("0:0::0"));
  EXPECT_FALSE(isWildcardHost("127.0.0.1"));
  EXPECT_FALSE(isWildcardHost("::1"));
  EXPECT_FALSE(isWildcardHost("localhost"));
  EXPECT_FALSE(isWildcardHost(""));
}

}  // namespace
}  // namespace kinship
