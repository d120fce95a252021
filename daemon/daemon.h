#pragma once
// Daemon: builds the pipelines a configuration describes (inputs → pipeline
// → queue → sink), runs them on one I/O thread plus one thread per sink, and
// shuts them down in order on SIGTERM or SIGINT: inputs stop, sinks deliver
// what is buffered until shutdown_timeout, then the process exits 0. SIGHUP,
// SIGUSR1 and SIGUSR2 are logged and otherwise ignored (no reload yet).
// Constructed and run from the main thread.

#include <asio.hpp>

#include <memory>
#include <string>
#include <vector>

#include "config/config.h"
#include "daemon/plugin_registry.h"
#include "pipeline/pipeline.h"
#include "spool/spool_stage.h"

namespace prometheus {
class Registry;
}

namespace kinship::daemon {

class AdminServer;

class Daemon {
 public:
  // Builds every component; throws config::ConfigError for invalid options
  // that only the components can judge (a bad partition_key template...).
  Daemon(const config::DaemonConfig& config, const PluginRegistry& plugins, const config::EnvLookup& env);
  ~Daemon();

  // One line describing what was built, for --check-config.
  std::string summary() const;

  // Serves until SIGTERM or SIGINT, then shuts down. Returns the exit code.
  // Installs the signal handlers: before run(), the signals' default actions
  // apply.
  int run();

 private:
  struct PipelineRuntime {
    std::string name;
    std::unique_ptr<pipeline::Pipeline> pipeline;
    // Between the pipeline's queue and the sink in spool.mode disk; null in
    // memory mode (the sink reads the pipeline's queue). Declared before the
    // sink, which reads its queue, so that it is destroyed after it.
    std::unique_ptr<spool::SpoolStage> spool;
    std::unique_ptr<sinks::Sink> sink;
    std::string sinkType;
    std::vector<std::unique_ptr<inputs::Input>> inputs;
  };

  // Handles the next signal, and re-arms for the ones that do not stop us.
  void waitForSignal();
  void shutdown();

  std::string configFile_;
  std::chrono::milliseconds shutdownTimeout_;
  std::string adminListen_;
  asio::io_context io_;
  std::shared_ptr<prometheus::Registry> metrics_;
  std::vector<PipelineRuntime> pipelines_;
  std::unique_ptr<AdminServer> admin_;
  asio::signal_set signals_;
  bool shuttingDown_ = false;
};

}  // namespace kinship::daemon
