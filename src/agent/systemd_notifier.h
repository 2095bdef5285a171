#pragma once

#include "agent/notifier.h"

namespace gomodprobe::agent {

/// Notifier over libsystemd: sd_notify(3) to $NOTIFY_SOCKET and sd_watchdog_enabled(3). Without
/// a service manager (no $NOTIFY_SOCKET) every notify() is a no-op returning false. The
/// environment is left in place (a reload notifies again).
class SystemdNotifier final : public Notifier {
 public:
  bool notify(const std::string& state) override;
  [[nodiscard]] std::optional<std::chrono::microseconds> watchdogTimeout() const override;
};

}  // namespace gomodprobe::agent
