// The one list of plugins compiled into kinship.

#include "daemon/plugin_registry.h"
#include "inputs/file/file_input.h"
#include "inputs/file/file_input_config.h"
#include "sinks/kinesis/credentials.h"
#include "sinks/kinesis/kinesis_config.h"
#include "sinks/kinesis/kinesis_sink.h"

namespace kinship::daemon {

namespace {

void registerFileInput(PluginRegistry& registry) {
  registry.registerInput("file", inputs::fileInputSchema(),
                         [](const config::Section& section, const inputs::InputContext& context) {
                           return std::make_unique<inputs::FileInput>(context, inputs::fileInputConfigFrom(section));
                         });
}

void registerKinesisSink(PluginRegistry& registry) {
  registry.registerSink(
      "kinesis", kinesis::kinesisSinkSchema(),
      [](const config::Section& section, const sinks::SinkContext& context, const config::EnvLookup& env) {
        auto config = kinesis::kinesisConfigFrom(section, env);
        if (auto credentials = kinesis::credentialsFromEnvironment(env); !credentials) {
          throw config::ConfigError(section.location(), section.path(),
                                    "no AWS credentials: " + credentials.error().message());
        }
        return std::make_unique<kinesis::KinesisSink>(
            context, std::move(config), std::make_unique<kinesis::EnvironmentCredentialsProvider>(env));
      });
}

}  // namespace

void registerBuiltinPlugins(PluginRegistry& registry) {
  registerFileInput(registry);
  registerKinesisSink(registry);
}

}  // namespace kinship::daemon
