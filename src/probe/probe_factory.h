#pragma once

#include <functional>
#include <memory>

#include "gomodprobe/config.h"
#include "gomodprobe/probe.h"
#include "net/event_loop.h"

namespace gomodprobe::probe {

/// Makes the probe of a target's kind. Injected into the agent so tests can substitute fakes.
using ProbeFactory =
    std::function<std::unique_ptr<Probe>(const TargetConfig& target, net::EventLoop& loop)>;

/// goproxy, sumdb and http targets all get the HTTP probe in this version.
[[nodiscard]] ProbeFactory defaultProbeFactory();

}  // namespace gomodprobe::probe
