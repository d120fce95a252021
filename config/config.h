#pragma once
// The daemon's configuration model and its loader.
//
// The loader validates the whole file against the global, pipeline and
// plugin schemas (plugin schemas come from a SchemaCatalog, so config/ knows
// no plugin) and throws ConfigError naming file, line, column and option for
// the first problem it finds. Startup only.

#include <string>
#include <string_view>
#include <vector>

#include "config/schema.h"

namespace kinship::config {

// What the loader needs to know about plugins: which types exist and their
// option tables. Implemented by the daemon's plugin registry.
class SchemaCatalog {
 public:
  virtual ~SchemaCatalog() = default;
  virtual const Schema* inputSchema(std::string_view type) const = 0;  // nullptr: no such type
  virtual const Schema* sinkSchema(std::string_view type) const = 0;
  virtual std::vector<std::string> inputTypes() const = 0;
  virtual std::vector<std::string> sinkTypes() const = 0;
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

// Throws ConfigError (including for an unreadable file).
DaemonConfig loadConfigFile(const std::string& path, const SchemaCatalog& catalog,
                            const EnvLookup& env = processEnvironment());
// `file` names the source in messages.
DaemonConfig loadConfigString(std::string_view yaml, const std::string& file, const SchemaCatalog& catalog,
                              const EnvLookup& env = processEnvironment());

}  // namespace kinship::config
