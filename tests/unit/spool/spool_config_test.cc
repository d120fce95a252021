#include "spool/spool_config.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <yaml-cpp/yaml.h>

#include "config/config.h"

namespace kinship::spool {
namespace {

using namespace std::chrono_literals;
using config::ConfigError;
using config::Section;
using ::testing::HasSubstr;

const config::EnvLookup kNoEnv = [](std::string_view) -> std::optional<std::string> { return std::nullopt; };

SpoolConfig configOf(const std::string& yaml) {
  YAML::Node node = yaml.empty() ? YAML::Node(YAML::NodeType::Map) : YAML::Load(yaml);
  Section s = Section::validate(node, config::spoolSchema(), "k.yaml", "pipelines.app.spool", kNoEnv);
  return spoolConfigFrom(s, "/var/lib/kinship", "app");
}

std::string errorOf(const std::string& yaml) {
  try {
    configOf(yaml);
  } catch (const ConfigError& e) {
    return e.what();
  }
  return "<no error>";
}

TEST(SpoolConfig, DefaultsAreADiskSpoolUnderDataDir) {
  SpoolConfig c = configOf("");
  EXPECT_TRUE(c.disk);
  EXPECT_EQ(c.options.dir, "/var/lib/kinship/spool/app");
  EXPECT_EQ(c.options.maxTotalBytes, 1ull << 30);
  EXPECT_EQ(c.options.segmentBytes, 64ull << 20);
  EXPECT_EQ(c.options.fsync, FsyncPolicy::kInterval);
  EXPECT_EQ(c.options.fsyncInterval, 1s);
  EXPECT_EQ(c.whenFull, WhenFull::kBlock);
}

TEST(SpoolConfig, EveryOptionMaps) {
  SpoolConfig c = configOf("{mode: memory, dir: /x, max_size: 8MiB, segment_size: 2MiB, fsync: always, "
                           "when_full: drop_oldest}");
  EXPECT_FALSE(c.disk);
  EXPECT_EQ(c.options.dir, "/x");
  EXPECT_EQ(c.options.maxTotalBytes, 8u << 20);
  EXPECT_EQ(c.options.segmentBytes, 2u << 20);
  EXPECT_EQ(c.options.fsync, FsyncPolicy::kAlways);
  EXPECT_EQ(c.whenFull, WhenFull::kDropOldest);
  EXPECT_EQ(configOf("fsync: never").options.fsync, FsyncPolicy::kNever);
  EXPECT_EQ(configOf("fsync: 250ms").options.fsyncInterval, 250ms);
  EXPECT_EQ(configOf("when_full: drop_newest").whenFull, WhenFull::kDropNewest);
}

TEST(SpoolConfig, BadValuesNameTheOption) {
  EXPECT_EQ(errorOf("fsync: sometimes"),
            "k.yaml:1:8: pipelines.app.spool.fsync: 'sometimes' is not `always`, `never` or a duration from 1ms to "
            "36500d such as 1s");
  EXPECT_THAT(errorOf("fsync: 0s"), HasSubstr("pipelines.app.spool.fsync"));
  EXPECT_THAT(errorOf("{max_size: 4MiB, segment_size: 4MiB}"),
              HasSubstr("pipelines.app.spool.max_size: must be at least twice segment_size (4MiB)"));
  EXPECT_THAT(errorOf("when_full: wait"), HasSubstr("pipelines.app.spool.when_full"));
  EXPECT_THAT(errorOf("mode: tape"), HasSubstr("pipelines.app.spool.mode"));
  EXPECT_THAT(errorOf("dir: \"\""), HasSubstr("pipelines.app.spool.dir"));
}

// 106751991167d fits in milliseconds but not in a clock's nanoseconds: it
// wrapped around to negative, so the spool fsynced on every append.
TEST(SpoolConfig, FsyncIntervalThatOverflowsAClockIsRefused) {
  EXPECT_THAT(errorOf("fsync: 106751991167d"),
              HasSubstr("pipelines.app.spool.fsync: '106751991167d' is not `always`, `never` or a duration"));
  EXPECT_THAT(errorOf("fsync: 36501d"), HasSubstr("pipelines.app.spool.fsync"));
  SpoolConfig c = configOf("fsync: 36500d");
  EXPECT_EQ(c.options.fsync, FsyncPolicy::kInterval);
  EXPECT_EQ(c.options.fsyncInterval, std::chrono::milliseconds(config::kMaxDuration));
}

}  // namespace
}  // namespace kinship::spool
