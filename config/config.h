#pragma once
// The daemon's configuration model and its loader.
//
// The loader validates the whole file against the global, pipeline and
// plugin schemas (plugin schemas come from a SchemaCatalog, so config/ knows
// no plugin), checks what spans sections (the admin listen address, two
// inputs on one port), and throws ConfigError naming file, line, column and
// option for the first problem it finds. Startup only.

#include <string>
#include <string_view>
#include <vector>

#include "config/schema.h"

namespace kinship::config {

// Something an input holds alone while it runs, such as a UDP port. Two
// inputs that claim the same one cannot both start, so the loader refuses
// the second (in any pipeline) with the line of the first.
struct InputClaim {
  std::string resource;  // "UDP port 5514"
  // "127.0.0.1", a name, or a path; empty for a wildcard address (0.0.0.0,
  // ::), which takes the resource on every address.
  std::string address;
  std::string option;  // the option that makes the claim, where errors point ("listen")
};

// What the loader needs to know about plugins: which types exist, their
// option tables, and what each input holds alone. Implemented by the
// daemon's plugin registry.
class SchemaCatalog {
 public:
  virtual ~SchemaCatalog() = default;
  virtual const Schema* inputSchema(std::string_view type) const = 0;  // nullptr: no such type
  virtual const Schema* sinkSchema(std::string_view type) const = 0;
  virtual std::vector<std::string> inputTypes() const = 0;
  virtual std::vector<std::string> sinkTypes() const = 0;
  // `options` are already validated against inputSchema(type). May throw
  // ConfigError for a value the schema cannot check.
  virtual std::vector<InputClaim> inputClaims(std::string_view /*type*/, const Section& /*options*/) const {
    return {};
  }
};

// An input or sink block: its `type` and its options validated against that
// type's schema.
struct PluginConfig {
  std::string type;
  Section options;
};

struct PipelineConfig {
  std::string name;
  Section options;  // pipelineSchema(): partition_key, queue sizes, ...
  std::vector<PluginConfig> inputs;
  PluginConfig sink;
  Section spool;    // spoolSchema(), all defaults when absent
  // The pipeline's YAML block in a canonical form (no comments, layout,
  // quoting or key order): equal fingerprints mean an unchanged pipeline
  // across a reload.
  std::string fingerprint;
};

struct DaemonConfig {
  std::string file;   // where it was loaded from
  Section options;    // globalSchema(): data_dir, shutdown_timeout
  Section admin;      // adminSchema()
  Section log;        // logSchema()
  std::vector<PipelineConfig> pipelines;
};

Schema globalSchema();
Schema pipelineSchema();
Schema adminSchema();
Schema logSchema();
Schema spoolSchema();
// One entry of a pipeline's `filters` list.
Schema filterSchema();

// A configuration file is read up to this size; a larger one (or a device
// such as /dev/zero) is refused rather than read until memory runs out.
inline constexpr size_t kMaxConfigFileSize = 16 * 1024 * 1024;

// Throws ConfigError (including for an unreadable or oversized file).
DaemonConfig loadConfigFile(const std::string& path, const SchemaCatalog& catalog,
                            const EnvLookup& env = processEnvironment());
// `file` names the source in messages.
DaemonConfig loadConfigString(std::string_view yaml, const std::string& file, const SchemaCatalog& catalog,
                              const EnvLookup& env = processEnvironment());

}  // namespace kinship::config
