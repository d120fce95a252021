// The one list of plugins compiled into kinship.

#include <filesystem>

#include "aws/default_credentials.h"
#include "aws/imds_client.h"
#include "daemon/plugin_registry.h"
#include "inputs/file/file_input.h"
#include "inputs/file/file_input_config.h"
#include "inputs/udp/udp_input.h"
#include "inputs/udp/udp_input_config.h"
#include "inputs/unix/unix_input.h"
#include "inputs/unix/unix_input_config.h"
#include "sinks/kinesis/kinesis_config.h"
#include "sinks/kinesis/kinesis_sink.h"
#include "sinks/discard/discard_sink.h"
#include "sinks/discard/discard_sink_config.h"

namespace kinship::daemon {

namespace {

void registerFileInput(PluginRegistry& registry) {
  registry.registerInput("file", inputs::fileInputSchema(),
                         [](const config::Section& section, const inputs::InputContext& context) {
                           return std::make_unique<inputs::FileInput>(context, inputs::fileInputConfigFrom(section));
                         });
}

void registerUdpInput(PluginRegistry& registry) {
  registry.registerInput(
      "udp", inputs::udpInputSchema(),
      [](const config::Section& section, const inputs::InputContext& context) {
        return std::make_unique<inputs::UdpInput>(context, inputs::udpInputConfigFrom(section));
      },
      inputs::udpInputClaims);
}

void registerUnixInput(PluginRegistry& registry) {
  registry.registerInput(
      "unix", inputs::unixInputSchema(),
      [](const config::Section& section, const inputs::InputContext& context) {
        return inputs::makeUnixInput(context, inputs::unixInputConfigFrom(section));
      },
      // The second input on one socket path would find the first listening
      // there and refuse to start.
      [](const config::Section& section) {
        std::string path = std::filesystem::path(inputs::unixInputConfigFrom(section).path).lexically_normal();
        return std::vector<config::InputClaim>{{"Unix socket", std::move(path), "path"}};
      });
}

void registerKinesisSink(PluginRegistry& registry) {
  registry.registerSink(
      "kinesis", kinesis::kinesisSinkSchema(),
      [](const config::Section& section, const sinks::SinkContext& context, const config::EnvLookup& env) {
        auto config = kinesis::kinesisConfigFrom(section, env);
        // Both run at the sink's start(), never while only checking a config.
        kinesis::KinesisSink::RegionLookup regionLookup;
        if (config.regionFromInstanceMetadata) regionLookup = [env] { return aws::ImdsClient(env).region(); };
        auto credentials = [env, metrics = &context.metrics, pipeline = context.pipelineName,
                            clock = &context.clock](const aws::CredentialsOptions& options) {
          return aws::makeCredentialsProvider(options, env, {*metrics, pipeline, *clock});
        };
        return std::make_unique<kinesis::KinesisSink>(context, std::move(config), std::move(credentials),
                                                      std::move(regionLookup));
      });
}

// `type: discard`: counts and discards records, for benchmarks and tests.
void registerDiscardSink(PluginRegistry& registry) {
  registry.registerSink("discard", sinks::discardSinkSchema(),
                        [](const config::Section& section, const sinks::SinkContext& context,
                           const config::EnvLookup&) {
                          return std::make_unique<sinks::DiscardSink>(context, sinks::discardSinkConfigFrom(section));
                        });
}

}  // namespace

void registerBuiltinPlugins(PluginRegistry& registry) {
  registerFileInput(registry);
  registerUdpInput(registry);
  registerUnixInput(registry);
  registerKinesisSink(registry);
  registerDiscardSink(registry);
}

}  // namespace kinship::daemon
