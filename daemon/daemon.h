#pragma once
// Daemon: runs the pipelines a configuration describes (see PipelineRuntime)
// on one I/O thread plus each pipeline's own threads, and
//   - tells systemd when it is ready, what it is doing (STATUS=), and that
//     it is alive (WATCHDOG=1, only while the event loop and every pipeline
//     thread turn; the same check backs /healthz);
//   - on SIGHUP re-reads the configuration: a broken one is refused, logged
//     and counted while the running one carries on; otherwise unchanged
//     pipelines run on untouched, removed ones drain and stop, added ones
//     start, changed ones drain and start again (spool and checkpoints carry
//     over), and the admin listener moves if its address changed;
//   - on SIGTERM or SIGINT stops the inputs, lets the sinks deliver what is
//     buffered until shutdown_timeout, and exits 0.
// SIGUSR1 and SIGUSR2 are logged and ignored. Constructed and run from the
// main thread.

#include <asio.hpp>

#include <chrono>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "common/heartbeat.h"
#include "config/config.h"
#include "daemon/liveness.h"
#include "daemon/pipeline_runtime.h"
#include "daemon/plugin_registry.h"
#include "daemon/service_notifier.h"

namespace prometheus {
class Registry;
class Counter;
class Gauge;
}  // namespace prometheus

namespace kinship::daemon {

class AdminServer;
struct Readiness;

class Daemon {
 public:
  // Builds every component; throws config::ConfigError for invalid options
  // that only the components can judge (a bad partition_key template...).
  // `plugins` and `env` must outlive the daemon (reloads use them).
  Daemon(const config::DaemonConfig& config, const PluginRegistry& plugins, const config::EnvLookup& env);
  ~Daemon();

  // One line describing what was built, for --check-config.
  std::string summary() const;

  // Serves until SIGTERM or SIGINT, then shuts down. Returns the exit code.
  // Installs the signal handlers: before run(), the signals' default actions
  // apply.
  int run();

 private:
  using Runtimes = std::vector<std::unique_ptr<PipelineRuntime>>;
  // A reload whose removed and changed pipelines are still draining (on
  // their own thread, so the others keep flowing); its new pipelines start
  // once that is done, since they may reuse the same spool and checkpoints.
  struct PendingReload {
    Runtimes draining;
    Runtimes starting;
    std::vector<std::string> order;  // pipeline names as the new config lists them
    std::thread drainer;
  };
  struct ReloadMetrics {
    prometheus::Counter* success;
    prometheus::Counter* invalid;
    prometheus::Counter* failed;
    prometheus::Gauge* lastSuccessful;
  };

  // Builds the runtimes of `config`'s pipelines named in `names` (all when
  // null). `spoolDirs` (directory -> pipeline) holds the spool directories
  // of pipelines that keep running, which the new ones must not share.
  // Throws config::ConfigError.
  Runtimes build(const config::DaemonConfig& config, const std::vector<std::string>* names,
                 std::map<std::string, std::string> spoolDirs);
  void applySettings(const config::DaemonConfig& config);
  std::unique_ptr<AdminServer> makeAdminServer();

  void waitForSignal();
  void shutdown();
  void reload();
  void finishReload();
  void joinReload();
  void refuseReload(prometheus::Counter& counter, const std::string& why);

  void armTick();
  void tick();
  std::optional<Stall> findStuckThread() const;
  Readiness readiness() const;
  std::string statusLine();

  const PluginRegistry& plugins_;
  const config::EnvLookup& env_;
  std::string configFile_;
  std::chrono::milliseconds shutdownTimeout_;
  std::chrono::milliseconds stallTimeout_;
  std::string adminListen_;
  asio::io_context io_;
  std::shared_ptr<prometheus::Registry> metrics_;
  ReloadMetrics reloadMetrics_;
  Runtimes pipelines_;
  std::unique_ptr<PendingReload> reload_;
  bool reloadQueued_ = false;
  std::unique_ptr<AdminServer> admin_;
  asio::signal_set signals_;
  ServiceNotifier notifier_;
  asio::steady_timer tickTimer_;
  Heartbeat loopHeartbeat_;
  bool stallReported_ = false;
  // STATUS= rate: records queued at the last status line, and when.
  uint64_t statusRecords_ = 0;
  std::chrono::steady_clock::time_point statusAt_;
  std::chrono::steady_clock::time_point nextStatus_;
  // Test hook (KINSHIP_TEST_STALL_ON_SIGUSR1_MS): SIGUSR1 blocks the event
  // loop this long, to show the watchdog pings stop.
  std::chrono::milliseconds testStallOnUsr1_{0};
  bool shuttingDown_ = false;
};

}  // namespace kinship::daemon
