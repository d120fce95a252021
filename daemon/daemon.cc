#include "daemon/daemon.h"

#include <prometheus/registry.h>

#include <csignal>
#include <filesystem>
#include <map>

#include "common/clock.h"
#include "common/log.h"
#include "daemon/admin_server.h"

namespace kinship::daemon {

namespace {
constexpr std::string_view kComponent = "daemon";
}  // namespace

Daemon::Daemon(const config::DaemonConfig& config, const PluginRegistry& plugins, const config::EnvLookup& env)
    : configFile_(config.file),
      shutdownTimeout_(config.options.getDuration("shutdown_timeout")),
      adminListen_(config.admin.getString("listen")),
      metrics_(std::make_shared<prometheus::Registry>()),
      signals_(io_) {
  std::map<std::string, std::string> spoolDirs;  // directory -> pipeline
  for (const auto& pc : config.pipelines) {
    PipelineRuntime runtime;
    runtime.name = pc.name;
    std::optional<pipeline::KeyTemplate> key;
    if (pc.options.has("partition_key")) {
      auto compiled = pipeline::KeyTemplate::compile(pc.options.getString("partition_key"));
      if (!compiled) pc.options.fail("partition_key", compiled.error().message());
      key = std::move(*compiled);
    }
    std::optional<pipeline::KeyTemplate> explicitHashKey;
    if (pc.options.has("explicit_hash_key")) {
      auto compiled = pipeline::KeyTemplate::compile(pc.options.getString("explicit_hash_key"));
      if (!compiled) pc.options.fail("explicit_hash_key", compiled.error().message());
      // A template without fields gives every record the same value: refuse
      // it now rather than count every record as invalid.
      std::string literal;
      if (compiled->renderLiteral(literal) && pipeline::canonicalExplicitHashKey(literal).empty()) {
        pc.options.fail("explicit_hash_key", "'" + literal + "' is not a decimal number below 2^128");
      }
      explicitHashKey = std::move(*compiled);
    }
    runtime.pipeline = std::make_unique<pipeline::Pipeline>(pc.name, std::move(key), pc.options.getSize("queue_size"),
                                                            *metrics_, std::move(explicitHashKey));
    spool::SpoolConfig spoolConfig = spool::spoolConfigFrom(pc.spool, config.options.getString("data_dir"), pc.name);
    pipeline::BatchQueue* sinkQueue = &runtime.pipeline->queue();
    if (spoolConfig.disk) {
      // Two spools in one directory would read each other's segments.
      std::string dir = std::filesystem::weakly_canonical(spoolConfig.options.dir).string();
      while (dir.size() > 1 && dir.back() == '/') dir.pop_back();
      if (auto [it, inserted] = spoolDirs.emplace(dir, pc.name); !inserted) {
        pc.spool.fail("dir", "'" + spoolConfig.options.dir + "' is already the spool of pipeline " + it->second);
      }
      // Half of queue_size is read ahead from the spool for the sink: the
      // spool, not memory, holds the backlog.
      runtime.spool = std::make_unique<spool::SpoolStage>(std::move(spoolConfig), runtime.pipeline->queue(),
                                                          pc.options.getSize("queue_size") / 2, *metrics_, pc.name);
      sinkQueue = &runtime.spool->output();
    }
    runtime.sinkType = pc.sink.type;
    runtime.sink = plugins.sinkFactory(pc.sink.type)(
        pc.sink.options,
        sinks::SinkContext{*sinkQueue, *metrics_, pc.name, SystemClock::instance(), runtime.spool != nullptr}, env);
    for (size_t i = 0; i < pc.inputs.size(); ++i) {
      const auto& ic = pc.inputs[i];
      inputs::InputContext context{io_, *runtime.pipeline, *metrics_, ic.type + "_" + std::to_string(i),
                                   config.options.getString("data_dir")};
      runtime.inputs.push_back(plugins.inputFactory(ic.type)(ic.options, context));
    }
    pipelines_.push_back(std::move(runtime));
  }
}

Daemon::~Daemon() = default;

std::string Daemon::summary() const {
  std::string text = configFile_ + ": " + std::to_string(pipelines_.size()) +
                     (pipelines_.size() == 1 ? " pipeline" : " pipelines");
  for (size_t i = 0; i < pipelines_.size(); ++i) {
    const auto& p = pipelines_[i];
    text += (i == 0 ? " (" : ", ") + p.name + ": " + std::to_string(p.inputs.size()) +
            (p.inputs.size() == 1 ? " input" : " inputs") + " -> " + p.sinkType;
  }
  if (!pipelines_.empty()) text += ")";
  return text;
}

int Daemon::run() {
  std::signal(SIGPIPE, SIG_IGN);
  signals_.add(SIGTERM);
  signals_.add(SIGINT);
  // Their default action kills the process on the spot, without a log line
  // and without flushing: a stray `kill -HUP` (a habit for "reload") or a
  // logrotate script must not lose what the sinks hold.
  signals_.add(SIGHUP);
  signals_.add(SIGUSR1);
  signals_.add(SIGUSR2);
  waitForSignal();

  if (!adminListen_.empty()) {
    admin_ = std::make_unique<AdminServer>(io_, metrics_, [this] {
      for (const auto& p : pipelines_) {
        if (p.spool) {
          if (auto reason = p.spool->notReadyReason(); !reason.empty()) return Readiness{false, reason};
        }
        if (auto reason = p.sink->notReadyReason(); !reason.empty()) return Readiness{false, reason};
      }
      return Readiness{true, {}};
    });
    if (Status s = admin_->listen(adminListen_); !s) {
      log::error(kComponent, "admin endpoint: {}", s.message());
      return 1;
    }
    auto colon = adminListen_.rfind(':');
    log::info(kComponent, "admin endpoint listening on http://{}:{} (/metrics, /healthz, /readyz)",
              adminListen_.substr(0, colon), admin_->port());
  }

  for (auto& p : pipelines_) {
    if (Status s = p.sink->start(); !s) {
      log::error(kComponent, "pipeline {}: cannot start its sink: {}", p.name, s.message());
      return 1;
    }
  }
  for (auto& p : pipelines_) {
    if (!p.spool) continue;
    if (Status s = p.spool->start(); !s) {
      log::error(kComponent, "pipeline {}: cannot open its spool: {}", p.name, s.message());
      return 1;
    }
  }
  for (auto& p : pipelines_) {
    for (auto& input : p.inputs) {
      if (Status s = input->start(); !s) {
        log::error(kComponent, "pipeline {}: cannot start an input: {}", p.name, s.message());
        shutdown();
        return 1;
      }
    }
  }
  log::info(kComponent, "kinship {} running {}", KINSHIP_VERSION, summary());

  io_.run();

  const auto deadline = std::chrono::steady_clock::now() + shutdownTimeout_;
  // Spool first what the inputs read, then let each sink deliver what it can
  // before the deadline; the rest stays in the spool (disk mode).
  for (auto& p : pipelines_) {
    if (p.spool) p.spool->finishWriting(deadline);
  }
  for (auto& p : pipelines_) {
    if (p.spool) p.spool->finishReading(deadline);
  }
  for (auto& p : pipelines_) p.sink->stop(deadline);
  for (auto& p : pipelines_) {
    if (p.spool) p.spool->close();
  }
  // Every acknowledgement is in: checkpoints now cover exactly what was
  // spooled (disk mode) or what Kinesis accepted (memory mode).
  for (auto& p : pipelines_) {
    for (auto& input : p.inputs) input->flushCheckpoints();
  }
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
      log::warn(kComponent, "received SIGHUP: reloading the configuration is not supported yet; "
                "still running with the configuration read at start from {}", configFile_);
    } else {
      log::warn(kComponent, "received {}: ignored, still running", signal == SIGUSR1 ? "SIGUSR1" : "SIGUSR2");
    }
    waitForSignal();
  });
}

void Daemon::shutdown() {
  if (shuttingDown_) return;
  shuttingDown_ = true;
  for (auto& p : pipelines_) {
    for (auto& input : p.inputs) input->stop();
  }
  if (admin_) admin_->stop();
  asio::error_code ignored;
  signals_.cancel(ignored);
  // Inputs have stopped: no more batches. The sinks drain in run().
  io_.stop();
}

}  // namespace kinship::daemon
