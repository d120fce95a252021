// The Kubernetes manifests under deploy/kubernetes/: every workload that runs
// a container named "kinship" is checked for what running it safely takes
// (probes on the admin port, a locked-down security context, data_dir on a
// volume, resources, a grace period above shutdown_timeout, IRSA, Prometheus
// annotations), reading kinship's own config from the ConfigMap the
// container's --config names. What kinship itself accepts in that config is
// tests/integration/config_examples.test.mjs's job (--check-config).
//
// Every failure names the file, the workload and the field.

#include <gtest/gtest.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/host_port.h"
#include "config/config.h"
#include "config/schema.h"

namespace kinship {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

const fs::path kManifestDir = fs::path(KINSHIP_SOURCE_DIR) / "deploy" / "kubernetes";
constexpr std::string_view kIrsaAnnotation = "eks.amazonaws.com/role-arn";

// ---- Reading YAML nodes without changing them ----
// yaml-cpp's Node::operator= on a node that has a value writes through to
// that value (it changes the tree); reset() rebinds the handle. So nodes are
// only ever rebound with reset(), and looked up through const references
// (a non-const operator[] inserts a missing key).

// The node at `path` under `node` (maps only), or an undefined node.
YAML::Node at(const YAML::Node& node, std::initializer_list<std::string_view> path) {
  YAML::Node current = node;
  for (std::string_view key : path) {
    if (!current.IsMap()) return YAML::Node(YAML::NodeType::Undefined);
    const YAML::Node& constCurrent = current;
    YAML::Node next = constCurrent[std::string(key)];
    if (!next.IsDefined()) return YAML::Node(YAML::NodeType::Undefined);
    current.reset(next);
  }
  return current;
}

std::optional<std::string> scalar(const YAML::Node& node, std::initializer_list<std::string_view> path = {}) {
  YAML::Node n = at(node, path);
  if (!n.IsScalar()) return std::nullopt;
  return n.as<std::string>();
}

bool isTrue(const YAML::Node& node, std::initializer_list<std::string_view> path) {
  return scalar(node, path) == "true";
}

std::string nameOf(const YAML::Node& node) { return scalar(node, {"name"}).value_or("?"); }

// The element of a sequence whose `name` is `name`, or an undefined node.
YAML::Node named(const YAML::Node& sequence, std::string_view name) {
  if (sequence.IsSequence()) {
    for (const YAML::Node& item : sequence) {
      if (scalar(item, {"name"}) == name) return item;
    }
  }
  return YAML::Node(YAML::NodeType::Undefined);
}

// A Kubernetes quantity ("100m", "1", "64Mi", "1G") in base units.
std::optional<double> parseQuantity(std::string_view text) {
  struct Suffix {
    std::string_view name;
    double factor;
  };
  static constexpr Suffix kSuffixes[] = {
      {"Ki", 1024.0}, {"Mi", 1024.0 * 1024}, {"Gi", 1024.0 * 1024 * 1024}, {"Ti", 1024.0 * 1024 * 1024 * 1024},
      {"n", 1e-9},    {"u", 1e-6},           {"m", 1e-3},                   {"k", 1e3},
      {"M", 1e6},     {"G", 1e9},            {"T", 1e12},
  };
  double factor = 1;
  for (const Suffix& suffix : kSuffixes) {
    if (text.size() > suffix.name.size() && text.ends_with(suffix.name)) {
      factor = suffix.factor;
      text.remove_suffix(suffix.name.size());
      break;
    }
  }
  if (text.empty() || text.find_first_not_of("0123456789.") != std::string_view::npos) return std::nullopt;
  try {
    size_t used = 0;
    double value = std::stod(std::string(text), &used);
    if (used != text.size()) return std::nullopt;
    return value * factor;
  } catch (const std::exception&) {
    return std::nullopt;
  }
}

// ---- What a workload is made of ----

// What the checks need of kinship's config.
struct KinshipConfig {
  std::chrono::milliseconds shutdownTimeout{};
  std::string dataDir;
  HostPort admin;
  std::vector<std::string> filePaths;  // every file input's `paths`
};

struct Workload {
  std::string where;  // "sidecar.yaml: Deployment app-with-kinship"
  std::string file;   // "sidecar.yaml"
  std::string kind;
  YAML::Node podTemplate{YAML::NodeType::Undefined};
  YAML::Node podSpec{YAML::NodeType::Undefined};
  YAML::Node container{YAML::NodeType::Undefined};  // kinship's
  std::string containerPath;  // "spec.template.spec.containers[kinship]"
  bool inInitContainers = false;
  std::vector<YAML::Node> documents;  // the whole file, for its ConfigMaps and ServiceAccounts
  std::optional<KinshipConfig> config;
  std::string configError;  // why `config` is missing
};

// Names any ${VAR} resolves to: the manifests set them, the values do not
// matter here.
std::optional<std::string> anyEnv(std::string_view) { return "placeholder"; }

KinshipConfig readKinshipConfig(const std::string& text, const std::string& where) {
  YAML::Node root = YAML::Load(text);
  EnvLookup env = anyEnv;
  config::Section options = config::Section::validate(root, config::globalSchema(), where, "", env);
  config::Section admin = options.isSet("admin")
                              ? options.nested("admin", config::adminSchema())
                              : config::Section::validate(YAML::Node(YAML::NodeType::Map), config::adminSchema(),
                                                          where, "admin", env);
  KinshipConfig config;
  config.shutdownTimeout = options.getDuration("shutdown_timeout");
  config.dataDir = options.getString("data_dir");
  Result<HostPort> listen = parseHostPort(admin.getString("listen"));
  if (!listen.has_value()) throw std::runtime_error(where + ": admin.listen: " + listen.error().message());
  config.admin = *listen;
  const YAML::Node& constRoot = root;
  for (const auto& pipeline : constRoot["pipelines"]) {
    for (const YAML::Node& input : at(pipeline.second, {"inputs"})) {
      if (scalar(input, {"type"}) != "file") continue;
      for (const YAML::Node& path : at(input, {"paths"})) config.filePaths.push_back(path.as<std::string>());
    }
  }
  return config;
}

// The config file the container runs with: the argument after --config (the
// image's CMD when there are no args).
std::string configPath(const YAML::Node& container) {
  YAML::Node args = at(container, {"args"});
  if (!args.IsDefined()) return "/etc/kinship/kinship.yaml";
  for (size_t i = 0; i + 1 < args.size(); ++i) {
    std::string arg = args[i].as<std::string>();
    if (arg == "--config" || arg == "-c") return args[i + 1].as<std::string>();
  }
  return "";
}

// Follows --config to the ConfigMap key mounted there and reads it.
void loadConfig(Workload& w) {
  const std::string path = configPath(w.container);
  if (path.empty()) {
    w.configError = w.containerPath + ".args: no --config FILE";
    return;
  }
  const fs::path file(path);
  YAML::Node mount(YAML::NodeType::Undefined);
  for (const YAML::Node& m : at(w.container, {"volumeMounts"})) {
    if (scalar(m, {"mountPath"}) == file.parent_path().string()) mount.reset(m);
  }
  if (!mount.IsDefined()) {
    w.configError = w.containerPath + ".volumeMounts: nothing mounted at " + file.parent_path().string() +
                    ", where --config " + path + " is";
    return;
  }
  const std::string volumeName = scalar(mount, {"name"}).value_or("");
  const std::optional<std::string> configMapName =
      scalar(named(at(w.podSpec, {"volumes"}), volumeName), {"configMap", "name"});
  if (!configMapName) {
    w.configError = "spec.template.spec.volumes[" + volumeName + "]: not a configMap volume (it holds --config " +
                    path + ")";
    return;
  }
  for (const YAML::Node& doc : w.documents) {
    if (scalar(doc, {"kind"}) != "ConfigMap" || scalar(doc, {"metadata", "name"}) != *configMapName) continue;
    std::optional<std::string> text = scalar(doc, {"data", file.filename().string()});
    if (!text) {
      w.configError = "ConfigMap " + *configMapName + ": no data." + file.filename().string();
      return;
    }
    try {
      w.config = readKinshipConfig(*text, w.file + ": ConfigMap " + *configMapName + " data." +
                                              file.filename().string());
    } catch (const std::exception& e) {
      w.configError = e.what();
    }
    return;
  }
  w.configError = "no ConfigMap " + *configMapName + " in the file (the volume " + volumeName + " names it)";
}

struct Loaded {
  std::vector<Workload> workloads;
  std::vector<std::string> errors;  // files that are not YAML
};

Loaded loadManifests() {
  Loaded loaded;
  std::vector<fs::path> paths;
  for (const auto& entry : fs::directory_iterator(kManifestDir)) {
    if (entry.path().extension() == ".yaml") paths.push_back(entry.path());
  }
  std::sort(paths.begin(), paths.end());
  for (const fs::path& path : paths) {
    const std::string file = path.filename().string();
    std::vector<YAML::Node> documents;
    try {
      documents = YAML::LoadAllFromFile(path.string());
    } catch (const YAML::Exception& e) {
      loaded.errors.push_back(file + ": " + e.what());
      continue;
    }
    for (const YAML::Node& doc : documents) {
      const std::string kind = scalar(doc, {"kind"}).value_or("");
      if (kind != "Deployment" && kind != "DaemonSet" && kind != "StatefulSet") continue;
      Workload w;
      w.file = file;
      w.kind = kind;
      w.where = file + ": " + kind + " " + scalar(doc, {"metadata", "name"}).value_or("?");
      w.podTemplate.reset(at(doc, {"spec", "template"}));
      w.podSpec.reset(at(w.podTemplate, {"spec"}));
      w.documents = documents;
      for (std::string_view list : {"containers", "initContainers"}) {
        YAML::Node container = named(at(w.podSpec, {list}), "kinship");
        if (!container.IsDefined()) continue;
        w.container.reset(container);
        w.containerPath = "spec.template.spec." + std::string(list) + "[kinship]";
        w.inInitContainers = list == "initContainers";
      }
      if (!w.container.IsDefined()) continue;  // a workload without kinship is not ours to check
      loadConfig(w);
      loaded.workloads.push_back(std::move(w));
    }
  }
  return loaded;
}

// Container-level value, else pod-level (as Kubernetes applies them).
std::optional<std::string> securityField(const Workload& w, std::string_view field) {
  if (auto v = scalar(w.container, {"securityContext", field})) return v;
  return scalar(w.podSpec, {"securityContext", field});
}

std::optional<std::string> seccompType(const Workload& w) {
  if (auto v = scalar(w.container, {"securityContext", "seccompProfile", "type"})) return v;
  return scalar(w.podSpec, {"securityContext", "seccompProfile", "type"});
}

// The container's mount that holds `path` (the longest mountPath above it).
YAML::Node mountHolding(const YAML::Node& container, const std::string& path) {
  YAML::Node best(YAML::NodeType::Undefined);
  size_t bestLength = 0;
  for (const YAML::Node& m : at(container, {"volumeMounts"})) {
    const std::string mountPath = scalar(m, {"mountPath"}).value_or("");
    if (mountPath.empty()) continue;
    const bool holds = path == mountPath || (path.starts_with(mountPath) && path[mountPath.size()] == '/');
    if (holds && mountPath.size() > bestLength) {
      best.reset(m);
      bestLength = mountPath.size();
    }
  }
  return best;
}

YAML::Node volumeOf(const Workload& w, const YAML::Node& mount) {
  return named(at(w.podSpec, {"volumes"}), scalar(mount, {"name"}).value_or(""));
}

// The directory part of a glob pattern, before its first wildcard.
std::string fixedPrefix(const std::string& pattern) {
  const std::string head = pattern.substr(0, pattern.find_first_of("*?["));
  return head.substr(0, head.rfind('/'));
}

// The seconds a preStop hook sleeps: exec ["sleep", "N"] or the sleep action.
int preStopSleepSeconds(const YAML::Node& container) {
  if (auto seconds = scalar(container, {"lifecycle", "preStop", "sleep", "seconds"})) return std::stoi(*seconds);
  YAML::Node command = at(container, {"lifecycle", "preStop", "exec", "command"});
  if (command.IsSequence() && command.size() == 2 && command[0].as<std::string>() == "sleep") {
    return std::stoi(command[1].as<std::string>());
  }
  return 0;
}

class ManifestsTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { loaded_ = new Loaded(loadManifests()); }
  static void TearDownTestSuite() {
    delete loaded_;
    loaded_ = nullptr;
  }
  static const std::vector<Workload>& workloads() { return loaded_->workloads; }

