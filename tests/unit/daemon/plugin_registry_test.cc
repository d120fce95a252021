#include "daemon/plugin_registry.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>

#include "config/config.h"

namespace kinship::daemon {
namespace {

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

}  // namespace
}  // namespace kinship::daemon
