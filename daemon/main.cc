// kinship: ships log lines to Amazon Kinesis Data Streams.

#include <curl/curl.h>

#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <string>
#include <string_view>

#include "common/log.h"
#include "config/config.h"
#include "daemon/daemon.h"
#include "daemon/plugin_registry.h"

namespace {

constexpr std::string_view kUsage = R"(Usage: kinship [OPTION]...
Ship log lines from files to Amazon Kinesis Data Streams.

  -c, --config FILE        run with the YAML configuration FILE
                           (default: the KINSHIP_CONFIG environment variable)
      --check-config FILE  validate FILE, print a one-line summary, and exit
                           (0 when valid, 1 with the errors otherwise)
      --print-schema       print every configuration option as Markdown
      --version            print the version and exit
  -h, --help               print this help and exit

Signals: SIGTERM or SIGINT stop the inputs, flush buffered records for up to
shutdown_timeout, and exit 0. SIGHUP re-reads the configuration (a broken one
is refused and the running one carries on). SIGUSR1 and SIGUSR2 are logged
and ignored. Documentation: README.md and docs/ in the source.
)";

void printSchema(const kinship::daemon::PluginRegistry& plugins) {
  using namespace kinship::config;
  std::cout << "## Global options\n\n" << schemaToMarkdown(globalSchema()) << "\n";
  std::cout << "## `admin`\n\n" << schemaToMarkdown(adminSchema()) << "\n";
  std::cout << "## `log`\n\n" << schemaToMarkdown(logSchema()) << "\n";
  std::cout << "## `pipelines.<name>`\n\n" << schemaToMarkdown(pipelineSchema()) << "\n";
  std::cout << "## `pipelines.<name>.spool`\n\n" << schemaToMarkdown(spoolSchema()) << "\n";
  std::cout << "## `pipelines.<name>.filters[]`\n\n" << schemaToMarkdown(filterSchema()) << "\n";
  for (const auto& type : plugins.inputTypes()) {
    std::cout << "## Input `type: " << type << "`\n\n" << schemaToMarkdown(*plugins.inputSchema(type)) << "\n";
  }
  for (const auto& type : plugins.sinkTypes()) {
    std::cout << "## Sink `type: " << type << "`\n\n" << schemaToMarkdown(*plugins.sinkSchema(type)) << "\n";
  }
}

int usageError(std::string_view message) {
  std::cerr << "kinship: " << message << "\nTry 'kinship --help'.\n";
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  using namespace kinship;
  std::string configPath;
  bool checkOnly = false;
  for (int i = 1; i < argc; ++i) {
    std::string_view arg = argv[i];
    auto value = [&](std::string_view name) -> const char* {
      if (i + 1 >= argc) return nullptr;
      (void)name;
      return argv[++i];
    };
    if (arg == "-h" || arg == "--help") {
      std::cout << kUsage;
      return 0;
    } else if (arg == "--version") {
      std::cout << "kinship " << KINSHIP_VERSION << "\n";
      return 0;
    } else if (arg == "--print-schema") {
      daemon::PluginRegistry plugins;
      daemon::registerBuiltinPlugins(plugins);
      printSchema(plugins);
      return 0;
    } else if (arg == "-c" || arg == "--config" || arg == "--check-config") {
      const char* v = value(arg);
      if (v == nullptr) return usageError(std::string(arg) + " needs a FILE");
      configPath = v;
      checkOnly = checkOnly || arg == "--check-config";
    } else if (arg.starts_with("--config=")) {
      configPath = std::string(arg.substr(9));
    } else if (arg.starts_with("--check-config=")) {
      configPath = std::string(arg.substr(15));
      checkOnly = true;
    } else {
      return usageError("unknown argument '" + std::string(arg) + "'");
    }
  }
  if (configPath.empty()) {
    if (const char* env = std::getenv("KINSHIP_CONFIG"); env != nullptr && *env != '\0') configPath = env;
  }
  if (configPath.empty()) return usageError("no configuration: use --config FILE or set KINSHIP_CONFIG");

  curl_global_init(CURL_GLOBAL_DEFAULT);
  daemon::PluginRegistry plugins;
  daemon::registerBuiltinPlugins(plugins);
  auto env = config::processEnvironment();
  int code = 0;
  try {
    config::DaemonConfig cfg = config::loadConfigFile(configPath, plugins, env);
    log::Level level = log::Level::kInfo;
    log::Format format = log::Format::kText;
    log::parseLevel(cfg.log.getString("level"), level);
    log::parseFormat(cfg.log.getString("format"), format);
    log::configure(level, format);
    daemon::Daemon daemon(cfg, plugins, env);
    if (checkOnly) {
      std::cout << "config OK: " << daemon.summary() << "\n";
    } else {
      code = daemon.run();
    }
  } catch (const config::ConfigError& e) {
    std::cerr << "kinship: invalid configuration: " << e.what() << "\n";
    code = 1;
  }
  curl_global_cleanup();
  return code;
}
