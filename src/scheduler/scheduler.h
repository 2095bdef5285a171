#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "gomodprobe/clock.h"

namespace gomodprobe::scheduler {

using SteadyTime = std::chrono::steady_clock::time_point;

struct ScheduledTarget {
  std::string name;
  std::chrono::milliseconds interval{30'000};
};

/// A run the caller must start now.
struct StartOrder {
  std::string target;
  SteadyTime planned;     ///< the slot this run belongs to
  double lag_seconds;     ///< actual start − planned start (the scheduler_lag histogram)
  std::uint64_t run = 0;  ///< unique per started run: pass it to finished()
};

/// When each target runs. Each target fires every `interval` at a fixed phase: slot k is
/// anchor + offsetFor(name) + k·interval, where anchor is the scheduler's creation time; the offset
/// is a hash of the name so targets with the same interval spread over it instead of firing
/// together. A slot that comes while the target's previous run is still going is skipped (never
/// two runs of one target at once); a due target waits while `max_concurrent` runs are in flight.
/// Not thread-safe: used from the loop thread only.
class Scheduler {
 public:
  Scheduler(const Clock& clock, int max_concurrent);

  /// Replaces the set of targets. A target that stays (same name and interval) keeps its phase and
  /// in-flight state; a new or changed one gets its next slot after now. Removed targets that are
  /// still running are forgotten: their finished() is ignored.
  void setTargets(const std::vector<ScheduledTarget>& targets);
  void setMaxConcurrent(int max_concurrent);

  /// The runs to start now, earliest planned first, already marked as running.
  [[nodiscard]] std::vector<StartOrder> takeDue();
  /// A run of `target` ended; it may run again at its next slot.
  void finished(const std::string& target);
  /// The run `run` (StartOrder::run) of `target` ended; returns whether it was the target's
  /// current run. A run of a target that a reload removed (and maybe added again since) is not:
  /// it neither ends the run of its namesake nor frees a concurrency slot twice.
  bool finished(const std::string& target, std::uint64_t run);

  /// When takeDue() next has something to return; nullopt when nothing can start before a run
  /// finishes (no targets, or every slot taken).
  [[nodiscard]] std::optional<SteadyTime> nextWakeup() const;
  [[nodiscard]] int inFlight() const { return in_flight_; }
  /// Slots skipped because the target's previous run was still in flight.
  [[nodiscard]] std::uint64_t skippedRuns() const { return skipped_; }

  /// Deterministic phase of a target within its interval: FNV-1a of the name, modulo interval.
  [[nodiscard]] static std::chrono::milliseconds offsetFor(std::string_view name,
                                                           std::chrono::milliseconds interval);

 private:
  struct Entry {
    std::chrono::milliseconds interval{};
    SteadyTime next;
    bool running = false;
    std::uint64_t run = 0;  ///< the run in flight, when running
  };
  /// The first slot of `name` strictly after `after` (or at it when `inclusive`).
  [[nodiscard]] SteadyTime slotAfter(std::string_view name, std::chrono::milliseconds interval,
                                     SteadyTime after, bool inclusive) const;

  const Clock& clock_;
  SteadyTime anchor_;
  int max_concurrent_;
  int in_flight_ = 0;
  std::uint64_t skipped_ = 0;
  std::uint64_t last_run_ = 0;
  std::map<std::string, Entry> entries_;
};

}  // namespace gomodprobe::scheduler
