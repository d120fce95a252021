#pragma once
// PluginRegistry: the input and sink types the daemon knows, each with its
// option table (for validation and docs) and a factory. Filled once at
// startup by registerBuiltinPlugins(); a second registration of a name is a
// programming error. Read-only afterwards, so safe to share.

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "config/config.h"
#include "inputs/input.h"
#include "sinks/sink.h"

namespace kinship::daemon {

// Factories run at startup and throw config::ConfigError for invalid options.
using InputFactory =
    std::function<std::unique_ptr<inputs::Input>(const config::Section&, const inputs::InputContext&)>;
using SinkFactory = std::function<std::unique_ptr<sinks::Sink>(const config::Section&, const sinks::SinkContext&,
                                                               const config::EnvLookup&)>;
// What an input of the type holds alone (its port, its socket path), so the
// loader can refuse two inputs on one; may throw config::ConfigError.
using InputClaims = std::function<std::vector<config::InputClaim>(const config::Section&)>;

class PluginRegistry final : public config::SchemaCatalog {
 public:
  void registerInput(std::string type, config::Schema schema, InputFactory factory, InputClaims claims = {});
  void registerSink(std::string type, config::Schema schema, SinkFactory factory);

  const config::Schema* inputSchema(std::string_view type) const override;
  const config::Schema* sinkSchema(std::string_view type) const override;
  std::vector<std::string> inputTypes() const override;
  std::vector<std::string> sinkTypes() const override;
  std::vector<config::InputClaim> inputClaims(std::string_view type, const config::Section& options) const override;

  const InputFactory& inputFactory(std::string_view type) const;
  const SinkFactory& sinkFactory(std::string_view type) const;

 private:
  template <typename Factory>
  struct Entry {
    config::Schema schema;
    Factory factory;
  };
  std::map<std::string, Entry<InputFactory>, std::less<>> inputs_;
  std::map<std::string, Entry<SinkFactory>, std::less<>> sinks_;
  std::map<std::string, InputClaims, std::less<>> inputClaims_;  // only types that hold something
};

void registerBuiltinPlugins(PluginRegistry& registry);

}  // namespace kinship::daemon
