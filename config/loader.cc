#include <fmt/format.h>
#include <yaml-cpp/depthguard.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cstring>
#include <memory>
#include <optional>

#include "common/bounded_file.h"
#include "common/host_port.h"
#include "config/config.h"

namespace kinship::config {

namespace {

constexpr std::string_view kTypeKey = "type";
constexpr std::string_view kConsumedKeys[] = {kTypeKey};

Location markLocation(const YAML::Mark& mark, const std::string& file) {
  if (mark.is_null() || mark.line < 0) return Location{file, 0, 0};
  return Location{file, mark.line + 1, mark.column + 1};
}

// Null nodes carry the mark of the token after them (often the next line):
// point at `fallback` (the key that introduced them) instead.
Location locationOr(const YAML::Node& node, const std::string& file, const Location& fallback) {
  if (!node.IsDefined() || node.IsNull()) return fallback;
  Location where = nodeLocation(node, file);
  return where.line == 0 ? fallback : where;
}

bool isPipelineName(std::string_view name) {
  if (name.empty()) return false;
  for (char c : name) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '-';
    if (!ok) return false;
  }
  return true;
}

// A node's content with its style forgotten (flow or block, quoting,
// comments, key order), so that equal content gives equal text.
std::string canonicalForm(const YAML::Node& node) {
  switch (node.Type()) {
    case YAML::NodeType::Scalar:
      return std::to_string(node.Scalar().size()) + ":" + node.Scalar();
    case YAML::NodeType::Sequence: {
      std::string text = "[";
      for (const YAML::Node& item : node) text += canonicalForm(item) + ",";
      return text + "]";
    }
    case YAML::NodeType::Map: {
      std::vector<std::string> entries;
      for (const auto& entry : node) entries.push_back(canonicalForm(entry.first) + "=" + canonicalForm(entry.second));
      std::sort(entries.begin(), entries.end());
      std::string text = "{";
      for (const std::string& entry : entries) text += entry + ",";
      return text + "}";
    }
    default:
      return "~";
  }
}

class Loader {
 public:
  Loader(std::string file, const SchemaCatalog& catalog, const EnvLookup& env)
      : file_(std::move(file)), catalog_(catalog), env_(env) {}

  DaemonConfig load(const YAML::Node& root) {
    DaemonConfig config;
    config.file = file_;
    config.options = Section::validate(root, globalSchema(), file_, "", env_);
    config.pipelines = loadPipelines(config.options);
    config.admin = optionalSection(config.options, "admin", adminSchema());
    config.log = optionalSection(config.options, "log", logSchema());
    checkAdminListen(config.admin);
    checkInputClaims(config.pipelines);
    return config;
  }

 private:
  std::vector<PipelineConfig> loadPipelines(const Section& global) {
    const YAML::Node& node = global.getNode("pipelines");
    const std::string path = global.pathOf("pipelines");
    Location where = global.locationOf("pipelines");
    if (!node.IsMap()) {
      throw ConfigError(where, path,
                        fmt::format("expected a map of pipeline names to pipelines, got {}", describeNode(node)));
    }
    if (node.size() == 0) throw ConfigError(where, path, "expected at least one pipeline");

    std::vector<PipelineConfig> pipelines;
    std::map<std::string, int, std::less<>> seen;
    for (const auto& entry : node) {
      Location keyWhere = locationOr(entry.first, file_, where);
      std::string name = entry.first.IsScalar() ? entry.first.Scalar() : std::string();
      if (!isPipelineName(name)) {
        std::string shown = entry.first.IsScalar() ? fmt::format("'{}'", name) : describeNode(entry.first);
        throw ConfigError(keyWhere, path,
                          fmt::format("invalid pipeline name {}: use only letters, digits, '_' and '-'", shown));
      }
      if (auto [first, inserted] = seen.emplace(name, keyWhere.line); !inserted) {
        throw ConfigError(keyWhere, path + "." + name,
                          fmt::format("duplicate pipeline '{}' (first defined at line {})", name, first->second));
      }
      pipelines.push_back(loadPipeline(name, entry.second, keyWhere, path + "." + name));
    }
    return pipelines;
  }

