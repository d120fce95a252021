#include "daemon/plugin_registry.h"

#include <stdexcept>

namespace kinship::daemon {

void PluginRegistry::registerInput(std::string type, config::Schema schema, InputFactory factory,
                                   InputClaims claims) {
  if (inputs_.contains(type)) throw std::logic_error("input type registered twice: " + type);
  if (claims) inputClaims_.emplace(type, std::move(claims));
  inputs_.emplace(std::move(type), Entry<InputFactory>{schema, std::move(factory)});
}

void PluginRegistry::registerSink(std::string type, config::Schema schema, SinkFactory factory) {
  if (sinks_.contains(type)) throw std::logic_error("sink type registered twice: " + type);
  sinks_.emplace(std::move(type), Entry<SinkFactory>{schema, std::move(factory)});
}

const config::Schema* PluginRegistry::inputSchema(std::string_view type) const {
  auto it = inputs_.find(type);
  return it == inputs_.end() ? nullptr : &it->second.schema;
}

const config::Schema* PluginRegistry::sinkSchema(std::string_view type) const {
  auto it = sinks_.find(type);
  return it == sinks_.end() ? nullptr : &it->second.schema;
}

std::vector<std::string> PluginRegistry::inputTypes() const {
  std::vector<std::string> types;
  for (const auto& [name, entry] : inputs_) types.push_back(name);
  return types;
}

std::vector<std::string> PluginRegistry::sinkTypes() const {
  std::vector<std::string> types;
  for (const auto& [name, entry] : sinks_) types.push_back(name);
  return types;
}

std::vector<config::InputClaim> PluginRegistry::inputClaims(std::string_view type,
                                                           const config::Section& options) const {
  auto it = inputClaims_.find(type);
  return it == inputClaims_.end() ? std::vector<config::InputClaim>{} : it->second(options);
}

const InputFactory& PluginRegistry::inputFactory(std::string_view type) const {
  auto it = inputs_.find(type);
  if (it == inputs_.end()) throw std::logic_error("no input type " + std::string(type));
  return it->second.factory;
}

const SinkFactory& PluginRegistry::sinkFactory(std::string_view type) const {
  auto it = sinks_.find(type);
  if (it == sinks_.end()) throw std::logic_error("no sink type " + std::string(type));
  return it->second.factory;
}

}  // namespace kinship::daemon