  static const Workload* workloadIn(std::string_view file) {
    for (const Workload& w : workloads()) {
      if (w.file == file) return &w;
    }
    return nullptr;
  }

  static Loaded* loaded_;
};

Loaded* ManifestsTest::loaded_ = nullptr;

TEST_F(ManifestsTest, EveryManifestParsesAndTheThreeWaysToRunAreThere) {
  EXPECT_TRUE(loaded_->errors.empty()) << ::testing::PrintToString(loaded_->errors);
  for (std::string_view file : {"sidecar.yaml", "native-sidecar.yaml", "daemonset.yaml"}) {
    EXPECT_NE(workloadIn(file), nullptr) << kManifestDir.string() << "/" << file
                                         << ": no Deployment, DaemonSet or StatefulSet with a container named kinship";
  }
  for (const Workload& w : workloads()) {
    EXPECT_TRUE(w.config.has_value()) << w.where << ": kinship's config: " << w.configError;
  }
}

TEST_F(ManifestsTest, ProbesAskHealthzAndReadyzOnTheAdminPort) {
  for (const Workload& w : workloads()) {
    if (!w.config) continue;  // reported by the test above
    for (auto [probe, path] : {std::pair{"livenessProbe", "/healthz"}, std::pair{"readinessProbe", "/readyz"}}) {
      const std::string field = w.containerPath + "." + probe + ".httpGet";
      EXPECT_EQ(scalar(w.container, {probe, "httpGet", "path"}), path) << w.where << ": " << field << ".path";
      std::optional<std::string> port = scalar(w.container, {probe, "httpGet", "port"});
      ASSERT_TRUE(port.has_value()) << w.where << ": " << field << ".port is missing";
      // A named port is looked up in the container's ports.
      if (auto byName = scalar(named(at(w.container, {"ports"}), *port), {"containerPort"})) port = byName;
      EXPECT_EQ(port, std::to_string(w.config->admin.port))
          << w.where << ": " << field << ".port is not admin.listen's port";
    }
  }
}

