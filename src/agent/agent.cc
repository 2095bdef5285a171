#include "agent/agent.h"

#include <algorithm>
#include <condition_variable>
#include <future>
#include <memory>

#include "agent/logging.h"

namespace gomodprobe::agent {

namespace {

std::vector<scheduler::ScheduledTarget> scheduleOf(const Config& config) {
  std::vector<scheduler::ScheduledTarget> out;
  out.reserve(config.targets.size());
  for (const auto& target : config.targets) out.push_back({target.name, target.interval});
  return out;
}

}  // namespace

Agent::Agent(const Clock& clock, metrics::ProbeCollector& collector, probe::ProbeFactory factory)
    : clock_(clock),
      collector_(collector),
      factory_(std::move(factory)),
      loop_(clock),
      scheduler_(clock, GlobalConfig{}.max_concurrent_probes) {}

Agent::~Agent() { stop(); }

void Agent::start(Config config) {
  applyConfig(std::move(config));
  thread_ = std::thread([this] { loop_.run(); });
}

void Agent::applyConfig(Config config) {
  // Shared, not copied, into the task: the loop moves its targets into targets_.
  auto shared = std::make_shared<Config>(std::move(config));
  if (!thread_.joinable()) {  // start(): the loop installs it first thing
    loop_.post([this, shared] { install(*shared); });
    return;
  }
  auto installed = std::make_shared<std::promise<void>>();
  std::future<void> done = installed->get_future();
  loop_.post([this, shared, installed] {
    install(*shared);
    installed->set_value();
  });
  done.wait();
}

void Agent::stop() {
  if (!thread_.joinable()) return;
  loop_.stop();
  thread_.join();
}

void Agent::setHeartbeat(std::chrono::milliseconds period, std::function<void()> ping) {
  loop_.post([this, period, ping = std::move(ping)]() mutable {
    if (heartbeat_timer_) loop_.cancelTimer(*heartbeat_timer_);
    heartbeat_timer_.reset();
    heartbeat_ = std::move(ping);
    heartbeat_period_ = period;
    beat();
  });
}

void Agent::beat() {
  if (!heartbeat_) return;
  heartbeat_();
  heartbeat_timer_ = loop_.addTimer(clock_.steadyNow() + heartbeat_period_, [this] {
    heartbeat_timer_.reset();
    beat();
  });
}

void Agent::install(Config& config) {
  // The old targets go first (runs in flight hold their own copies), before the scheduler and the
  // collector build their new tables: a reload of 10,000 targets never holds both sets.
  targets_ = {};
  by_name_ = {};
  scheduler_.setMaxConcurrent(config.global.max_concurrent_probes);
  scheduler_.setTargets(scheduleOf(config));
  collector_.setHistogramScope(config.global.histograms);
  collector_.setTargets(config.targets);
  collector_.setInFlight(scheduler_.inFlight());
  logging::get("agent")->info("config installed: {} targets from {}", config.targets.size(),
                              config.source);
  // Taken over whole: no per-target node or copy.
  targets_ = std::move(config.targets);
  config.targets = {};
  by_name_.resize(targets_.size());
  for (std::uint32_t i = 0; i < by_name_.size(); ++i) by_name_[i] = i;
  std::stable_sort(by_name_.begin(), by_name_.end(), [this](std::uint32_t a, std::uint32_t b) {
    return targets_[a].name < targets_[b].name;
  });
  rearm();
}

const TargetConfig* Agent::findTarget(std::string_view name) const {
  const auto it = std::lower_bound(
      by_name_.begin(), by_name_.end(), name,
      [this](std::uint32_t i, std::string_view key) { return targets_[i].name < key; });
  return it != by_name_.end() && targets_[*it].name == name ? &targets_[*it] : nullptr;
}

void Agent::rearm() {
  if (timer_) loop_.cancelTimer(*timer_);
  timer_.reset();
  if (auto when = scheduler_.nextWakeup()) {
    timer_ = loop_.addTimer(*when, [this] {
      timer_.reset();
      tick();
    });
  }
}

void Agent::tick() {
  for (const auto& order : scheduler_.takeDue()) startRun(order);
  collector_.setInFlight(scheduler_.inFlight());
  collector_.setSkippedRuns(scheduler_.skippedRuns());
  rearm();
}

void Agent::startRun(const scheduler::StartOrder& order) {
  const TargetConfig* target = findTarget(order.target);
  if (target == nullptr) {
    scheduler_.finished(order.target, order.run);
    return;
  }
  collector_.observeSchedulerLag(order.lag_seconds);
  auto probe = factory_(*target, loop_);
  probe->run([this, name = order.target, run = order.run](ProbeResult result) {
    // A run of a target removed by a reload (maybe added again since, with other settings) is
    // not recorded: its result would land in its namesake's series.
    if (!scheduler_.finished(name, run)) return;
    if (!result.success) {
      logging::get("probe")->debug("target={} reason={} detail=\"{}\"", result.target,
                                   toLabel(result.reason), result.detail);
    }
    collector_.record(std::move(result));
    collector_.setInFlight(scheduler_.inFlight());
    // A slot may have freed up for a waiting target: look again (on the loop, not re-entrantly).
    loop_.post([this] { tick(); });
  });
}

OnDemandOutcome Agent::runNow(const std::string& name, std::chrono::milliseconds loop_wait) {
  if (on_demand_runs_.fetch_add(1) >= kMaxOnDemandRuns) {
    on_demand_runs_.fetch_sub(1);
    return {std::nullopt, OnDemandError::Busy};
  }
  class Release {
   public:
    explicit Release(std::atomic<int>& count) : count_(count) {}
    Release(const Release&) = delete;
    Release& operator=(const Release&) = delete;
    ~Release() { count_.fetch_sub(1); }

   private:
    std::atomic<int>& count_;
  } release(on_demand_runs_);

  // Shared with the loop: the waiter may give up and leave before the run finishes.
  struct State {
    std::mutex mutex;
    std::condition_variable changed;
    bool taken = false;                  // guarded by mutex
    std::optional<TargetConfig> target;  // guarded by mutex; nullopt: unknown name
    std::optional<ProbeResult> result;   // guarded by mutex
  };
  auto state = std::make_shared<State>();
  loop_.post([this, name, state] {
    const TargetConfig* target = findTarget(name);
    {
      std::lock_guard lock(state->mutex);
      state->taken = true;
      if (target != nullptr) state->target = *target;
    }
    state->changed.notify_all();
    if (target == nullptr) return;
    logging::get("agent")->debug("on-demand run of target={}", name);
    auto probe = factory_(*target, loop_);
    probe->run([state](ProbeResult result) {
      {
        std::lock_guard lock(state->mutex);
        state->result = std::move(result);
      }
      state->changed.notify_all();
    });
  });

  std::unique_lock lock(state->mutex);
  if (!state->changed.wait_for(lock, loop_wait, [&] { return state->taken; })) {
    return {std::nullopt, OnDemandError::NoAnswer};
  }
  if (!state->target) return {std::nullopt, OnDemandError::UnknownTarget};
  if (!state->changed.wait_for(lock, state->target->timeout + kOnDemandGrace,
                               [&] { return state->result.has_value(); })) {
    return {std::nullopt, OnDemandError::NoAnswer};
  }
  return {OnDemandRun{*state->target, std::move(*state->result)}, OnDemandError::None};
}

std::vector<ProbeResult> runOnce(const Config& config, const Clock& clock,
                                 const probe::ProbeFactory& factory,
                                 const std::function<void(const ProbeResult&)>& on_result) {
  net::EventLoop loop(clock);
  std::vector<std::optional<ProbeResult>> results(config.targets.size());
  std::size_t next = 0;
  std::size_t running = 0;
  std::size_t finished = 0;
  const auto cap = static_cast<std::size_t>(std::max(1, config.global.max_concurrent_probes));

  std::function<void()> fill = [&] {
    while (running < cap && next < config.targets.size()) {
      const std::size_t index = next++;
      ++running;
      auto probe = factory(config.targets[index], loop);
      probe->run([&, index](ProbeResult result) {
        if (on_result) on_result(result);
        results[index] = std::move(result);
        --running;
        if (++finished == config.targets.size()) {
          loop.stop();
        } else {
          loop.post(fill);
        }
      });
    }
  };
  if (config.targets.empty()) return {};
  loop.post(fill);
  loop.run();

  std::vector<ProbeResult> out;
  out.reserve(results.size());
  for (auto& result : results) out.push_back(std::move(*result));
  return out;
}

}  // namespace gomodprobe::agent
