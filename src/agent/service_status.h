#pragma once

#include <atomic>
#include <chrono>
#include <optional>
#include <string>
#include <string_view>

#include "agent/notifier.h"

namespace gomodprobe::agent {

/// The daemon's lifecycle as told to the service manager (systemd `Type=notify`, sd_notify(3)):
///   ready()     READY=1 + STATUS=…   once the config is loaded and the web listener is bound;
///   reloading() RELOADING=1 + STATUS  when a reload (SIGHUP or POST /-/reload) starts;
///   reloaded()  READY=1 + STATUS      when it ends, successful or not (a failed reload keeps the
///                                     running config, so the service is ready again either way);
///   stopping()  STOPPING=1 + STATUS   on SIGTERM/SIGINT, before the listener closes;
///   watchdogPing() WATCHDOG=1         from the agent's event loop, every watchdogPeriod(); no
///                                     more after stopping() (the manager no longer expects
///                                     them, and a manager that stopped reading would otherwise
///                                     block the loop in sendmsg while it is being stopped).
/// STATUS values are one line of at most kMaxStatusBytes (newlines would start a new assignment).
/// Thread-safe as far as the Notifier is.
class ServiceStatus {
 public:
  static constexpr std::size_t kMaxStatusBytes = 256;

  explicit ServiceStatus(Notifier& notifier) : notifier_(notifier) {}

  void ready(std::string_view status);
  void reloading();
  void reloaded(std::string_view status);
  void stopping();
  void watchdogPing();

  /// Half the manager's watchdog timeout (sd_watchdog_enabled(3) advice), at least 1 ms; nullopt
  /// when the manager runs no watchdog.
  [[nodiscard]] std::optional<std::chrono::milliseconds> watchdogPeriod() const;

  /// `text` as a STATUS value: control characters (newlines included) become spaces, cut at
  /// kMaxStatusBytes on a UTF-8 character boundary.
  [[nodiscard]] static std::string statusValue(std::string_view text);

 private:
  Notifier& notifier_;
  std::atomic<bool> stopping_{false};
};

}  // namespace gomodprobe::agent