TEST_F(ManifestsTest, AdminListensOnThePodAddressForProbesAndScrapers) {
  for (const Workload& w : workloads()) {
    if (!w.config) continue;
    EXPECT_TRUE(isWildcardHost(w.config->admin.host))
        << w.where << ": kinship's admin.listen host " << w.config->admin.host
        << " is not 0.0.0.0 or [::]: the kubelet's probes and Prometheus reach the pod's IP";
  }
}

TEST_F(ManifestsTest, SecurityContextIsLockedDown) {
  for (const Workload& w : workloads()) {
    const std::string sc = w.containerPath + ".securityContext";
    EXPECT_TRUE(isTrue(w.container, {"securityContext", "readOnlyRootFilesystem"}))
        << w.where << ": " << sc << ".readOnlyRootFilesystem";
    EXPECT_EQ(scalar(w.container, {"securityContext", "allowPrivilegeEscalation"}), "false")
        << w.where << ": " << sc << ".allowPrivilegeEscalation";
    EXPECT_FALSE(isTrue(w.container, {"securityContext", "privileged"})) << w.where << ": " << sc << ".privileged";
    YAML::Node drop = at(w.container, {"securityContext", "capabilities", "drop"});
    EXPECT_TRUE(drop.IsSequence() && std::any_of(drop.begin(), drop.end(), [](const YAML::Node& c) {
                  return c.as<std::string>() == "ALL";
                }))
        << w.where << ": " << sc << ".capabilities.drop has no ALL";
    EXPECT_FALSE(at(w.container, {"securityContext", "capabilities", "add"}).IsDefined())
        << w.where << ": " << sc << ".capabilities.add";
    EXPECT_EQ(seccompType(w), "RuntimeDefault") << w.where << ": " << sc << " (or the pod's).seccompProfile.type";
    const std::optional<std::string> user = securityField(w, "runAsUser");
    EXPECT_TRUE(user.has_value()) << w.where << ": " << sc << " (or the pod's).runAsUser is not set";
    if (w.kind == "DaemonSet") continue;  // root without capabilities, to read /var/log/pods (next test)
    EXPECT_EQ(securityField(w, "runAsNonRoot"), "true") << w.where << ": " << sc << " (or the pod's).runAsNonRoot";
    EXPECT_NE(user, "0") << w.where << ": " << sc << " (or the pod's).runAsUser";
    EXPECT_TRUE(securityField(w, "runAsGroup").has_value())
        << w.where << ": " << sc << " (or the pod's).runAsGroup is not set";
  }
}

