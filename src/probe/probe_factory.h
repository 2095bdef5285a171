#pragma once

#include <functional>
#include <memory>

#include "gomodprobe/config.h"
#include "gomodprobe/probe.h"
#include "net/event_loop.h"
#include "sumdb/state_store.h"

namespace gomodprobe::probe {

/// Makes the probe of a target's kind. Injected into the agent so tests can substitute fakes.
using ProbeFactory =
    std::function<std::unique_ptr<Probe>(const TargetConfig& target, net::EventLoop& loop)>;

/// What probes share across runs.
struct ProbeEnv {
  /// Largest verified sumdb tree per target (in memory unless given a directory).
  std::shared_ptr<sumdb::StateStore> sumdb_state = std::make_shared<sumdb::StateStore>();
};

/// http → HttpProbe, goproxy → GoProxyProbe, sumdb → SumdbProbe, chain → ChainProbe,
/// vcs → VcsProbe.
[[nodiscard]] ProbeFactory defaultProbeFactory(const ProbeEnv& env = {});

}  // namespace gomodprobe::probe
