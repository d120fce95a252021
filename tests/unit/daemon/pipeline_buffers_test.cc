#include "daemon/pipeline_buffers.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <optional>
#include <string>

#include "config/config.h"
#include "daemon/plugin_registry.h"
#include "spool/spool_config.h"

namespace kinship::daemon {
namespace {

using ::testing::HasSubstr;

constexpr size_t kMiB = 1024 * 1024;

// The daemon's reading of a pipeline's buffers: the spool mode as the
// runtime reads it, from a configuration loaded as the daemon loads it.
class PipelineBuffersTest : public ::testing::Test {
 protected:
  void SetUp() override { registerBuiltinPlugins(plugins_); }

  PipelineBuffers buffersOf(const std::string& pipelineLines) {
    const std::string yaml = "data_dir: /tmp/kinship-buffers-test\n"
                             "pipelines:\n"
                             "  app:\n"
                             "    inputs:\n"
                             "      - type: file\n"
                             "        paths: [\"/tmp/in/*.log\"]\n"
                             "    sink: { type: discard }\n" +
                             pipelineLines;
    config::DaemonConfig cfg = config::loadConfigString(yaml, "test.yaml", plugins_, [](std::string_view) {
      return std::optional<std::string>();
    });
    const config::PipelineConfig& pc = cfg.pipelines.at(0);
    const bool disk = spool::spoolConfigFrom(pc.spool, cfg.options.getString("data_dir"), pc.name).disk;
    return pipelineBuffersFor(pc.options, disk);
  }

  PluginRegistry plugins_;
};

TEST_F(PipelineBuffersTest, TheDefaultsKeepLittleInMemoryWhenTheSpoolIsOnDisk) {
  // No spool section: disk mode, the default users run.
  PipelineBuffers buffers = buffersOf("");
  EXPECT_EQ(buffers.queueBytes, 1 * kMiB);
  EXPECT_EQ(buffers.readAheadBytes, kMiB / 2);
  buffers = buffersOf("    spool: { mode: disk }\n");
  EXPECT_EQ(buffers.queueBytes, 1 * kMiB);
  EXPECT_EQ(buffers.readAheadBytes, kMiB / 2);
}

TEST_F(PipelineBuffersTest, InMemoryModeTheQueueIsTheOnlyBufferAndLarger) {
  PipelineBuffers buffers = buffersOf("    spool: { mode: memory }\n");
  EXPECT_EQ(buffers.queueBytes, 8 * kMiB);
  EXPECT_EQ(buffers.readAheadBytes, 0u);
}

TEST_F(PipelineBuffersTest, AQueueSizeSetByTheUserWinsInBothModes) {
  PipelineBuffers buffers = buffersOf("    queue_size: 8MiB\n");
  EXPECT_EQ(buffers.queueBytes, 8 * kMiB);
  EXPECT_EQ(buffers.readAheadBytes, 4 * kMiB);
  buffers = buffersOf("    queue_size: 64KiB\n    spool: { mode: memory }\n");
  EXPECT_EQ(buffers.queueBytes, 64u * 1024);
  EXPECT_EQ(buffers.readAheadBytes, 0u);
}

TEST_F(PipelineBuffersTest, AnOutOfRangeQueueSizeIsStillAConfigErrorAtItsLine) {
  try {
    buffersOf("    queue_size: 1KiB\n");
    FAIL() << "accepted";
  } catch (const config::ConfigError& e) {
    EXPECT_STREQ(e.what(), "test.yaml:8:17: pipelines.app.queue_size: value 1KiB is out of range [64KiB, 1GiB]");
  }
}

TEST(PipelineBuffersHelpTest, TheOptionsHelpStatesBothDefaults) {
  const std::string doc = config::schemaToMarkdown(config::pipelineSchema());
  EXPECT_THAT(doc, HasSubstr("`" + config::formatSize(kDiskModeQueueSize) + "` in disk mode"));
  EXPECT_THAT(doc, HasSubstr("`" + config::formatSize(kMemoryModeQueueSize) + "` in memory mode"));
}

}  // namespace
}  // namespace kinship::daemon
