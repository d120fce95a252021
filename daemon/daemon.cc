#include "daemon/daemon.h"

#include <fmt/format.h>
#include <prometheus/counter.h>
#include <prometheus/gauge.h>
#include <prometheus/registry.h>

#include <algorithm>
#include <csignal>
#include <map>

#include "common/host_port.h"
#include "common/log.h"
#include "daemon/admin_server.h"
#include "daemon/reload_plan.h"

namespace kinship::daemon {

namespace {

constexpr std::string_view kComponent = "daemon";
// How often the event loop proves it turns, checks the pipeline threads and
// (with a watchdog) pings systemd; at least twice per watchdog period.
constexpr auto kTickInterval = std::chrono::seconds(1);
constexpr auto kStatusInterval = std::chrono::seconds(5);

void configureLog(const config::DaemonConfig& config) {
  log::Level level = log::Level::kInfo;
  log::Format format = log::Format::kText;
  log::parseLevel(config.log.getString("level"), level);
  log::parseFormat(config.log.getString("format"), format);
  log::configure(level, format);
}

std::string formatBytes(uint64_t bytes) {
  if (bytes < 1024 * 1024) return fmt::format("{:.1f} KiB", static_cast<double>(bytes) / 1024.0);
  if (bytes < 1024ULL * 1024 * 1024) return fmt::format("{:.1f} MiB", static_cast<double>(bytes) / (1024.0 * 1024));
  return fmt::format("{:.2f} GiB", static_cast<double>(bytes) / (1024.0 * 1024 * 1024));
}

// With the bound port: the configured one may be 0 (any free port). The
// address bound, so it parsed.
void logAdminAddress(const std::string& listen, uint16_t port) {
  auto configured = parseHostPort(listen);
  log::info(kComponent, "admin endpoint listening on http://{} (/metrics, /healthz, /readyz)",
            configured ? formatHostPort(configured->host, port) : listen);
}

}  // namespace

Daemon::Daemon(const config::DaemonConfig& config, const PluginRegistry& plugins, const config::EnvLookup& env)
    : plugins_(plugins),
      env_(env),
      configFile_(config.file),
      shutdownTimeout_(config.options.getDuration("shutdown_timeout")),
      stallTimeout_(config.options.getDuration("stall_timeout")),
      adminListen_(config.admin.getString("listen")),
      metrics_(std::make_shared<prometheus::Registry>()),
      signals_(io_),
      tickTimer_(io_) {
  auto& reloads = prometheus::BuildCounter()
                      .Name("kinship_config_reloads_total")
                      .Help("Configuration reloads (SIGHUP), by result: success; invalid (the new configuration was "
                            "refused, the running one carries on); failed (applied, but a pipeline or the admin "
                            "endpoint could not start: see the log)")
                      .Register(*metrics_);
  reloadMetrics_.success = &reloads.Add({{"result", "success"}});
  reloadMetrics_.invalid = &reloads.Add({{"result", "invalid"}});
  reloadMetrics_.failed = &reloads.Add({{"result", "failed"}});
  reloadMetrics_.lastSuccessful = &prometheus::BuildGauge()
                                       .Name("kinship_config_last_reload_successful")
                                       .Help("1 when the last reload (or the start) applied its configuration "
                                             "in full, 0 when it was refused or failed")
                                       .Register(*metrics_)
                                       .Add({});
  reloadMetrics_.lastSuccessful->Set(1);
  pipelines_ = build(config, nullptr, {});
  if (auto ms = env_("KINSHIP_TEST_STALL_ON_SIGUSR1_MS"); ms && !ms->empty()) {
    testStallOnUsr1_ = std::chrono::milliseconds(std::strtoll(ms->c_str(), nullptr, 10));
  }
}

Daemon::~Daemon() { joinReload(); }

Daemon::Runtimes Daemon::build(const config::DaemonConfig& config, const std::vector<std::string>* names,
                               std::map<std::string, std::string> spoolDirs) {
  RuntimeContext context{io_, *metrics_, plugins_, env_, config.options.getString("data_dir")};
  Runtimes built;
  for (const auto& pc : config.pipelines) {
    if (names && std::find(names->begin(), names->end(), pc.name) == names->end()) continue;
    auto runtime = std::make_unique<PipelineRuntime>(pc, context);
    // Two spools in one directory would read each other's segments.
    if (!runtime->spoolDir().empty()) {
      if (auto [it, inserted] = spoolDirs.emplace(runtime->spoolDir(), pc.name); !inserted) {
        pc.spool.fail("dir", "'" + runtime->spoolDir() + "' is already the spool of pipeline " + it->second);
      }
    }
    built.push_back(std::move(runtime));
  }
  return built;
}

void Daemon::applySettings(const config::DaemonConfig& config) {
  configureLog(config);
  shutdownTimeout_ = config.options.getDuration("shutdown_timeout");
  stallTimeout_ = config.options.getDuration("stall_timeout");
}

std::string Daemon::summary() const {
  std::string text = configFile_ + ": " + std::to_string(pipelines_.size()) +
                     (pipelines_.size() == 1 ? " pipeline" : " pipelines");
  for (size_t i = 0; i < pipelines_.size(); ++i) text += (i == 0 ? " (" : ", ") + pipelines_[i]->summary();
  if (!pipelines_.empty()) text += ")";
  return text;
}

std::unique_ptr<AdminServer> Daemon::makeAdminServer() {
  auto server = std::make_unique<AdminServer>(io_, metrics_, [this] { return readiness(); });
  server->setHealth([this]() -> Readiness {
    if (auto stall = findStuckThread()) return Readiness{false, stall->describe()};
    return Readiness{true, {}};
  });
  return server;
}

Readiness Daemon::readiness() const {
  for (const auto& p : pipelines_) {
    if (auto reason = p->notReadyReason(); !reason.empty()) return Readiness{false, reason};
  }
  return Readiness{true, {}};
}

int Daemon::run() {
  std::signal(SIGPIPE, SIG_IGN);
  signals_.add(SIGTERM);
  signals_.add(SIGINT);
  signals_.add(SIGHUP);
  // Their default action kills the process on the spot, without a log line
  // and without flushing: a stray signal must not lose what the sinks hold.
  signals_.add(SIGUSR1);
  signals_.add(SIGUSR2);
  waitForSignal();

  if (!adminListen_.empty()) {
    admin_ = makeAdminServer();
    if (Status s = admin_->listen(adminListen_); !s) {
      log::error(kComponent, "admin endpoint: {}", s.message());
      return 1;
    }
    logAdminAddress(adminListen_, admin_->port());
  }

  for (auto& p : pipelines_) {
    if (Status s = p->start(); !s) {
      log::error(kComponent, "pipeline {}: {}", p->name(), s.message());
      shutdown();
      break;
    }
  }
  if (shuttingDown_) {
    std::vector<PipelineRuntime*> all;
    for (auto& p : pipelines_) all.push_back(p.get());
    drainPipelines(all, std::chrono::steady_clock::now());
    return 1;
  }
  log::info(kComponent, "kinship {} running {}", KINSHIP_VERSION, summary());
  loopHeartbeat_.start();
  statusAt_ = std::chrono::steady_clock::now();
  nextStatus_ = statusAt_ + kStatusInterval;
  notifier_.status(statusLine());
  notifier_.ready();
  if (notifier_.watchdogPeriod().count() > 0) {
    notifier_.watchdog();
    log::info(kComponent, "systemd watchdog: pinging every {} ms while every thread turns",
              std::chrono::duration_cast<std::chrono::milliseconds>(
                  std::min<std::chrono::microseconds>(kTickInterval, notifier_.watchdogPeriod() / 2))
                  .count());
  }
  armTick();

  io_.run();

  loopHeartbeat_.retire();
  // A reload still draining finishes first: its pipelines' checkpoints must
  // be written, and those it was about to start never run.
  joinReload();
  if (reload_) {
    for (auto& p : reload_->draining) p->flushCheckpoints();
    reload_.reset();
  }
  const auto deadline = std::chrono::steady_clock::now() + shutdownTimeout_;
  std::vector<PipelineRuntime*> all;
  for (auto& p : pipelines_) all.push_back(p.get());
  drainPipelines(all, deadline);
  // Every acknowledgement is in: checkpoints now cover exactly what was
  // spooled (disk mode) or what Kinesis accepted (memory mode).
  for (auto& p : pipelines_) p->flushCheckpoints();
  log::info(kComponent, "stopped");
  return 0;
}

void Daemon::waitForSignal() {
  signals_.async_wait([this](const asio::error_code& ec, int signal) {
    if (ec) return;
    if (signal == SIGTERM || signal == SIGINT) {
      log::info(kComponent, "received {}: stopping inputs and flushing (up to {} ms)",
                signal == SIGTERM ? "SIGTERM" : "SIGINT", shutdownTimeout_.count());
      shutdown();
      return;
    }
    if (signal == SIGHUP) {
      reload();
    } else if (signal == SIGUSR1 && testStallOnUsr1_.count() > 0) {
      log::warn(kComponent, "received SIGUSR1: test hook: blocking the event loop for {} ms",
                testStallOnUsr1_.count());
      std::this_thread::sleep_for(testStallOnUsr1_);
    } else {
      log::warn(kComponent, "received {}: ignored, still running", signal == SIGUSR1 ? "SIGUSR1" : "SIGUSR2");
    }
    waitForSignal();
  });
}

void Daemon::shutdown() {
  if (shuttingDown_) return;
  shuttingDown_ = true;
  notifier_.stopping();
  for (auto& p : pipelines_) p->stopInputs();
  if (admin_) admin_->stop();
  asio::error_code ignored;
  signals_.cancel(ignored);
  tickTimer_.cancel();
  // Inputs have stopped: no more batches. The sinks drain in run().
  io_.stop();
}

// ---- reload -------------------------------------------------------------

void Daemon::refuseReload(prometheus::Counter& counter, const std::string& why) {
  log::error(kComponent, "reload of {} refused; still running the previous configuration: {}", configFile_, why);
  counter.Increment();
  reloadMetrics_.lastSuccessful->Set(0);
  notifier_.status("reload refused: " + why.substr(0, 200));
  notifier_.ready();
}

void Daemon::reload() {
  if (reload_) {
    log::info(kComponent, "received SIGHUP while a reload is still draining: reloading again once it is done");
    reloadQueued_ = true;
    return;
  }
  log::info(kComponent, "received SIGHUP: reloading {}", configFile_);
  notifier_.reloading();

  std::optional<config::DaemonConfig> config;
  ReloadPlan plan;
  Runtimes starting;
  try {
    config.emplace(config::loadConfigFile(configFile_, plugins_, env_));
    std::vector<PipelineIdentity> running;
    for (const auto& p : pipelines_) running.push_back({p->name(), p->fingerprint()});
    std::vector<PipelineIdentity> wanted;
    const std::string dataDir = config->options.getString("data_dir");
    for (const auto& pc : config->pipelines) wanted.push_back({pc.name, pipelineFingerprint(pc, dataDir)});
    plan = planReload(running, wanted);
    std::vector<std::string> toBuild = plan.added;
    toBuild.insert(toBuild.end(), plan.changed.begin(), plan.changed.end());
    std::map<std::string, std::string> keptSpoolDirs;
    for (const auto& p : pipelines_) {
      bool kept = std::find(plan.unchanged.begin(), plan.unchanged.end(), p->name()) != plan.unchanged.end();
      if (kept && !p->spoolDir().empty()) keptSpoolDirs.emplace(p->spoolDir(), p->name());
    }
    starting = build(*config, &toBuild, std::move(keptSpoolDirs));
  } catch (const config::ConfigError& e) {
    refuseReload(*reloadMetrics_.invalid, e.what());
    return;
  }

  // The admin endpoint moves first: a new address that cannot be bound
  // refuses the whole reload while nothing has changed yet.
  const std::string listen = config->admin.getString("listen");
  std::unique_ptr<AdminServer> newAdmin;
  if (listen != adminListen_ && !listen.empty()) {
    newAdmin = makeAdminServer();
    if (Status s = newAdmin->listen(listen); !s) {
      refuseReload(*reloadMetrics_.failed, "admin endpoint: " + s.message());
      return;
    }
  }

  applySettings(*config);
  if (listen != adminListen_) {
    if (admin_) admin_->stop();
    admin_ = std::move(newAdmin);
    if (admin_) {
      logAdminAddress(listen, admin_->port());
    } else {
      log::info(kComponent, "admin endpoint disabled");
    }
    adminListen_ = listen;
  }

  log::info(kComponent, "reload: {}", plan.describe());
  reload_ = std::make_unique<PendingReload>();
  reload_->starting = std::move(starting);
  for (const auto& pc : config->pipelines) reload_->order.push_back(pc.name);
  for (auto& p : pipelines_) {
    const auto& name = p->name();
    bool leaving = std::find(plan.removed.begin(), plan.removed.end(), name) != plan.removed.end() ||
                   std::find(plan.changed.begin(), plan.changed.end(), name) != plan.changed.end();
    if (!leaving) continue;
    p->stopInputs();
    reload_->draining.push_back(std::move(p));
  }
  std::erase(pipelines_, nullptr);
  if (reload_->draining.empty()) {
    finishReload();
    return;
  }
  std::vector<PipelineRuntime*> draining;
  for (auto& p : reload_->draining) draining.push_back(p.get());
  const auto deadline = std::chrono::steady_clock::now() + shutdownTimeout_;
  reload_->drainer = std::thread([this, draining = std::move(draining), deadline] {
    drainPipelines(draining, deadline);
    asio::post(io_, [this] { finishReload(); });
  });
}

void Daemon::joinReload() {
  if (reload_ && reload_->drainer.joinable()) reload_->drainer.join();
}

void Daemon::finishReload() {
  if (!reload_ || shuttingDown_) return;
  joinReload();
  // The acknowledgements of what drained are in: the replacements start
  // from exactly there.
  for (auto& p : reload_->draining) p->flushCheckpoints();
  reload_->draining.clear();
  bool failed = false;
  for (auto& p : reload_->starting) {
    if (Status s = p->start(); !s) {
      log::error(kComponent, "reload: pipeline {} is not running: {}", p->name(), s.message());
      failed = true;
      p->stopInputs();
      drainPipelines({p.get()}, std::chrono::steady_clock::now());
      p->flushCheckpoints();
      continue;
    }
    pipelines_.push_back(std::move(p));
  }
  const auto& order = reload_->order;
  auto rank = [&](const std::unique_ptr<PipelineRuntime>& p) {
    return std::find(order.begin(), order.end(), p->name()) - order.begin();
  };
  std::stable_sort(pipelines_.begin(), pipelines_.end(),
                   [&](const auto& a, const auto& b) { return rank(a) < rank(b); });
  reload_.reset();
  (failed ? reloadMetrics_.failed : reloadMetrics_.success)->Increment();
  reloadMetrics_.lastSuccessful->Set(failed ? 0 : 1);
  log::info(kComponent, "reload {}: running {}", failed ? "applied with errors" : "done", summary());
  notifier_.status(statusLine());
  notifier_.ready();
  if (reloadQueued_) {
    reloadQueued_ = false;
    reload();
  }
}

// ---- liveness and status ------------------------------------------------

void Daemon::armTick() {
  auto interval = std::chrono::duration_cast<std::chrono::steady_clock::duration>(kTickInterval);
  if (auto period = notifier_.watchdogPeriod(); period.count() > 0) {
    interval = std::min<std::chrono::steady_clock::duration>(interval, period / 2);
  }
  tickTimer_.expires_after(interval);
  tickTimer_.async_wait([this](const asio::error_code& ec) {
    if (ec || shuttingDown_) return;
    tick();
    armTick();
  });
}

void Daemon::tick() {
  loopHeartbeat_.beat();
  auto stall = findStuckThread();
  if (stall) {
    if (!stallReported_) {
      log::error(kComponent, "{}: /healthz fails{}", stall->describe(),
                 notifier_.watchdogPeriod().count() > 0 ? " and the systemd watchdog pings stop" : "");
      notifier_.status("stuck: " + stall->describe());
    }
    stallReported_ = true;
  } else {
    if (stallReported_) log::info(kComponent, "every thread turns again");
    stallReported_ = false;
    if (notifier_.watchdogPeriod().count() > 0) notifier_.watchdog();
  }
  auto now = std::chrono::steady_clock::now();
  if (now >= nextStatus_ && !stall) {
    notifier_.status(statusLine());
    nextStatus_ = now + kStatusInterval;
  }
}

std::optional<Stall> Daemon::findStuckThread() const {
  std::vector<WatchedThread> threads{{"the event loop", &loopHeartbeat_}};
  for (const auto& p : pipelines_) {
    auto own = p->watchedThreads();
    threads.insert(threads.end(), own.begin(), own.end());
  }
  return findStall(threads, std::chrono::steady_clock::now(), stallTimeout_);
}

std::string Daemon::statusLine() {
  auto now = std::chrono::steady_clock::now();
  uint64_t records = 0;
  uint64_t spooled = 0;
  for (const auto& p : pipelines_) {
    records += p->recordsQueued();
    spooled += p->spoolBytes();
  }
  double seconds = std::chrono::duration<double>(now - statusAt_).count();
  // Counters restart with a replaced pipeline: no negative rates.
  double rate = seconds > 0 && records >= statusRecords_ ? static_cast<double>(records - statusRecords_) / seconds : 0;
  statusRecords_ = records;
  statusAt_ = now;
  return fmt::format("{} {}, {:.0f} records/s, spool backlog {}", pipelines_.size(),
                     pipelines_.size() == 1 ? "pipeline" : "pipelines", rate, formatBytes(spooled));
}

}  // namespace kinship::daemon
