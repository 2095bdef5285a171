#pragma once

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>

#include "gomodprobe/clock.h"
#include "gomodprobe/config.h"
#include "metrics/probe_collector.h"
#include "net/event_loop.h"
#include "probe/probe_factory.h"
#include "scheduler/scheduler.h"

namespace gomodprobe::agent {

/// The daemon: one loop thread running the scheduler and every probe, feeding a ProbeCollector.
/// start(), applyConfig() and stop() may be called from any thread.
class Agent {
 public:
  Agent(const Clock& clock, metrics::ProbeCollector& collector,
        probe::ProbeFactory factory = probe::defaultProbeFactory());
  ~Agent();
  Agent(const Agent&) = delete;
  Agent& operator=(const Agent&) = delete;

  /// Starts the loop thread with `config`.
  void start(const Config& config);
  /// Replaces the running configuration (reload). Targets that keep their name keep their schedule
  /// phase and counters; runs in flight finish on the old settings.
  void applyConfig(const Config& config);
  /// Stops the loop (runs in flight are abandoned) and joins its thread.
  void stop();
  /// Calls `ping` on the loop thread as soon as the loop runs and then every `period`: each call
  /// proves the loop is turning (timers fire, no callback is stuck), which is what the systemd
  /// watchdog is to check. Any thread; replaces an earlier heartbeat.
  void setHeartbeat(std::chrono::milliseconds period, std::function<void()> ping);

 private:
  // ---- loop thread only ----
  void install(const Config& config);
  void tick();
  void rearm();
  void startRun(const scheduler::StartOrder& order);
  void beat();

  const Clock& clock_;
  metrics::ProbeCollector& collector_;
  probe::ProbeFactory factory_;
  net::EventLoop loop_;
  scheduler::Scheduler scheduler_;
  std::map<std::string, TargetConfig> targets_;             // loop thread only
  std::optional<net::EventLoop::TimerId> timer_;            // loop thread only
  std::function<void()> heartbeat_;                         // loop thread only
  std::chrono::milliseconds heartbeat_period_{0};           // loop thread only
  std::optional<net::EventLoop::TimerId> heartbeat_timer_;  // loop thread only
  std::thread thread_;
};

/// Runs every target of `config` once on the calling thread (at most max_concurrent_probes at a
/// time) and returns the results in config order. `on_result` sees each result as it finishes.
[[nodiscard]] std::vector<ProbeResult> runOnce(
    const Config& config, const Clock& clock,
    const probe::ProbeFactory& factory = probe::defaultProbeFactory(),
    const std::function<void(const ProbeResult&)>& on_result = {});

}  // namespace gomodprobe::agent
