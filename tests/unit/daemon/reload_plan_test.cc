#include "daemon/reload_plan.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "config/config.h"
#include "daemon/plugin_registry.h"

namespace kinship::daemon {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;

TEST(ReloadPlanTest, SortsPipelinesIntoUnchangedAddedRemovedAndChanged) {
  std::vector<PipelineIdentity> running{{"app", "a1"}, {"audit", "b1"}, {"old", "c1"}};
  std::vector<PipelineIdentity> wanted{{"app", "a2"}, {"audit", "b1"}, {"new", "d1"}};
  ReloadPlan plan = planReload(running, wanted);
  EXPECT_THAT(plan.unchanged, ElementsAre("audit"));
  EXPECT_THAT(plan.added, ElementsAre("new"));
  EXPECT_THAT(plan.removed, ElementsAre("old"));
  EXPECT_THAT(plan.changed, ElementsAre("app"));
  EXPECT_EQ(plan.describe(), "1 unchanged (audit), 1 added (new), 1 removed (old), 1 changed (app)");
}

TEST(ReloadPlanTest, AnIdenticalConfigurationChangesNothing) {
  std::vector<PipelineIdentity> running{{"app", "a"}, {"audit", "b"}};
  ReloadPlan plan = planReload(running, running);
  EXPECT_THAT(plan.unchanged, ElementsAre("app", "audit"));
  EXPECT_THAT(plan.added, IsEmpty());
  EXPECT_THAT(plan.removed, IsEmpty());
  EXPECT_THAT(plan.changed, IsEmpty());
}

class FingerprintTest : public ::testing::Test {
 protected:
  void SetUp() override { registerBuiltinPlugins(plugins_); }

  std::string fingerprintOf(const std::string& yaml, const std::string& pipeline = "app") {
    config::DaemonConfig cfg = config::loadConfigString(yaml, "test.yaml", plugins_, [](std::string_view) {
      return std::optional<std::string>();
    });
    for (const auto& pc : cfg.pipelines) {
      if (pc.name == pipeline) return pipelineFingerprint(pc, cfg.options.getString("data_dir"));
    }
    ADD_FAILURE() << "no pipeline " << pipeline;
    return {};
  }

  PluginRegistry plugins_;
};

constexpr const char* kBase = R"(data_dir: /tmp/a
pipelines:
  app:
    inputs:
      - type: file
        paths: ["/tmp/in/*.log"]
    partition_key: "{service}"
    sink: { type: discard }
  audit:
    inputs: [{ type: file, paths: ["/tmp/audit/*.log"] }]
    sink: { type: discard }
)";

TEST_F(FingerprintTest, CommentsLayoutAndOtherPipelinesDoNotChangeIt) {
  std::string base = fingerprintOf(kBase);
  std::string relaid = fingerprintOf(R"(# a comment
data_dir: /tmp/a
pipelines:
  app:
    inputs: [{type: file, paths: ["/tmp/in/*.log"]}]   # same input, flow style
    partition_key: "{service}"
    sink:
      type: discard
  audit:
    inputs: [{ type: file, paths: ["/tmp/audit/*.log"] }]
    sink: { type: discard, delay: 1s }
)");
  EXPECT_EQ(base, relaid);
}

TEST_F(FingerprintTest, AnOptionOrTheDataDirChangesIt) {
  std::string base = fingerprintOf(kBase);
  std::string key = kBase;
  key.replace(key.find("{service}"), 9, "{host}");
  EXPECT_NE(base, fingerprintOf(key));
  std::string dataDir = kBase;
  dataDir.replace(dataDir.find("/tmp/a"), 6, "/tmp/b");
  EXPECT_NE(base, fingerprintOf(dataDir));
}

}  // namespace
}  // namespace kinship::daemon
