#pragma once

#include <optional>
#include <string>

#include "agent/notifier.h"
#include "config/config_loader.h"

namespace gomodprobe::agent {

/// The sd_notify(3) protocol spoken directly, without libsystemd: `state` is sent as one datagram
/// on an AF_UNIX SOCK_DGRAM socket to the address in $NOTIFY_SOCKET (a path, or "@name" for the
/// abstract namespace), as systemd's man page sd_notify(3), "Standalone Implementations", and its
/// notify-standalone.c do. systemd calls that protocol the stable interface and advises services
/// that need nothing else from libsystemd not to link it; here that spares ~1 MiB of resident
/// library pages per agent (libsystemd and libgcrypt, libgpg-error, liblzma, liblz4, libcap) and
/// keeps a compression stack out of a supply-chain prober.
///
/// Without a service manager (no $NOTIFY_SOCKET) every notify() is a no-op returning false; an
/// address of another kind ("vsock:…") is not supported and also returns false. The environment
/// is left in place (a reload notifies again). The sender's credentials (NotifyAccess=main) are
/// attached by the kernel for a receiver with SO_PASSCRED.
class SystemdNotifier final : public Notifier {
 public:
  /// `environment`: where $NOTIFY_SOCKET, $WATCHDOG_USEC and $WATCHDOG_PID are read (the process
  /// environment by default).
  explicit SystemdNotifier(config::EnvLookup environment = config::processEnv());

  bool notify(const std::string& state) override;
  /// $WATCHDOG_USEC as sd_watchdog_enabled(3) reads it: a positive decimal integer of
  /// microseconds, honoured only when $WATCHDOG_PID is unset or this process's id; nullopt
  /// otherwise (unset, zero, malformed, or another process's watchdog).
  [[nodiscard]] std::optional<std::chrono::microseconds> watchdogTimeout() const override;

 private:
  config::EnvLookup environment_;
};

}  // namespace gomodprobe::agent