TEST_F(ManifestsTest, DataDirIsAWritableVolume) {
  for (const Workload& w : workloads()) {
    if (!w.config) continue;
    YAML::Node mount = mountHolding(w.container, w.config->dataDir);
    ASSERT_TRUE(mount.IsDefined()) << w.where << ": " << w.containerPath << ".volumeMounts: nothing holds data_dir "
                                   << w.config->dataDir << " (the root filesystem is read-only)";
    EXPECT_FALSE(isTrue(mount, {"readOnly"}))
        << w.where << ": " << w.containerPath << ".volumeMounts[" << nameOf(mount) << "] (data_dir) is read-only";
    EXPECT_TRUE(volumeOf(w, mount).IsDefined())
        << w.where << ": spec.template.spec.volumes has no " << nameOf(mount) << " (data_dir)";
  }
}

TEST_F(ManifestsTest, FileInputsReadAMountedVolume) {
  for (const Workload& w : workloads()) {
    if (!w.config) continue;
    for (const std::string& pattern : w.config->filePaths) {
      YAML::Node mount = mountHolding(w.container, fixedPrefix(pattern));
      ASSERT_TRUE(mount.IsDefined()) << w.where << ": " << w.containerPath
                                     << ".volumeMounts: nothing holds the file input's " << pattern;
      EXPECT_TRUE(isTrue(mount, {"readOnly"}))
          << w.where << ": " << w.containerPath << ".volumeMounts[" << nameOf(mount) << "] (" << pattern
          << "): kinship only reads logs, mount them readOnly";
      if (w.kind == "DaemonSet") continue;
      // A sidecar's logs come from another container of the pod.
      const std::string volume = scalar(mount, {"name"}).value_or("");
      bool shared = false;
      for (std::string_view list : {"containers", "initContainers"}) {
        for (const YAML::Node& other : at(w.podSpec, {list})) {
          if (scalar(other, {"name"}) == "kinship") continue;
          shared = shared || named(at(other, {"volumeMounts"}), volume).IsDefined();
        }
      }
      EXPECT_TRUE(shared) << w.where << ": no other container mounts volume " << volume << ", which holds "
                          << pattern;
    }
  }
}

