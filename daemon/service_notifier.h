#pragma once
// ServiceNotifier: tells the service manager (systemd, Type=notify) about
// the daemon's state through sd_notify(3): READY=1 once serving,
// RELOADING=1 while a SIGHUP reload is applied, STOPPING=1 on shutdown,
// STATUS= one-line summaries, and WATCHDOG=1 pings when the unit sets
// WatchdogSec=. Without $NOTIFY_SOCKET (not run by systemd) every call does
// nothing. Built without libsystemd, it never does anything.
//
// Threading: called from the I/O thread only.

#include <chrono>
#include <string_view>

namespace kinship::daemon {

class ServiceNotifier {
 public:
  ServiceNotifier();

  void ready();
  void reloading();
  void stopping();
  void status(std::string_view line);
  void watchdog();

  // The watchdog period systemd asked for ($WATCHDOG_USEC, honouring
  // $WATCHDOG_PID); zero when there is no watchdog.
  std::chrono::microseconds watchdogPeriod() const { return watchdogPeriod_; }

 private:
  void notify(std::string_view state);

  std::chrono::microseconds watchdogPeriod_{0};
  bool reportedError_ = false;
};

}  // namespace kinship::daemon