  PipelineConfig loadPipeline(const std::string& name, const YAML::Node& node, const Location& keyWhere,
                              const std::string& path) {
    requireMap(node, locationOr(node, file_, keyWhere), path);
    PipelineConfig pipeline;
    pipeline.name = name;
    pipeline.options = Section::validate(node, pipelineSchema(), file_, path, env_);
    pipeline.fingerprint = canonicalForm(node);

    const YAML::Node& inputs = pipeline.options.getNode("inputs");
    const std::string inputsPath = pipeline.options.pathOf("inputs");
    Location inputsWhere = pipeline.options.locationOf("inputs");
    if (!inputs.IsSequence()) {
      throw ConfigError(inputsWhere, inputsPath, fmt::format("expected a list of inputs, got {}", describeNode(inputs)));
    }
    if (inputs.size() == 0) throw ConfigError(inputsWhere, inputsPath, "expected at least one input");
    size_t index = 0;
    for (const YAML::Node& input : inputs) {
      std::string inputPath = fmt::format("{}[{}]", inputsPath, index++);
      pipeline.inputs.push_back(loadPlugin(input, locationOr(input, file_, inputsWhere), inputPath, "input"));
    }

    pipeline.sink = loadPlugin(pipeline.options.getNode("sink"), pipeline.options.locationOf("sink"),
                               pipeline.options.pathOf("sink"), "sink");
    pipeline.spool = optionalSection(pipeline.options, "spool", spoolSchema());
    return pipeline;
  }

  // `kind` is "input" or "sink".
  PluginConfig loadPlugin(const YAML::Node& node, const Location& where, const std::string& path,
                          std::string_view kind) {
    requireMap(node, where, path);
    const std::string typePath = path + "." + std::string(kTypeKey);
    // Copy-constructed, never assigned: yaml-cpp's Node::operator= can
    // rewrite the node it refers to.
    std::optional<YAML::Node> typeNode;
    Location typeWhere = where;
    for (const auto& entry : node) {
      if (entry.first.IsScalar() && entry.first.Scalar() == kTypeKey) {
        typeNode.emplace(entry.second);
        typeWhere = locationOr(entry.second, file_, nodeLocation(entry.first, file_));
        break;
      }
    }
    if (!typeNode) throw ConfigError(where, typePath, fmt::format("missing required option '{}'", kTypeKey));
    if (!typeNode->IsScalar()) {
      throw ConfigError(typeWhere, typePath, fmt::format("expected a string, got {}", describeNode(*typeNode)));
    }
    auto type = substituteEnv(typeNode->Scalar(), env_);
    if (!type) throw ConfigError(typeWhere, typePath, type.error());
    if (type->find('\0') != std::string::npos) {
      throw ConfigError(typeWhere, typePath, "contains a NUL character (\\0), which no value may hold");
    }

    bool isInput = kind == "input";
    const Schema* schema = isInput ? catalog_.inputSchema(*type) : catalog_.sinkSchema(*type);
    if (schema == nullptr) {
      std::vector<std::string> known = isInput ? catalog_.inputTypes() : catalog_.sinkTypes();
      std::vector<std::string_view> names(known.begin(), known.end());
      auto guess = closestMatch(*type, names);
      throw ConfigError(typeWhere, typePath,
                        fmt::format("unknown {} type '{}': known types are {}{}", kind, *type,
                                    known.empty() ? std::string("(none)") : fmt::format("{}", joined(known)),
                                    guess ? fmt::format(" (did you mean '{}'?)", *guess) : std::string()));
    }
    return PluginConfig{std::move(*type), Section::validate(node, *schema, file_, path, env_, kConsumedKeys)};
  }

  // The admin endpoint binds only at run; a typo must not wait until then.
  static void checkAdminListen(const Section& admin) {
    std::string listen = admin.getString("listen");
    if (listen.empty()) return;  // disabled
    if (auto parsed = parseHostPort(listen); !parsed) admin.fail("listen", parsed.error().message());
  }

