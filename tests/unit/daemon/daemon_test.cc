// Daemon: what it builds from a configuration and how it refuses what it
// cannot build or start. Nothing here waits for a signal: run() is only
// called where it must return at once.

#include "daemon/daemon.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <stdlib.h>

#include <asio.hpp>
#include <filesystem>
#include <fstream>
#include <optional>
#include <string>

#include "config/config.h"
#include "daemon/plugin_registry.h"

namespace kinship::daemon {
namespace {

using ::testing::HasSubstr;

const config::EnvLookup kNoEnv = [](std::string_view) -> std::optional<std::string> { return std::nullopt; };

// A fresh directory for the test's data_dir, removed with its contents.
class ScratchDir {
 public:
  ScratchDir() {
    std::string tmpl = (std::filesystem::temp_directory_path() / "kinship-daemon-test-XXXXXX").string();
    EXPECT_NE(::mkdtemp(tmpl.data()), nullptr);
    path_ = tmpl;
  }
  ~ScratchDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

struct DaemonTest : ::testing::Test {
  ScratchDir dir;
  PluginRegistry plugins;
  DaemonTest() { registerBuiltinPlugins(plugins); }

  // `pipelines` is the YAML under `pipelines:`, indented by four spaces.
  config::DaemonConfig configOf(const std::string& pipelines, const std::string& admin = "\"\"") {
    const std::string yaml = "data_dir: " + dir.path() + "\nadmin: {listen: " + admin + "}\npipelines:\n" + pipelines;
    return config::loadConfigString(yaml, "k.yaml", plugins, kNoEnv);
  }
  std::string socketInput(const std::string& name) { return "{type: unix, path: " + dir.path() + "/" + name + "}"; }

  // The ConfigError the Daemon's constructor throws, or "<built>".
  std::string constructionError(const config::DaemonConfig& config) {
    try {
      Daemon daemon(config, plugins, kNoEnv);
      return "<built>";
    } catch (const config::ConfigError& e) {
      return e.what();
    }
  }
};

TEST_F(DaemonTest, BuildsEveryPipelineAndSummarisesThem) {
  auto config = configOf("  a:\n    inputs: [" + socketInput("a.sock") +
                         "]\n    sink: {type: discard}\n"
                         "  b:\n    inputs: [" +
                         socketInput("b1.sock") + ", " + socketInput("b2.sock") +
                         "]\n    sink: {type: discard}\n    spool: {mode: memory}\n");
  Daemon daemon(config, plugins, kNoEnv);
  EXPECT_EQ(daemon.summary(), "k.yaml: 2 pipelines (a: 1 input -> discard, b: 2 inputs -> discard)");
}

TEST_F(DaemonTest, OnePipelineIsSingularInTheSummary) {
  auto config = configOf("  only:\n    inputs: [" + socketInput("a.sock") + "]\n    sink: {type: discard}\n");
  Daemon daemon(config, plugins, kNoEnv);
  EXPECT_EQ(daemon.summary(), "k.yaml: 1 pipeline (only: 1 input -> discard)");
}

TEST_F(DaemonTest, ABadPartitionKeyTemplateIsAConfigErrorAtItsOption) {
  auto config = configOf("  a:\n    inputs: [" + socketInput("a.sock") +
                         "]\n    sink: {type: discard}\n    partition_key: \"{unclosed\"\n");
  EXPECT_THAT(constructionError(config), HasSubstr("k.yaml:7:"));
  EXPECT_THAT(constructionError(config), HasSubstr("pipelines.a.partition_key"));
}

TEST_F(DaemonTest, TwoPipelinesCannotShareASpoolDirectoryHoweverItIsSpelled) {
  auto config = configOf("  a:\n    inputs: [" + socketInput("a.sock") +
                         "]\n    sink: {type: discard}\n    spool: {dir: " + dir.path() +
                         "/spool}\n"
                         "  b:\n    inputs: [" +
                         socketInput("b.sock") + "]\n    sink: {type: discard}\n    spool: {dir: " + dir.path() +
                         "/./spool/}\n");
  EXPECT_THAT(constructionError(config), HasSubstr("pipelines.b.spool.dir: '" + dir.path() +
                                                   "/spool' is already the spool of pipeline a"));
}

// weakly_canonical threw std::filesystem_error here, which nothing caught:
// at start it ended the process without a configuration error, on reload
// (SIGHUP) it escaped the event loop.
TEST_F(DaemonTest, ASpoolDirectoryThatCannotBeResolvedIsAConfigErrorNamingThePath) {
  const std::string tooLong = dir.path() + "/" + std::string(300, 'x') + "/spool";
  auto config = configOf("  a:\n    inputs: [" + socketInput("a.sock") +
                         "]\n    sink: {type: discard}\n    spool: {dir: " + tooLong + "}\n");
  const std::string error = constructionError(config);
  EXPECT_THAT(error, HasSubstr("pipelines.a.spool.dir: cannot resolve the spool directory '" + tooLong + "'"));
  EXPECT_THAT(error, HasSubstr("File name too long"));
}

TEST_F(DaemonTest, RunReturnsOneWhenAPipelineCannotStart) {
  // A regular file where the socket should be: the input refuses to start.
  std::ofstream(dir.path() + "/taken.sock") << "not a socket";
  auto config = configOf("  a:\n    inputs: [" + socketInput("taken.sock") +
                         "]\n    sink: {type: discard}\n    spool: {mode: memory}\n");
  Daemon daemon(config, plugins, kNoEnv);
  ::testing::internal::CaptureStderr();
  const int code = daemon.run();
  const std::string log = ::testing::internal::GetCapturedStderr();
  EXPECT_EQ(code, 1);
  EXPECT_THAT(log, HasSubstr("pipeline a: cannot start an input"));
  EXPECT_TRUE(std::filesystem::is_regular_file(dir.path() + "/taken.sock"));
}

TEST_F(DaemonTest, RunReturnsOneWhenTheAdminAddressCannotBeBound) {
  asio::io_context io;
  asio::ip::tcp::acceptor holder(io, asio::ip::tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
  const std::string taken = "\"127.0.0.1:" + std::to_string(holder.local_endpoint().port()) + "\"";
  auto config = configOf("  a:\n    inputs: [" + socketInput("a.sock") +
                             "]\n    sink: {type: discard}\n    spool: {mode: memory}\n",
                         taken);
  Daemon daemon(config, plugins, kNoEnv);
  ::testing::internal::CaptureStderr();
  const int code = daemon.run();
  const std::string log = ::testing::internal::GetCapturedStderr();
  EXPECT_EQ(code, 1);
  EXPECT_THAT(log, HasSubstr("admin endpoint:"));
  // Nothing started: the input's socket was never created.
  EXPECT_FALSE(std::filesystem::exists(dir.path() + "/a.sock"));
}

}  // namespace
}  // namespace kinship::daemon
