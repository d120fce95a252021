#include "daemon/service_notifier.h"

#include <time.h>

#include <cstring>
#include <string>

#include "common/log.h"

#ifdef KINSHIP_HAVE_SYSTEMD
#include <systemd/sd-daemon.h>
#endif

namespace kinship::daemon {

namespace {
constexpr std::string_view kComponent = "daemon";
}  // namespace

ServiceNotifier::ServiceNotifier() {
#ifdef KINSHIP_HAVE_SYSTEMD
  uint64_t usec = 0;
  if (sd_watchdog_enabled(/*unset_environment=*/0, &usec) > 0) watchdogPeriod_ = std::chrono::microseconds(usec);
#endif
}

void ServiceNotifier::ready() { notify("READY=1"); }

void ServiceNotifier::reloading() {
  // MONOTONIC_USEC lets systemd (253+, Type=notify-reload) tell this reload
  // from an earlier one; older versions ignore it.
  timespec now{};
  clock_gettime(CLOCK_MONOTONIC, &now);
  uint64_t usec = static_cast<uint64_t>(now.tv_sec) * 1000000 + static_cast<uint64_t>(now.tv_nsec) / 1000;
  notify("RELOADING=1\nMONOTONIC_USEC=" + std::to_string(usec));
}

void ServiceNotifier::stopping() { notify("STOPPING=1"); }

void ServiceNotifier::status(std::string_view line) { notify("STATUS=" + std::string(line)); }

void ServiceNotifier::watchdog() { notify("WATCHDOG=1"); }

void ServiceNotifier::notify(std::string_view state) {
#ifdef KINSHIP_HAVE_SYSTEMD
  int rc = sd_notify(/*unset_environment=*/0, std::string(state).c_str());
  // A broken socket path is worth one line, not one per ping.
  if (rc < 0 && !reportedError_) {
    reportedError_ = true;
    log::warn(kComponent, "cannot notify the service manager through $NOTIFY_SOCKET: {}", std::strerror(-rc));
  }
#else
  (void)state;
  (void)reportedError_;
#endif
}

}  // namespace kinship::daemon
