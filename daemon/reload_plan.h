#pragma once
// ReloadPlan: what a SIGHUP reload does to each pipeline, from the running
// pipelines' fingerprints and the new configuration's: a pipeline whose
// fingerprint is unchanged keeps running untouched; a new name starts; a
// name gone drains and stops; a changed one drains and starts again under
// its new configuration (same spool and checkpoints when those did not move).

#include <string>
#include <vector>

#include "config/config.h"

namespace kinship::daemon {

struct PipelineIdentity {
  std::string name;
  std::string fingerprint;
};

struct ReloadPlan {
  std::vector<std::string> unchanged;
  std::vector<std::string> added;
  std::vector<std::string> removed;
  std::vector<std::string> changed;

  // "1 unchanged (logs), 1 added (audit), 0 removed, 1 changed (app)"
  std::string describe() const;
};

// The fingerprint deciding whether a pipeline must be replaced: its YAML
// block and the data_dir its state lives in.
std::string pipelineFingerprint(const config::PipelineConfig& pipeline, const std::string& dataDir);

ReloadPlan planReload(const std::vector<PipelineIdentity>& running, const std::vector<PipelineIdentity>& wanted);

}  // namespace kinship::daemon