  // Two inputs holding one port (or socket) would pass every per-input check
  // and fail only at start: refuse the second here, in any pipeline.
  void checkInputClaims(const std::vector<PipelineConfig>& pipelines) const {
    struct Held {
      InputClaim claim;
      std::string path;
      int line;
    };
    std::vector<Held> held;
    for (const PipelineConfig& pipeline : pipelines) {
      for (const PluginConfig& input : pipeline.inputs) {
        for (InputClaim& claim : catalog_.inputClaims(input.type, input.options)) {
          for (const Held& other : held) {
            bool sameAddress =
                other.claim.address == claim.address || other.claim.address.empty() || claim.address.empty();
            if (other.claim.resource != claim.resource || !sameAddress) continue;
            std::string what = claim.address.empty() ? fmt::format("{} on every address", claim.resource)
                                                     : fmt::format("{} on {}", claim.resource, claim.address);
            input.options.fail(claim.option, fmt::format("{} is already taken by {} (line {}): two inputs cannot "
                                                         "hold it at once",
                                                         what, other.path, other.line));
          }
          held.push_back(Held{claim, input.options.pathOf(claim.option), input.options.locationOf(claim.option).line});
        }
      }
    }
  }

  // An absent or empty (`admin:`) block means "all defaults".
  Section optionalSection(const Section& global, std::string_view name, Schema schema) {
    std::string path = global.pathOf(name);
    if (!global.isSet(name) || global.getNode(name).IsNull()) {
      return Section::validate(YAML::Node(YAML::NodeType::Map), schema, file_, path, env_);
    }
    const YAML::Node& node = global.getNode(name);
    requireMap(node, global.locationOf(name), path);
    return Section::validate(node, schema, file_, path, env_);
  }

  void requireMap(const YAML::Node& node, const Location& where, const std::string& path) const {
    if (!node.IsMap()) throw ConfigError(where, path, fmt::format("expected a map, got {}", describeNode(node)));
  }

  static std::string joined(const std::vector<std::string>& items) {
    std::string out;
    for (const std::string& item : items) {
      if (!out.empty()) out += ", ";
      out += item;
    }
    return out;
  }

  std::string file_;
  const SchemaCatalog& catalog_;
  const EnvLookup& env_;
};

}  // namespace

DaemonConfig loadConfigString(std::string_view yaml, const std::string& file, const SchemaCatalog& catalog,
                              const EnvLookup& env) {
  // yaml-cpp throws from parsing and, on misuse, from node access; none of
  // that may escape config/ other than as a ConfigError.
  try {
    std::vector<YAML::Node> documents = YAML::LoadAll(std::string(yaml));
    while (!documents.empty() && documents.back().IsNull()) documents.pop_back();
    if (documents.empty()) throw ConfigError(Location{file, 0, 0}, "", "the file is empty");
    if (documents.size() > 1) {
      throw ConfigError(nodeLocation(documents[1], file), "",
                        "the file holds more than one YAML document ('---'): put everything in one");
    }
    return Loader(file, catalog, env).load(documents.front());
  } catch (const YAML::DeepRecursion& e) {
    // yaml-cpp's own message here is "bad file". Its limit (2000) counts
    // parser steps, several per level, so no level count is given.
    throw ConfigError(markLocation(e.mark, file), "", "invalid YAML: lists and maps nest too deeply");
  } catch (const YAML::ParserException& e) {
    throw ConfigError(markLocation(e.mark, file), "", fmt::format("invalid YAML: {}", e.msg));
  } catch (const YAML::Exception& e) {
    throw ConfigError(markLocation(e.mark, file), "", e.msg);
  }
}

DaemonConfig loadConfigFile(const std::string& path, const SchemaCatalog& catalog, const EnvLookup& env) {
  // Not a stat() check for a regular file: a pipe (`--config <(...)`) is a
  // fine source, and /dev/zero stops at the bound too.
  auto text = readFileAtMost(path, kMaxConfigFileSize);
  if (!text) {
    if (text.error().code() == Status::Code::kInvalidArgument) {
      throw ConfigError(Location{path, 0, 0}, "",
                        fmt::format("larger than {} MiB: not a configuration file", kMaxConfigFileSize >> 20));
    }
    throw ConfigError(Location{path, 0, 0}, "", text.error().message());
  }
  return loadConfigString(*text, path, catalog, env);
}

}  // namespace kinship::config
