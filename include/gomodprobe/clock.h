#pragma once

#include <chrono>

namespace gomodprobe {

/// Source of time, injected everywhere time matters (scheduler, probes, metrics) so that tests can
/// drive it with a FakeClock instead of sleeping.
class Clock {
 public:
  virtual ~Clock() = default;
  /// Monotonic time, for intervals, deadlines and phase durations.
  [[nodiscard]] virtual std::chrono::steady_clock::time_point steadyNow() const = 0;
  /// Wall-clock time, for `*_timestamp_seconds` metrics only.
  [[nodiscard]] virtual std::chrono::system_clock::time_point systemNow() const = 0;
};

/// The real clocks of the process.
class SystemClock final : public Clock {
 public:
  [[nodiscard]] std::chrono::steady_clock::time_point steadyNow() const override {
    return std::chrono::steady_clock::now();
  }
  [[nodiscard]] std::chrono::system_clock::time_point systemNow() const override {
    return std::chrono::system_clock::now();
  }
};

/// Seconds since the Unix epoch as a double, the unit of every `*_timestamp_seconds` metric.
inline double toUnixSeconds(std::chrono::system_clock::time_point t) {
  return std::chrono::duration<double>(t.time_since_epoch()).count();
}

}  // namespace gomodprobe
