#include "daemon/plugin_registry.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <yaml-cpp/yaml.h>

#include <stdexcept>
#include <string>

#include "config/config.h"

namespace kinship::daemon {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

const config::EnvLookup kNoEnv = [](std::string_view) -> std::optional<std::string> { return std::nullopt; };

std::string errorOf(const std::string& yaml) {
  PluginRegistry registry;
  registerBuiltinPlugins(registry);
  try {
    config::loadConfigString(yaml, "k.yaml", registry, kNoEnv);
  } catch (const config::ConfigError& e) {
    return e.what();
  }
  return "<no error>";
}

std::string twoInputs(const std::string& first, const std::string& second) {
  return "pipelines:\n  a:\n    inputs: [" + first + "]\n    sink: {type: discard}\n  b:\n    inputs: [" + second +
         "]\n    sink: {type: discard}\n";
}

// The second bind failed only when the daemon started; --check-config said OK.
TEST(PluginRegistryClaims, TwoUdpInputsOnOnePortAreRefusedAtLoad) {
  EXPECT_EQ(errorOf(twoInputs("{type: udp, listen: \"127.0.0.1:5514\"}", "{type: udp, listen: \"127.0.0.1:5514\"}")),
            "k.yaml:6:34: pipelines.b.inputs[0].listen: UDP port 5514 on 127.0.0.1 is already taken by "
            "pipelines.a.inputs[0].listen (line 3): two inputs cannot hold it at once");
  EXPECT_THAT(errorOf(twoInputs("{type: udp, listen: \"[::]:5514\"}", "{type: udp, listen: \"127.0.0.1:5514\"}")),
              HasSubstr("already taken"));
  EXPECT_EQ(errorOf(twoInputs("{type: udp, listen: \"127.0.0.1:5514\"}", "{type: udp, listen: \"127.0.0.1:5515\"}")),
            "<no error>");
  EXPECT_EQ(errorOf(twoInputs("{type: udp, listen: \"127.0.0.1:0\"}", "{type: udp, listen: \"127.0.0.1:0\"}")),
            "<no error>");
}

// The second found the first listening on the path and refused to start.
TEST(PluginRegistryClaims, TwoUnixInputsOnOnePathAreRefusedAtLoad) {
  EXPECT_THAT(errorOf(twoInputs("{type: unix, path: /run/k/a.sock}", "{type: unix, path: /run/k//./a.sock}")),
              HasSubstr("pipelines.b.inputs[0].path: Unix socket on /run/k/a.sock is already taken by "
                        "pipelines.a.inputs[0].path"));
  EXPECT_EQ(errorOf(twoInputs("{type: unix, path: /run/k/a.sock}", "{type: unix, path: /run/k/b.sock}")),
            "<no error>");
  // A UDP port and a socket path never collide.
  EXPECT_EQ(errorOf(twoInputs("{type: udp, listen: \"127.0.0.1:5514\"}", "{type: unix, path: /run/k/a.sock}")),
            "<no error>");
}

// ---- the registry itself ------------------------------------------------

constexpr config::Option kOneOption[] = {{.name = "path", .type = config::ValueType::kString}};
constexpr config::Option kOtherOption[] = {{.name = "size", .type = config::ValueType::kSize}};

std::unique_ptr<inputs::Input> makeNoInput(const config::Section&, const inputs::InputContext&) { return nullptr; }
std::unique_ptr<inputs::Input> makeOtherInput(const config::Section&, const inputs::InputContext&) { return nullptr; }
std::unique_ptr<sinks::Sink> makeNoSink(const config::Section&, const sinks::SinkContext&, const config::EnvLookup&) {
  return nullptr;
}
std::vector<config::InputClaim> claimPath(const config::Section& options) {
  return {{"path", options.getString("path"), "path"}};
}

config::Section optionsOf(const std::string& yaml, config::Schema schema) {
  return config::Section::validate(YAML::Load(yaml), schema, "k.yaml", "input", kNoEnv);
}

TEST(PluginRegistry, LooksUpWhatWasRegisteredUnderItsName) {
  PluginRegistry registry;
  registry.registerInput("a", kOneOption, makeNoInput);
  registry.registerInput("b", kOtherOption, makeOtherInput);
  registry.registerSink("s", kOtherOption, makeNoSink);

  ASSERT_NE(registry.inputSchema("a"), nullptr);
  EXPECT_EQ(registry.inputSchema("a")->data(), kOneOption);
  EXPECT_EQ(registry.inputSchema("b")->data(), kOtherOption);
  EXPECT_EQ(registry.sinkSchema("s")->data(), kOtherOption);
  auto* inputFactory = registry.inputFactory("b").target<decltype(&makeOtherInput)>();
  ASSERT_NE(inputFactory, nullptr);
  EXPECT_EQ(*inputFactory, &makeOtherInput);
  auto* sinkFactory = registry.sinkFactory("s").target<decltype(&makeNoSink)>();
  ASSERT_NE(sinkFactory, nullptr);
  EXPECT_EQ(*sinkFactory, &makeNoSink);
  EXPECT_THAT(registry.inputTypes(), ElementsAre("a", "b"));
  EXPECT_THAT(registry.sinkTypes(), ElementsAre("s"));
}

TEST(PluginRegistry, InputsAndSinksAreSeparateNameSpaces) {
  PluginRegistry registry;
  registry.registerInput("x", kOneOption, makeNoInput);
  EXPECT_EQ(registry.sinkSchema("x"), nullptr);
  registry.registerSink("x", kOtherOption, makeNoSink);
  EXPECT_EQ(registry.inputSchema("x")->data(), kOneOption);
  EXPECT_EQ(registry.sinkSchema("x")->data(), kOtherOption);
}

TEST(PluginRegistry, ASecondRegistrationOfANameIsRefusedAndTheFirstStays) {
  PluginRegistry registry;
  registry.registerInput("a", kOneOption, makeNoInput);
  registry.registerSink("s", kOneOption, makeNoSink);
  EXPECT_THROW(registry.registerInput("a", kOtherOption, makeOtherInput), std::logic_error);
  EXPECT_THROW(registry.registerSink("s", kOtherOption, makeNoSink), std::logic_error);
  EXPECT_EQ(registry.inputSchema("a")->data(), kOneOption);
  EXPECT_EQ(*registry.inputFactory("a").target<decltype(&makeNoInput)>(), &makeNoInput);
  EXPECT_EQ(registry.sinkSchema("s")->data(), kOneOption);
}

TEST(PluginRegistry, UnknownTypesHaveNoSchemaAndNoFactory) {
  PluginRegistry registry;
  registry.registerInput("a", kOneOption, makeNoInput);
  EXPECT_EQ(registry.inputSchema("A"), nullptr);
  EXPECT_EQ(registry.sinkSchema("a"), nullptr);
  EXPECT_THROW(registry.inputFactory("missing"), std::logic_error);
  EXPECT_THROW(registry.sinkFactory("a"), std::logic_error);
}

TEST(PluginRegistry, ClaimsComeFromTheTypesClaimsFunctionOnly) {
  PluginRegistry registry;
  registry.registerInput("claims", kOneOption, makeNoInput, claimPath);
  registry.registerInput("holds-nothing", kOneOption, makeNoInput);
  config::Section options = optionsOf("{path: /run/k.sock}", kOneOption);
  auto claims = registry.inputClaims("claims", options);
  ASSERT_EQ(claims.size(), 1u);
  EXPECT_EQ(claims[0].resource, "path");
  EXPECT_EQ(claims[0].address, "/run/k.sock");
  EXPECT_TRUE(registry.inputClaims("holds-nothing", options).empty());
  EXPECT_TRUE(registry.inputClaims("missing", options).empty());
}

TEST(BuiltinPlugins, TheOneListRegistersEveryInputAndSinkWithASchema) {
  PluginRegistry registry;
  registerBuiltinPlugins(registry);
  EXPECT_THAT(registry.inputTypes(), ElementsAre("file", "udp", "unix"));
  EXPECT_THAT(registry.sinkTypes(), ElementsAre("discard", "kinesis"));
  for (const auto& type : registry.inputTypes()) {
    ASSERT_NE(registry.inputSchema(type), nullptr) << type;
    EXPECT_FALSE(registry.inputSchema(type)->empty()) << type;
    EXPECT_TRUE(static_cast<bool>(registry.inputFactory(type))) << type;
  }
  for (const auto& type : registry.sinkTypes()) {
    ASSERT_NE(registry.sinkSchema(type), nullptr) << type;
    EXPECT_TRUE(static_cast<bool>(registry.sinkFactory(type))) << type;
  }
  // Registering the list twice would register every name twice.
  EXPECT_THROW(registerBuiltinPlugins(registry), std::logic_error);
}

}  // namespace
}  // namespace kinship::daemon
