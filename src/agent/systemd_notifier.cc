#include "agent/systemd_notifier.h"

#include <systemd/sd-daemon.h>

#include <cstdint>

namespace gomodprobe::agent {

bool SystemdNotifier::notify(const std::string& state) {
  return sd_notify(/*unset_environment=*/0, state.c_str()) > 0;
}

std::optional<std::chrono::microseconds> SystemdNotifier::watchdogTimeout() const {
  std::uint64_t usec = 0;
  if (sd_watchdog_enabled(/*unset_environment=*/0, &usec) <= 0 || usec == 0) return std::nullopt;
  return std::chrono::microseconds(static_cast<std::chrono::microseconds::rep>(usec));
}

}  // namespace gomodprobe::agent
