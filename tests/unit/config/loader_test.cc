#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <stdlib.h>
#include <yaml-cpp/yaml.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <string>

#include "config/config.h"

namespace kinship::config {
namespace {

using ::testing::HasSubstr;
using namespace std::chrono_literals;

// Stand-ins for the real plugins' tables, so these tests do not depend on
// inputs/ or sinks/.
constexpr Option kFileOptions[] = {
    {.name = "paths", .type = ValueType::kStringList, .required = true},
    {.name = "start_at", .type = ValueType::kEnum, .defaultValue = "end", .choices = "beginning|end"},
    {.name = "parser", .type = ValueType::kEnum, .defaultValue = "raw", .choices = "json|raw"},
};

constexpr Option kKinesisOptions[] = {
    {.name = "stream", .type = ValueType::kString, .required = true},
    {.name = "region", .type = ValueType::kString},
    {.name = "endpoint", .type = ValueType::kString},
    {.name = "linger", .type = ValueType::kDuration, .defaultValue = "200ms", .minValue = 1, .maxValue = 60'000},
    {.name = "max_batch_records", .type = ValueType::kInt, .defaultValue = "500", .minValue = 1, .maxValue = 500},
};

class FakeCatalog : public SchemaCatalog {
 public:
  const Schema* inputSchema(std::string_view type) const override { return type == "file" ? &file_ : nullptr; }
  const Schema* sinkSchema(std::string_view type) const override { return type == "kinesis" ? &kinesis_ : nullptr; }
  std::vector<std::string> inputTypes() const override { return {"file"}; }
  std::vector<std::string> sinkTypes() const override { return {"kinesis"}; }

 private:
  Schema file_{kFileOptions};
  Schema kinesis_{kKinesisOptions};
};

EnvLookup fakeEnv(std::map<std::string, std::string, std::less<>> vars) {
  return [vars = std::move(vars)](std::string_view name) -> std::optional<std::string> {
    auto it = vars.find(name);
    if (it == vars.end()) return std::nullopt;
    return it->second;
  };
}

const FakeCatalog kCatalog;
const EnvLookup kNoEnv = fakeEnv({});

DaemonConfig load(const std::string& yaml, const EnvLookup& env = kNoEnv) {
  return loadConfigString(yaml, "k.yaml", kCatalog, env);
}

// The full ConfigError message, or a marker that makes a mismatch obvious.
std::string errorOf(const std::string& yaml, const EnvLookup& env = kNoEnv) {
  try {
    load(yaml, env);
  } catch (const ConfigError& e) {
    return e.what();
  }
  return "<no error>";
}

// The smallest valid file; the error cases below are variations of it, so
// their line and column numbers can be checked against this layout.
constexpr const char* kMinimal = R"(pipelines:
  app:
    inputs:
      - type: file
        paths: ["/var/log/app/*.log"]
    sink:
      type: kinesis
      stream: demo
)";

constexpr const char* kAcceptance = R"(data_dir: /tmp/kinship-state
pipelines:
  app:
    inputs:
      - type: file
        paths: ["/tmp/kinship-in/*.log"]
        start_at: beginning
        parser: json
    partition_key: "{service}-{host}"
    sink:
      type: kinesis
      stream: demo
      region: us-east-1
      endpoint: http://127.0.0.1:4567
admin:
  listen: 127.0.0.1:9464
)";

// A temporary directory removed with the test.
class TempDir {
 public:
  TempDir() {
    std::string pattern = (std::filesystem::temp_directory_path() / "kinship-config-test-XXXXXX").string();
    if (::mkdtemp(pattern.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
    path_ = pattern;
  }
  ~TempDir() {
    std::error_code ignored;
    std::filesystem::remove_all(path_, ignored);
  }
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

// ------------------------------------------------------------ good files

TEST(LoaderTest, AcceptanceConfig) {
  DaemonConfig config = load(kAcceptance);
  EXPECT_EQ(config.file, "k.yaml");
  EXPECT_EQ(config.options.getString("data_dir"), "/tmp/kinship-state");
  EXPECT_TRUE(config.options.isSet("data_dir"));
  EXPECT_EQ(config.options.getDuration("shutdown_timeout"), 5000ms);
  EXPECT_FALSE(config.options.isSet("shutdown_timeout"));

  ASSERT_EQ(config.pipelines.size(), 1u);
  const PipelineConfig& app = config.pipelines[0];
  EXPECT_EQ(app.name, "app");
  EXPECT_EQ(app.options.path(), "pipelines.app");
  EXPECT_EQ(app.options.getString("partition_key"), "{service}-{host}");
  // Its default depends on the spool mode: the daemon decides (daemon/pipeline_buffers.h).
  EXPECT_FALSE(app.options.has("queue_size"));

  ASSERT_EQ(app.inputs.size(), 1u);
  const PluginConfig& input = app.inputs[0];
  EXPECT_EQ(input.type, "file");
  EXPECT_EQ(input.options.path(), "pipelines.app.inputs[0]");
  EXPECT_EQ(input.options.getStringList("paths"), std::vector<std::string>{"/tmp/kinship-in/*.log"});
  EXPECT_EQ(input.options.getString("start_at"), "beginning");
  EXPECT_EQ(input.options.getString("parser"), "json");
  EXPECT_EQ(input.options.locationOf("start_at").str(), "k.yaml:7:19");
  EXPECT_EQ(input.options.pathOf("paths"), "pipelines.app.inputs[0].paths");

  EXPECT_EQ(app.sink.type, "kinesis");
  EXPECT_EQ(app.sink.options.path(), "pipelines.app.sink");
  EXPECT_EQ(app.sink.options.getString("stream"), "demo");
  EXPECT_EQ(app.sink.options.getString("region"), "us-east-1");
  EXPECT_EQ(app.sink.options.getString("endpoint"), "http://127.0.0.1:4567");
  EXPECT_EQ(app.sink.options.getDuration("linger"), 200ms);
  EXPECT_EQ(app.sink.options.getInt("max_batch_records"), 500);

  EXPECT_EQ(config.admin.getString("listen"), "127.0.0.1:9464");
  EXPECT_TRUE(config.admin.isSet("listen"));
  EXPECT_EQ(config.admin.pathOf("listen"), "admin.listen");
  EXPECT_EQ(config.log.getString("level"), "info");
  EXPECT_EQ(config.log.getString("format"), "text");
  EXPECT_EQ(config.log.pathOf("level"), "log.level");
}

TEST(LoaderTest, MinimalConfigGetsDefaults) {
  DaemonConfig config = load(kMinimal);
  EXPECT_EQ(config.options.getString("data_dir"), "/var/lib/kinship");
  EXPECT_EQ(config.options.getDuration("shutdown_timeout"), 5000ms);
  ASSERT_EQ(config.pipelines.size(), 1u);
  EXPECT_FALSE(config.pipelines[0].options.has("partition_key"));
  EXPECT_EQ(config.pipelines[0].inputs[0].options.getString("start_at"), "end");
  EXPECT_EQ(config.pipelines[0].inputs[0].options.getString("parser"), "raw");
  // No admin or log block: sections of defaults all the same.
  EXPECT_EQ(config.admin.getString("listen"), "127.0.0.1:9464");
  EXPECT_FALSE(config.admin.isSet("listen"));
  EXPECT_EQ(config.admin.path(), "admin");
  EXPECT_EQ(config.log.getString("level"), "info");
  EXPECT_EQ(config.log.getString("format"), "text");
}

TEST(LoaderTest, EmptyAdminAndLogBlocksMeanDefaults) {
  DaemonConfig config = load(std::string(kMinimal) + "admin:\nlog:\n");
  EXPECT_EQ(config.admin.getString("listen"), "127.0.0.1:9464");
  EXPECT_EQ(config.log.getString("level"), "info");
}

TEST(LoaderTest, EmptyListenDisablesAdmin) {
  DaemonConfig config = load(std::string(kMinimal) + "admin:\n  listen: \"\"\n");
  EXPECT_TRUE(config.admin.isSet("listen"));
  EXPECT_EQ(config.admin.getString("listen"), "");
}

TEST(LoaderTest, LogAndGlobalOptions) {
  DaemonConfig config = load(std::string(kMinimal) +
                             "log:\n  level: debug\n  format: json\nshutdown_timeout: 10m\ndata_dir: /srv/k\n");
  EXPECT_EQ(config.log.getString("level"), "debug");
  EXPECT_EQ(config.log.getString("format"), "json");
  EXPECT_EQ(config.options.getDuration("shutdown_timeout"), 600'000ms);
  EXPECT_EQ(config.options.getString("data_dir"), "/srv/k");
}

TEST(LoaderTest, PipelinesAndInputsKeepTheirOrder) {
  DaemonConfig config = load(R"(pipelines:
  zeta:
    inputs:
      - {type: file, paths: [/z1]}
      - {type: file, paths: [/z2, /z3]}
    sink: {type: kinesis, stream: z}
    queue_size: 64KiB
  alpha-2_b:
    inputs: [{type: file, paths: [/a]}]
    sink: {type: kinesis, stream: a, linger: 1m, max_batch_records: 1}
)");
  ASSERT_EQ(config.pipelines.size(), 2u);
  EXPECT_EQ(config.pipelines[0].name, "zeta");
  EXPECT_EQ(config.pipelines[1].name, "alpha-2_b");
  ASSERT_EQ(config.pipelines[0].inputs.size(), 2u);
  EXPECT_EQ(config.pipelines[0].inputs[1].options.getStringList("paths"), (std::vector<std::string>{"/z2", "/z3"}));
  EXPECT_EQ(config.pipelines[0].inputs[1].options.path(), "pipelines.zeta.inputs[1]");
  EXPECT_EQ(config.pipelines[0].options.getSize("queue_size"), 64u * 1024);
  EXPECT_EQ(config.pipelines[1].sink.options.getDuration("linger"), 60'000ms);
  EXPECT_EQ(config.pipelines[1].sink.options.getInt("max_batch_records"), 1);
}

TEST(LoaderTest, EnvDefaultIsUsedWhenUnset) {
  const std::string yaml = R"(data_dir: /var/lib/kinship/${POD_NAME:-x}
pipelines:
  app:
    inputs:
      - type: file
        paths: ["/var/log/pods/${POD_NAME:-x}/*.log"]
    partition_key: "${POD_NAME:-x}-{service}"
    sink:
      type: ${SINK_TYPE:-kinesis}
      stream: logs-${POD_NAME:-x}
)";
  DaemonConfig unset = load(yaml, kNoEnv);
  EXPECT_EQ(unset.options.getString("data_dir"), "/var/lib/kinship/x");
  EXPECT_EQ(unset.pipelines[0].inputs[0].options.getStringList("paths"),
            std::vector<std::string>{"/var/log/pods/x/*.log"});
  EXPECT_EQ(unset.pipelines[0].options.getString("partition_key"), "x-{service}");
  EXPECT_EQ(unset.pipelines[0].sink.type, "kinesis");
  EXPECT_EQ(unset.pipelines[0].sink.options.getString("stream"), "logs-x");

  DaemonConfig set = load(yaml, fakeEnv({{"POD_NAME", "web-1"}}));
  EXPECT_EQ(set.options.getString("data_dir"), "/var/lib/kinship/web-1");
  EXPECT_EQ(set.pipelines[0].options.getString("partition_key"), "web-1-{service}");
  EXPECT_EQ(set.pipelines[0].sink.options.getString("stream"), "logs-web-1");

  // Set but empty: ":-" takes the default, as in the shell.
  DaemonConfig empty = load(yaml, fakeEnv({{"POD_NAME", ""}}));
  EXPECT_EQ(empty.pipelines[0].sink.options.getString("stream"), "logs-x");
}

TEST(LoaderTest, LoadsAFile) {
  TempDir dir;
  std::filesystem::path file = dir.path() / "kinship.yaml";
  std::ofstream(file) << kAcceptance;
  DaemonConfig config = loadConfigFile(file.string(), kCatalog, kNoEnv);
  EXPECT_EQ(config.file, file.string());
  EXPECT_EQ(config.pipelines.at(0).sink.options.getString("stream"), "demo");
}

TEST(LoaderTest, FileErrorsNameTheFile) {
  TempDir dir;
  std::filesystem::path file = dir.path() / "bad.yaml";
  std::ofstream(file) << "pipelines: {}\n";
  try {
    loadConfigFile(file.string(), kCatalog, kNoEnv);
    FAIL() << "no error";
  } catch (const ConfigError& e) {
    EXPECT_EQ(std::string(e.what()), file.string() + ":1:12: pipelines: expected at least one pipeline");
  }
}

// ------------------------------------------------------------- bad files

TEST(LoaderErrorTest, UnknownTopLevelKey) {
  EXPECT_EQ(errorOf(std::string(kMinimal) + "pipelnes: {}\n"),
            "k.yaml:9:1: pipelnes: unknown option 'pipelnes' (did you mean 'pipelines'?)");
  EXPECT_EQ(errorOf(std::string(kMinimal) + "metrics: {}\n"), "k.yaml:9:1: metrics: unknown option 'metrics'");
}

TEST(LoaderErrorTest, UnknownNestedKey) {
  EXPECT_EQ(errorOf(std::string(kMinimal) + "      regoin: us-east-1\n"),
            "k.yaml:9:7: pipelines.app.sink.regoin: unknown option 'regoin' (did you mean 'region'?)");
  EXPECT_EQ(errorOf(R"(pipelines:
  app:
    inputs:
      - type: file
        paths: [/a]
        follow: true
    sink: {type: kinesis, stream: demo}
)"),
            "k.yaml:6:9: pipelines.app.inputs[0].follow: unknown option 'follow'");
  EXPECT_EQ(errorOf(std::string(kMinimal) + "    queue: 1MiB\n"),
            "k.yaml:9:5: pipelines.app.queue: unknown option 'queue'");
  EXPECT_EQ(errorOf(std::string(kMinimal) + "admin:\n  port: 9464\n"), "k.yaml:10:3: admin.port: unknown option 'port'");
  EXPECT_EQ(errorOf(std::string(kMinimal) + "log:\n  levl: debug\n"),
            "k.yaml:10:3: log.levl: unknown option 'levl' (did you mean 'level'?)");
}

TEST(LoaderErrorTest, ListWhereStringExpected) {
  EXPECT_EQ(errorOf(std::string(kMinimal) + "      region: [us-east-1, eu-west-1]\n"),
            "k.yaml:9:15: pipelines.app.sink.region: expected a string, got a list");
  EXPECT_EQ(errorOf(std::string(kMinimal) + "data_dir: [/a, /b]\n"), "k.yaml:9:11: data_dir: expected a string, got a list");
}

TEST(LoaderErrorTest, MapWhereListExpected) {
  EXPECT_EQ(errorOf(R"(pipelines:
  app:
    inputs:
      - type: file
        paths: {main: /a}
    sink: {type: kinesis, stream: demo}
)"),
            "k.yaml:5:16: pipelines.app.inputs[0].paths: expected a list of strings, got a map");
}

TEST(LoaderErrorTest, SingleStringWhereListExpected) {
  EXPECT_EQ(errorOf(R"(pipelines:
  app:
    inputs:
      - type: file
        paths: /var/log/*.log
    sink: {type: kinesis, stream: demo}
)"),
            "k.yaml:5:16: pipelines.app.inputs[0].paths: expected a list of strings, got a string ('/var/log/*.log')");
}

TEST(LoaderErrorTest, MissingRequiredOption) {
  EXPECT_EQ(errorOf(R"(pipelines:
  app:
    inputs:
      - type: file
        paths: [/a]
    sink:
      type: kinesis
      region: us-east-1
)"),
            "k.yaml:7:7: pipelines.app.sink.stream: missing required option 'stream'");
  EXPECT_EQ(errorOf(R"(pipelines:
  app:
    inputs:
      - type: file
        start_at: end
    sink: {type: kinesis, stream: demo}
)"),
            "k.yaml:4:9: pipelines.app.inputs[0].paths: missing required option 'paths'");
  EXPECT_EQ(errorOf("data_dir: /tmp/x\n"), "k.yaml:1:1: pipelines: missing required option 'pipelines'");
  EXPECT_EQ(errorOf("pipelines:\n  app:\n    sink: {type: kinesis, stream: demo}\n"),
            "k.yaml:3:5: pipelines.app.inputs: missing required option 'inputs'");
  EXPECT_EQ(errorOf("pipelines:\n  app:\n    inputs: [{type: file, paths: [/a]}]\n"),
            "k.yaml:3:5: pipelines.app.sink: missing required option 'sink'");
}

TEST(LoaderErrorTest, MissingPluginType) {
  EXPECT_EQ(errorOf(R"(pipelines:
  app:
    inputs:
      - paths: [/a]
    sink: {type: kinesis, stream: demo}
)"),
            "k.yaml:4:9: pipelines.app.inputs[0].type: missing required option 'type'");
  EXPECT_EQ(errorOf(R"(pipelines:
  app:
    inputs:
      - type: file
        paths: [/a]
    sink:
      stream: demo
)"),
            "k.yaml:7:7: pipelines.app.sink.type: missing required option 'type'");
}

TEST(LoaderErrorTest, PluginTypeMustBeAString) {
  EXPECT_EQ(errorOf(R"(pipelines:
  app:
    inputs:
      - type: [file]
        paths: [/a]
    sink: {type: kinesis, stream: demo}
)"),
            "k.yaml:4:15: pipelines.app.inputs[0].type: expected a string, got a list");
}

TEST(LoaderErrorTest, OutOfRangeInteger) {
  EXPECT_EQ(errorOf(std::string(kMinimal) + "      max_batch_records: 501\n"),
            "k.yaml:9:26: pipelines.app.sink.max_batch_records: value 501 is out of range [1, 500]");
  EXPECT_EQ(errorOf(std::string(kMinimal) + "      max_batch_records: 0\n"),
            "k.yaml:9:26: pipelines.app.sink.max_batch_records: value 0 is out of range [1, 500]");
}

TEST(LoaderErrorTest, OutOfRangeDurationAndSize) {
  EXPECT_EQ(errorOf(std::string(kMinimal) + "shutdown_timeout: 1h\n"),
            "k.yaml:9:19: shutdown_timeout: value 1h is out of range [0, 10m]");
  EXPECT_EQ(errorOf(std::string(kMinimal) + "    queue_size: 1KiB\n"),
            "k.yaml:9:17: pipelines.app.queue_size: value 1KiB is out of range [64KiB, 1GiB]");
  EXPECT_EQ(errorOf(std::string(kMinimal) + "      linger: 0\n"),
            "k.yaml:9:15: pipelines.app.sink.linger: value 0 is out of range [1ms, 1m]");
}

TEST(LoaderErrorTest, BadDurationSyntax) {
  EXPECT_EQ(errorOf(std::string(kMinimal) + "      linger: 5 sec\n"),
            "k.yaml:9:15: pipelines.app.sink.linger: invalid duration '5 sec': use a number and a unit: ms, s, m, h, d");
  EXPECT_EQ(errorOf(std::string(kMinimal) + "shutdown_timeout: 1.5s\n"),
            "k.yaml:9:19: shutdown_timeout: invalid duration '1.5s': use a number and a unit: ms, s, m, h, d");
}

TEST(LoaderErrorTest, BadSizeSyntax) {
  EXPECT_EQ(errorOf(std::string(kMinimal) + "    queue_size: 8 MiB\n"),
            "k.yaml:9:17: pipelines.app.queue_size: invalid size '8 MiB': use a number and an optional unit: "
            "B, KB, MB, GB, KiB, MiB, GiB");
}

TEST(LoaderErrorTest, BadEnumValue) {
  EXPECT_EQ(errorOf(R"(pipelines:
  app:
    inputs:
      - type: file
        paths: [/a]
        start_at: middle
    sink: {type: kinesis, stream: demo}
)"),
            "k.yaml:6:19: pipelines.app.inputs[0].start_at: invalid value 'middle': expected one of beginning, end");
  EXPECT_EQ(errorOf(std::string(kMinimal) + "log:\n  level: verbose\n"),
            "k.yaml:10:10: log.level: invalid value 'verbose': expected one of debug, info, warn, error");
  EXPECT_EQ(errorOf(std::string(kMinimal) + "log:\n  format: jsno\n"),
            "k.yaml:10:11: log.format: invalid value 'jsno': expected one of text, json (did you mean 'json'?)");
}

TEST(LoaderErrorTest, UnknownInputType) {
  EXPECT_EQ(errorOf(R"(pipelines:
  app:
    inputs:
      - type: fil
        paths: [/a]
    sink: {type: kinesis, stream: demo}
)"),
            "k.yaml:4:15: pipelines.app.inputs[0].type: unknown input type 'fil': known types are file "
            "(did you mean 'file'?)");
  EXPECT_EQ(errorOf(R"(pipelines:
  app:
    inputs:
      - type: file
        paths: [/a]
      - type: journald
    sink: {type: kinesis, stream: demo}
)"),
            "k.yaml:6:15: pipelines.app.inputs[1].type: unknown input type 'journald': known types are file");
}

TEST(LoaderErrorTest, UnknownSinkType) {
  EXPECT_EQ(errorOf(R"(pipelines:
  app:
    inputs:
      - type: file
        paths: [/a]
    sink:
      type: firehose
      stream: demo
)"),
            "k.yaml:7:13: pipelines.app.sink.type: unknown sink type 'firehose': known types are kinesis");
  EXPECT_EQ(errorOf(R"(pipelines:
  app:
    inputs: [{type: file, paths: [/a]}]
    sink: {type: kinesys, stream: demo}
)"),
            "k.yaml:4:18: pipelines.app.sink.type: unknown sink type 'kinesys': known types are kinesis "
            "(did you mean 'kinesis'?)");
}

TEST(LoaderErrorTest, DuplicatePipelineNames) {
  EXPECT_EQ(errorOf(R"(pipelines:
  app:
    inputs: [{type: file, paths: [/a]}]
    sink: {type: kinesis, stream: a}
  app:
    inputs: [{type: file, paths: [/b]}]
    sink: {type: kinesis, stream: b}
)"),
            "k.yaml:5:3: pipelines.app: duplicate pipeline 'app' (first defined at line 2)");
}

TEST(LoaderErrorTest, DuplicateKeyInAPlugin) {
  EXPECT_EQ(errorOf(std::string(kMinimal) + "      stream: other\n"),
            "k.yaml:9:7: pipelines.app.sink.stream: duplicate key 'stream' (first defined at line 8)");
}

TEST(LoaderErrorTest, InvalidPipelineName) {
  EXPECT_EQ(errorOf(R"(pipelines:
  my app:
    inputs: [{type: file, paths: [/a]}]
    sink: {type: kinesis, stream: a}
)"),
            "k.yaml:2:3: pipelines: invalid pipeline name 'my app': use only letters, digits, '_' and '-'");
  EXPECT_EQ(errorOf(R"(pipelines:
  app.v2:
    inputs: [{type: file, paths: [/a]}]
    sink: {type: kinesis, stream: a}
)"),
            "k.yaml:2:3: pipelines: invalid pipeline name 'app.v2': use only letters, digits, '_' and '-'");
}

TEST(LoaderErrorTest, MissingEnvironmentVariable) {
  EXPECT_EQ(errorOf(std::string(kMinimal) + "      region: ${AWS_REGION}\n"),
            "k.yaml:9:15: pipelines.app.sink.region: environment variable 'AWS_REGION' is not set "
            "(use ${AWS_REGION:-default} to give a default)");
  EXPECT_EQ(errorOf(R"(pipelines:
  app:
    inputs:
      - type: file
        paths: ["/var/log/pods/${POD_NAME}/*.log"]
    sink: {type: kinesis, stream: demo}
)"),
            "k.yaml:5:17: pipelines.app.inputs[0].paths[0]: environment variable 'POD_NAME' is not set "
            "(use ${POD_NAME:-default} to give a default)");
}

TEST(LoaderErrorTest, YamlSyntaxError) {
  EXPECT_EQ(errorOf(R"(pipelines:
  app:
    inputs:
      - type: file
        paths: ["/a"
    sink: {type: kinesis, stream: demo}
)"),
            // yaml-cpp points at the token where it noticed: the `sink` key.
            "k.yaml:6:5: invalid YAML: end of sequence flow not found");
  EXPECT_EQ(errorOf("pipelines:\n  app: x\n y: 1\n"), "k.yaml:3:2: invalid YAML: end of map not found");
}

TEST(LoaderErrorTest, UnreadableFile) {
  TempDir dir;
  std::string missing = (dir.path() / "missing.yaml").string();
  try {
    loadConfigFile(missing, kCatalog, kNoEnv);
    FAIL() << "no error";
  } catch (const ConfigError& e) {
    EXPECT_EQ(std::string(e.what()), missing + ": cannot open: No such file or directory");
  }
  try {
    loadConfigFile(dir.path().string(), kCatalog, kNoEnv);
    FAIL() << "no error";
  } catch (const ConfigError& e) {
    EXPECT_EQ(std::string(e.what()), dir.path().string() + ": cannot read: Is a directory");
  }
}

TEST(LoaderErrorTest, EmptyFile) {
  EXPECT_EQ(errorOf(""), "k.yaml: the file is empty");
  EXPECT_EQ(errorOf("# only a comment\n\n"), "k.yaml: the file is empty");
  EXPECT_EQ(errorOf("---\n"), "k.yaml: the file is empty");
  TempDir dir;
  std::filesystem::path file = dir.path() / "empty.yaml";
  std::ofstream{file};
  try {
    loadConfigFile(file.string(), kCatalog, kNoEnv);
    FAIL() << "no error";
  } catch (const ConfigError& e) {
    EXPECT_EQ(std::string(e.what()), file.string() + ": the file is empty");
  }
}

TEST(LoaderErrorTest, RootMustBeAMap) {
  EXPECT_EQ(errorOf("- a\n- b\n"), "k.yaml:1:1: expected a map, got a list");
  EXPECT_EQ(errorOf("hello\n"), "k.yaml:1:1: expected a map, got a string ('hello')");
}

TEST(LoaderErrorTest, OneDocumentOnly) {
  EXPECT_EQ(errorOf(std::string(kMinimal) + "---\ndata_dir: /x\n"),
            "k.yaml:10:1: the file holds more than one YAML document ('---'): put everything in one");
}

TEST(LoaderErrorTest, EmptyPipelinesMap) {
  EXPECT_EQ(errorOf("pipelines: {}\n"), "k.yaml:1:12: pipelines: expected at least one pipeline");
  EXPECT_EQ(errorOf("pipelines:\n"),
            "k.yaml:1:1: pipelines: expected a map of pipeline names to pipelines, got an empty value");
  EXPECT_EQ(errorOf("pipelines: [app]\n"),
            "k.yaml:1:12: pipelines: expected a map of pipeline names to pipelines, got a list");
}

TEST(LoaderErrorTest, PipelineMustBeAMap) {
  EXPECT_EQ(errorOf("pipelines:\n  app:\n"), "k.yaml:2:3: pipelines.app: expected a map, got an empty value");
  EXPECT_EQ(errorOf("pipelines:\n  app: [a]\n"), "k.yaml:2:8: pipelines.app: expected a map, got a list");
}

TEST(LoaderErrorTest, InputsNotAList) {
  EXPECT_EQ(errorOf(R"(pipelines:
  app:
    inputs:
      type: file
      paths: [/a]
    sink: {type: kinesis, stream: demo}
)"),
            "k.yaml:4:7: pipelines.app.inputs: expected a list of inputs, got a map");
  EXPECT_EQ(errorOf("pipelines:\n  app:\n    inputs: []\n    sink: {type: kinesis, stream: demo}\n"),
            "k.yaml:3:13: pipelines.app.inputs: expected at least one input");
  EXPECT_EQ(errorOf("pipelines:\n  app:\n    inputs:\n    sink: {type: kinesis, stream: demo}\n"),
            "k.yaml:3:5: pipelines.app.inputs: expected a list of inputs, got an empty value");
}

TEST(LoaderErrorTest, InputMustBeAMap) {
  EXPECT_EQ(errorOf(R"(pipelines:
  app:
    inputs:
      - file
    sink: {type: kinesis, stream: demo}
)"),
            "k.yaml:4:9: pipelines.app.inputs[0]: expected a map, got a string ('file')");
}

TEST(LoaderErrorTest, SinkMustBeAMap) {
  EXPECT_EQ(errorOf("pipelines:\n  app:\n    inputs: [{type: file, paths: [/a]}]\n    sink: kinesis\n"),
            "k.yaml:4:11: pipelines.app.sink: expected a map, got a string ('kinesis')");
}

TEST(LoaderErrorTest, AdminAndLogMustBeMaps) {
  EXPECT_EQ(errorOf(std::string(kMinimal) + "admin: 127.0.0.1:9464\n"),
            "k.yaml:9:8: admin: expected a map, got a string ('127.0.0.1:9464')");
  EXPECT_EQ(errorOf(std::string(kMinimal) + "log: [debug]\n"), "k.yaml:9:6: log: expected a map, got a list");
}

// A catalog with one more input type, `sock`, whose inputs claim
// "port <port>" on <host> ("*" for every address; port 0 claims nothing).
constexpr Option kSockOptions[] = {
    {.name = "host", .type = ValueType::kString, .defaultValue = "127.0.0.1"},
    {.name = "port", .type = ValueType::kString, .required = true},
};

class ClaimingCatalog : public FakeCatalog {
 public:
  const Schema* inputSchema(std::string_view type) const override {
    return type == "sock" ? &sock_ : FakeCatalog::inputSchema(type);
  }
  std::vector<InputClaim> inputClaims(std::string_view type, const Section& options) const override {
    if (type != "sock" || options.getString("port") == "0") return {};
    std::string host = options.getString("host");
    return {InputClaim{"port " + options.getString("port"), host == "*" ? "" : host, "port"}};
  }

 private:
  Schema sock_{kSockOptions};
};

std::string claimErrorOf(const std::string& yaml) {
  static const ClaimingCatalog catalog;
  try {
    loadConfigString(yaml, "k.yaml", catalog, kNoEnv);
  } catch (const ConfigError& e) {
    return e.what();
  }
  return "<no error>";
}

TEST(LoaderErrorTest, TwoInputsClaimingOnePortInOnePipeline) {
  EXPECT_EQ(claimErrorOf(R"(pipelines:
  app:
    inputs:
      - {type: sock, port: "5514"}
      - {type: sock, port: "5514"}
    sink: {type: kinesis, stream: demo}
)"),
            "k.yaml:5:28: pipelines.app.inputs[1].port: port 5514 on 127.0.0.1 is already taken by "
            "pipelines.app.inputs[0].port (line 4): two inputs cannot hold it at once");
}

TEST(LoaderErrorTest, TwoInputsClaimingOnePortAcrossPipelines) {
  EXPECT_EQ(claimErrorOf(R"(pipelines:
  a:
    inputs: [{type: sock, port: "5514"}]
    sink: {type: kinesis, stream: demo}
  b:
    inputs:
      - type: file
        paths: [/x]
      - type: sock
        port: "5514"
    sink: {type: kinesis, stream: demo}
)"),
            "k.yaml:10:15: pipelines.b.inputs[1].port: port 5514 on 127.0.0.1 is already taken by "
            "pipelines.a.inputs[0].port (line 3): two inputs cannot hold it at once");
}

TEST(LoaderErrorTest, AWildcardClaimConflictsWithEveryAddress) {
  auto twoInputs = [](const std::string& first, const std::string& second) {
    return "pipelines:\n  app:\n    inputs:\n      - {type: sock, " + first + "}\n      - {type: sock, " + second +
           "}\n    sink: {type: kinesis, stream: demo}\n";
  };
  EXPECT_THAT(claimErrorOf(twoInputs("host: \"*\", port: \"80\"", "host: 10.0.0.1, port: \"80\"")),
              HasSubstr("port 80 on 10.0.0.1 is already taken by pipelines.app.inputs[0].port"));
  EXPECT_THAT(claimErrorOf(twoInputs("host: 10.0.0.1, port: \"80\"", "host: \"*\", port: \"80\"")),
              HasSubstr("port 80 on every address is already taken by pipelines.app.inputs[0].port"));
  // Different addresses, different ports, or ports the kernel picks: fine.
  EXPECT_EQ(claimErrorOf(twoInputs("host: 10.0.0.1, port: \"80\"", "host: 10.0.0.2, port: \"80\"")), "<no error>");
  EXPECT_EQ(claimErrorOf(twoInputs("port: \"80\"", "port: \"81\"")), "<no error>");
  EXPECT_EQ(claimErrorOf(twoInputs("port: \"0\"", "port: \"0\"")), "<no error>");
}

TEST(LoaderErrorTest, AdminListenIsCheckedAtLoad) {
  EXPECT_EQ(errorOf(std::string(kMinimal) + "admin:\n  listen: garbage\n"),
            "k.yaml:10:11: admin.listen: 'garbage': missing port (expected host:port)");
  EXPECT_EQ(errorOf(std::string(kMinimal) + "admin:\n  listen: 127.0.0.1:70000\n"),
            "k.yaml:10:11: admin.listen: '127.0.0.1:70000': port '70000' is not a number from 0 to 65535");
  EXPECT_THAT(errorOf(std::string(kMinimal) + "admin:\n  listen: \"::1:9464\"\n"), HasSubstr("must be in brackets"));
  for (const char* good : {"\"\"", "127.0.0.1:0", "\"[::1]:9464\"", "localhost:9464", "0.0.0.0:65535"}) {
    EXPECT_EQ(errorOf(std::string(kMinimal) + "admin:\n  listen: " + good + "\n"), "<no error>") << good;
  }
}

TEST(LoaderErrorTest, EmptyDataDir) {
  // It put the spool in /spool/<pipeline>.
  EXPECT_EQ(errorOf(std::string(kMinimal) + "data_dir: \"\"\n"), "k.yaml:9:11: data_dir: must not be empty");
  EXPECT_EQ(errorOf(std::string(kMinimal) + "data_dir: ${STATE:-}\n"), "k.yaml:9:11: data_dir: must not be empty");
}

TEST(LoaderErrorTest, NulInAPluginType) {
  EXPECT_EQ(errorOf("pipelines:\n  app:\n    inputs: [{type: \"file\\0x\", paths: [/x]}]\n    sink: {type: kinesis}\n"),
            "k.yaml:3:21: pipelines.app.inputs[0].type: contains a NUL character (\\0), which no value may hold");
}

TEST(LoaderErrorTest, DeepNestingSaysSo) {
  // yaml-cpp's own message was "bad file".
  std::string deep = std::string(kMinimal) + "extra: " + std::string(1000, '[') + std::string(1000, ']') + "\n";
  std::string e = errorOf(deep);
  EXPECT_THAT(e, ::testing::StartsWith("k.yaml:9:"));
  EXPECT_THAT(e, HasSubstr("invalid YAML: lists and maps nest too deeply"));
  std::string block = "pipelines:\n";
  for (int i = 0; i < 1000; ++i) block += std::string(2 + 2 * i, ' ') + "k:\n";
  EXPECT_THAT(errorOf(block), HasSubstr("invalid YAML: lists and maps nest too deeply"));
}

TEST(LoaderErrorTest, FilesAreReadUpToABound) {
  // /dev/zero was read until memory ran out.
  try {
    loadConfigFile("/dev/zero", kCatalog, kNoEnv);
    FAIL() << "no error";
  } catch (const ConfigError& e) {
    EXPECT_EQ(std::string(e.what()), "/dev/zero: larger than 16 MiB: not a configuration file");
  }
  TempDir dir;
  std::filesystem::path file = dir.path() / "big.yaml";
  {
    std::ofstream out(file);
    out << kMinimal;
    std::string comment = "#" + std::string(1022, 'x') + "\n";
    while (static_cast<size_t>(out.tellp()) <= kMaxConfigFileSize) out << comment;
  }
  EXPECT_THROW(loadConfigFile(file.string(), kCatalog, kNoEnv), ConfigError);
  std::filesystem::resize_file(file, kMaxConfigFileSize);
  EXPECT_NO_THROW(loadConfigFile(file.string(), kCatalog, kNoEnv));
}

// --------------------------------------------------------- schema tables

TEST(DaemonSchemaTest, TablesHaveTheDocumentedOptions) {
  auto names = [](Schema schema) {
    std::vector<std::string> out;
    for (const Option& option : schema) out.emplace_back(option.name);
    return out;
  };
  using ::testing::ElementsAre;
  EXPECT_THAT(names(globalSchema()), ElementsAre("data_dir", "shutdown_timeout", "stall_timeout", "pipelines", "admin", "log"));
  EXPECT_THAT(names(pipelineSchema()), ElementsAre("inputs", "sink", "partition_key", "partition_key_fallback",
                                                  "partition_key_overflow", "explicit_hash_key",
                                                  "explicit_hash_key_fallback", "queue_size", "spool", "filters",
                                                  "add_fields", "add_metadata", "encoding", "trailing_newline"));
  EXPECT_THAT(names(adminSchema()), ElementsAre("listen"));
  EXPECT_THAT(names(logSchema()), ElementsAre("level", "format"));
  EXPECT_THAT(names(spoolSchema()), ElementsAre("mode", "dir", "max_size", "segment_size", "fsync", "when_full"));
  EXPECT_THAT(names(filterSchema()), ElementsAre("name", "action", "field", "equals", "matches", "level_at_least"));
  for (Schema schema : {globalSchema(), pipelineSchema(), adminSchema(), logSchema(), spoolSchema(), filterSchema()}) {
    for (const Option& option : schema) EXPECT_FALSE(option.help.empty()) << option.name;
  }
}

TEST(DaemonSchemaTest, MarkdownShowsRequiredAndRanges) {
  std::string doc = schemaToMarkdown(globalSchema());
  EXPECT_THAT(doc, HasSubstr("| `pipelines` | section | required |"));
  EXPECT_THAT(doc, HasSubstr("| `shutdown_timeout` | duration | `5s` | [0, 10m] |"));
  EXPECT_THAT(schemaToMarkdown(pipelineSchema()), HasSubstr("| `queue_size` | size |  | [64KiB, 1GiB] |"));
  EXPECT_THAT(schemaToMarkdown(logSchema()),
              HasSubstr("| `level` | enum | `info` | `debug`, `info`, `warn`, `error` |"));
}

}  // namespace
}  // namespace kinship::config
