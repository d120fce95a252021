#include "daemon/reload_plan.h"

#include <algorithm>

namespace kinship::daemon {

namespace {

std::string listed(const std::vector<std::string>& names, const char* what) {
  std::string text = std::to_string(names.size()) + " " + what;
  for (size_t i = 0; i < names.size(); ++i) text += (i == 0 ? " (" : ", ") + names[i];
  if (!names.empty()) text += ")";
  return text;
}

const PipelineIdentity* find(const std::vector<PipelineIdentity>& list, const std::string& name) {
  auto it = std::find_if(list.begin(), list.end(), [&](const PipelineIdentity& p) { return p.name == name; });
  return it == list.end() ? nullptr : &*it;
}

}  // namespace

std::string ReloadPlan::describe() const {
  return listed(unchanged, "unchanged") + ", " + listed(added, "added") + ", " + listed(removed, "removed") + ", " +
         listed(changed, "changed");
}

std::string pipelineFingerprint(const config::PipelineConfig& pipeline, const std::string& dataDir) {
  return pipeline.fingerprint + "\n# data_dir: " + dataDir;
}

ReloadPlan planReload(const std::vector<PipelineIdentity>& running, const std::vector<PipelineIdentity>& wanted) {
  ReloadPlan plan;
  for (const PipelineIdentity& w : wanted) {
    const PipelineIdentity* r = find(running, w.name);
    if (r == nullptr) {
      plan.added.push_back(w.name);
    } else if (r->fingerprint != w.fingerprint) {
      plan.changed.push_back(w.name);
    } else {
      plan.unchanged.push_back(w.name);
    }
  }
  for (const PipelineIdentity& r : running) {
    if (find(wanted, r.name) == nullptr) plan.removed.push_back(r.name);
  }
  return plan;
}

}  // namespace kinship::daemon