TEST_F(ManifestsTest, CpuAndMemoryAreRequestedAndLimited) {
  for (const Workload& w : workloads()) {
    for (std::string_view resource : {"cpu", "memory"}) {
      const std::string field = w.containerPath + ".resources";
      std::optional<std::string> request = scalar(w.container, {"resources", "requests", resource});
      std::optional<std::string> limit = scalar(w.container, {"resources", "limits", resource});
      ASSERT_TRUE(request.has_value()) << w.where << ": " << field << ".requests." << resource << " is missing";
      ASSERT_TRUE(limit.has_value()) << w.where << ": " << field << ".limits." << resource << " is missing";
      std::optional<double> requested = parseQuantity(*request);
      std::optional<double> limited = parseQuantity(*limit);
      ASSERT_TRUE(requested && limited) << w.where << ": " << field << "." << resource << ": " << *request << " / "
                                        << *limit << " is not a quantity";
      EXPECT_LE(*requested, *limited) << w.where << ": " << field << ".requests." << resource << " " << *request
                                      << " is above limits." << resource << " " << *limit;
    }
  }
}

TEST_F(ManifestsTest, GracePeriodOutlastsPreStopAndShutdownTimeout) {
  for (const Workload& w : workloads()) {
    if (!w.config) continue;
    std::optional<std::string> grace = scalar(w.podSpec, {"terminationGracePeriodSeconds"});
    ASSERT_TRUE(grace.has_value()) << w.where << ": spec.template.spec.terminationGracePeriodSeconds is not set";
    const auto needed = w.config->shutdownTimeout + std::chrono::seconds(preStopSleepSeconds(w.container));
    EXPECT_GT(std::chrono::seconds(std::stoll(*grace)), needed)
        << w.where << ": spec.template.spec.terminationGracePeriodSeconds " << *grace
        << " s is not above shutdown_timeout + preStop sleep (" << needed.count() << " ms): kinship would be killed "
        << "while it sends";
  }
}

