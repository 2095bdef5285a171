#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string_view>
#include <thread>
#include <vector>

#include "gomodprobe/clock.h"
#include "gomodprobe/config.h"
#include "metrics/probe_collector.h"
#include "net/event_loop.h"
#include "probe/probe_factory.h"
#include "scheduler/scheduler.h"

namespace gomodprobe::agent {

/// A run started on demand (GET /probe): the target's configuration when it started, and its
/// result.
struct OnDemandRun {
  TargetConfig target;
  ProbeResult result;
};

/// Why Agent::runNow() returned no run.
enum class OnDemandError {
  None,
  UnknownTarget,  ///< no configured target has that name (nothing was started)
  Busy,           ///< Agent::kMaxOnDemandRuns on-demand runs already in flight
  NoAnswer,       ///< the loop did not take the run, or the run outlived its timeout + grace
};

struct OnDemandOutcome {
  std::optional<OnDemandRun> run;  ///< set when error is None
  OnDemandError error = OnDemandError::None;
};

/// The daemon: one loop thread running the scheduler and every probe, feeding a ProbeCollector.
/// start(), applyConfig() and stop() may be called from any thread.
class Agent {
 public:
  Agent(const Clock& clock, metrics::ProbeCollector& collector,
        probe::ProbeFactory factory = probe::defaultProbeFactory());
  ~Agent();
  Agent(const Agent&) = delete;
  Agent& operator=(const Agent&) = delete;

  /// Starts the loop thread with `config` (taken by value: pass an rvalue to hand it over
  /// without a copy; a 10,000-target config is ~10 MB).
  void start(Config config);
  /// Replaces the running configuration (reload). Targets that keep their name keep their schedule
  /// phase and counters; runs in flight finish on the old settings. Once the loop runs, returns
  /// after the loop has installed `config` (a reload answered 200 means the new targets are the
  /// ones scheduled and exported); never call it from the loop thread. By value, as start().
  void applyConfig(Config config);
  /// Stops the loop (runs in flight are abandoned) and joins its thread.
  void stop();
  /// Calls `ping` on the loop thread as soon as the loop runs and then every `period`: each call
  /// proves the loop is turning (timers fire, no callback is stuck), which is what the systemd
  /// watchdog is to check. Any thread; replaces an earlier heartbeat.
  void setHeartbeat(std::chrono::milliseconds period, std::function<void()> ping);

  /// Runs the configured target `name` once now, outside its schedule, and waits for the result
  /// (blackbox_exporter's /probe, restricted to configured targets). The probe is made and run on
  /// the loop thread like a scheduled run, with the target's own timeout; the result is not
  /// recorded in the collector and does not count against the scheduler's concurrency cap.
  /// Blocks the calling thread (never call it from the loop thread) for at most `loop_wait` until
  /// the loop takes the run, then at most the target's timeout + kOnDemandGrace.
  [[nodiscard]] OnDemandOutcome runNow(
      const std::string& name, std::chrono::milliseconds loop_wait = std::chrono::seconds(5));

  /// Cap on on-demand runs in flight at once (each holds one web worker thread).
  static constexpr int kMaxOnDemandRuns = 4;
  /// How long past its timeout an on-demand run is waited for.
  static constexpr std::chrono::milliseconds kOnDemandGrace{2000};

 private:
  // ---- loop thread only ----
  void install(Config& config);  // moves config.targets into targets_
  /// The configured target named `name`, or nullptr.
  [[nodiscard]] const TargetConfig* findTarget(std::string_view name) const;
  void tick();
  void rearm();
  void startRun(const scheduler::StartOrder& order);
  void beat();

  const Clock& clock_;
  metrics::ProbeCollector& collector_;
  probe::ProbeFactory factory_;
  net::EventLoop loop_;
  scheduler::Scheduler scheduler_;
  std::vector<TargetConfig> targets_;   // loop thread only; config order
  std::vector<std::uint32_t> by_name_;  // loop thread only; indices of targets_, sorted by name
  std::optional<net::EventLoop::TimerId> timer_;            // loop thread only
  std::function<void()> heartbeat_;                         // loop thread only
  std::chrono::milliseconds heartbeat_period_{0};           // loop thread only
  std::optional<net::EventLoop::TimerId> heartbeat_timer_;  // loop thread only
  std::thread thread_;
  std::atomic<int> on_demand_runs_{0};
};

/// Runs every target of `config` once on the calling thread (at most max_concurrent_probes at a
/// time) and returns the results in config order. `on_result` sees each result as it finishes.
[[nodiscard]] std::vector<ProbeResult> runOnce(
    const Config& config, const Clock& clock,
    const probe::ProbeFactory& factory = probe::defaultProbeFactory(),
    const std::function<void(const ProbeResult&)>& on_result = {});

}  // namespace gomodprobe::agent
