#pragma once

#include <chrono>
#include <optional>
#include <string>

namespace gomodprobe::agent {

/// The service manager's notification channel (systemd's sd_notify(3) protocol), as an interface so
/// that the daemon's lifecycle messages can be checked against a fake. Implementations must be
/// callable from any thread.
class Notifier {
 public:
  virtual ~Notifier() = default;

  /// Sends `state`: newline-separated VARIABLE=VALUE assignments ("READY=1\nSTATUS=…"). Returns
  /// true when the manager got it; false when no manager listens (no $NOTIFY_SOCKET) or sending
  /// failed. Never throws.
  virtual bool notify(const std::string& state) = 0;

  /// The watchdog timeout the manager enforces ($WATCHDOG_USEC, as sd_watchdog_enabled(3) reads
  /// it: only when $WATCHDOG_PID is unset or this process); nullopt when there is no watchdog.
  [[nodiscard]] virtual std::optional<std::chrono::microseconds> watchdogTimeout() const = 0;
};

}  // namespace gomodprobe::agent