TEST_F(ManifestsTest, KinshipInInitContainersIsANativeSidecar) {
  const Workload* native = workloadIn("native-sidecar.yaml");
  ASSERT_NE(native, nullptr);
  EXPECT_TRUE(native->inInitContainers) << native->where << ": kinship is not in spec.template.spec.initContainers";
  for (const Workload& w : workloads()) {
    if (!w.inInitContainers) continue;
    // Without it the pod would wait for kinship to exit before starting.
    EXPECT_EQ(scalar(w.container, {"restartPolicy"}), "Always") << w.where << ": " << w.containerPath
                                                                << ".restartPolicy";
  }
}

TEST_F(ManifestsTest, DaemonSetReadsNodeLogsReadOnlyAndKeepsItsStateOnTheNode) {
  const Workload* ds = workloadIn("daemonset.yaml");
  ASSERT_NE(ds, nullptr);
  ASSERT_EQ(ds->kind, "DaemonSet");
  ASSERT_TRUE(ds->config.has_value()) << ds->configError;

  YAML::Node logs = mountHolding(ds->container, "/var/log/pods");
  ASSERT_TRUE(logs.IsDefined()) << ds->where << ": " << ds->containerPath << ".volumeMounts: no /var/log/pods";
  EXPECT_EQ(scalar(logs, {"mountPath"}), "/var/log/pods") << ds->where;
  EXPECT_TRUE(isTrue(logs, {"readOnly"})) << ds->where << ": " << ds->containerPath << ".volumeMounts["
                                          << nameOf(logs) << "].readOnly";
  EXPECT_EQ(scalar(volumeOf(*ds, logs), {"hostPath", "path"}), "/var/log/pods")
      << ds->where << ": spec.template.spec.volumes[" << nameOf(logs) << "].hostPath.path";

  YAML::Node data = mountHolding(ds->container, ds->config->dataDir);
  ASSERT_TRUE(data.IsDefined()) << ds->where << ": no mount holds data_dir";
  YAML::Node dataVolume = volumeOf(*ds, data);
  EXPECT_TRUE(scalar(dataVolume, {"hostPath", "path"}).has_value())
      << ds->where << ": spec.template.spec.volumes[" << nameOf(data)
      << "] (data_dir) is not a hostPath: checkpoints would die with the pod and every update would resend or skip";
  EXPECT_EQ(scalar(dataVolume, {"hostPath", "type"}), "DirectoryOrCreate")
      << ds->where << ": spec.template.spec.volumes[" << nameOf(data) << "].hostPath.type";

  // Runs on every node: one toleration that matches every taint.
  bool all = false;
  for (const YAML::Node& t : at(ds->podSpec, {"tolerations"})) {
    all = all || (scalar(t, {"operator"}) == "Exists" && !at(t, {"key"}).IsDefined());
  }
  EXPECT_TRUE(all) << ds->where << ": spec.template.spec.tolerations has no {operator: Exists} without a key";
}

TEST_F(ManifestsTest, ServiceAccountIsAnnotatedForIrsa) {
  for (const Workload& w : workloads()) {
    std::optional<std::string> account = scalar(w.podSpec, {"serviceAccountName"});
    ASSERT_TRUE(account.has_value()) << w.where << ": spec.template.spec.serviceAccountName is not set";
    YAML::Node found(YAML::NodeType::Undefined);
    for (const YAML::Node& doc : w.documents) {
      if (scalar(doc, {"kind"}) == "ServiceAccount" && scalar(doc, {"metadata", "name"}) == *account) found.reset(doc);
    }
    ASSERT_TRUE(found.IsDefined()) << w.where << ": no ServiceAccount " << *account << " in the file";
    std::optional<std::string> role = scalar(found, {"metadata", "annotations", kIrsaAnnotation});
    ASSERT_TRUE(role.has_value()) << w.file << ": ServiceAccount " << *account << ": metadata.annotations."
                                  << kIrsaAnnotation << " is missing";
    EXPECT_TRUE(role->starts_with("arn:aws:iam::") && role->find(":role/") != std::string::npos)
        << w.file << ": ServiceAccount " << *account << ": " << kIrsaAnnotation << " " << *role
        << " is not an IAM role ARN";
  }
}

TEST_F(ManifestsTest, PodsCarryPrometheusScrapeAnnotations) {
  for (const Workload& w : workloads()) {
    if (!w.config) continue;
    const YAML::Node annotations = at(w.podTemplate, {"metadata", "annotations"});
    const std::string field = "spec.template.metadata.annotations.";
    EXPECT_EQ(scalar(annotations, {"prometheus.io/scrape"}), "true") << w.where << ": " << field
                                                                     << "prometheus.io/scrape";
    EXPECT_EQ(scalar(annotations, {"prometheus.io/port"}), std::to_string(w.config->admin.port))
        << w.where << ": " << field << "prometheus.io/port (admin.listen's port)";
    EXPECT_EQ(scalar(annotations, {"prometheus.io/path"}), "/metrics") << w.where << ": " << field
                                                                       << "prometheus.io/path";
  }
}

// The helpers the checks stand on.

TEST(ManifestHelpersTest, QuantitiesInBaseUnits) {
  EXPECT_DOUBLE_EQ(*parseQuantity("100m"), 0.1);
  EXPECT_DOUBLE_EQ(*parseQuantity("1"), 1);
  EXPECT_DOUBLE_EQ(*parseQuantity("0.5"), 0.5);
  EXPECT_DOUBLE_EQ(*parseQuantity("64Mi"), 64.0 * 1024 * 1024);
  EXPECT_DOUBLE_EQ(*parseQuantity("1G"), 1e9);
  EXPECT_FALSE(parseQuantity("").has_value());
  EXPECT_FALSE(parseQuantity("Mi").has_value());
  EXPECT_FALSE(parseQuantity("64MB").has_value());
  EXPECT_FALSE(parseQuantity("1.2.3").has_value());
}

TEST(ManifestHelpersTest, TheConfigIsReadWithItsDefaults) {
  KinshipConfig c = readKinshipConfig("pipelines:\n  app:\n    inputs:\n      - {type: file, paths: [\"/a/b/*.log\"]}\n"
                                      "      - {type: udp, listen: \"127.0.0.1:1\"}\n    sink: {type: discard}\n",
                                      "inline");
  EXPECT_EQ(c.shutdownTimeout, 5s);
  EXPECT_EQ(c.dataDir, "/var/lib/kinship");
  EXPECT_EQ(c.admin.host, "127.0.0.1");
  EXPECT_EQ(c.admin.port, 9464);
  EXPECT_EQ(c.filePaths, std::vector<std::string>{"/a/b/*.log"});
  EXPECT_EQ(fixedPrefix("/var/log/pods/*/*/*.log"), "/var/log/pods");
  EXPECT_EQ(fixedPrefix("/var/log/app/app-?.log"), "/var/log/app");
  EXPECT_THROW(readKinshipConfig("shutdown_timeout: 20parsecs\npipelines: {}\n", "inline"), config::ConfigError);
}

}  // namespace
}  // namespace kinship
