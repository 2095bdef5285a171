#pragma once

#include <chrono>

#include "gomodprobe/clock.h"

namespace gomodprobe::testing {

/// A clock that only moves when told to.
class FakeClock final : public Clock {
 public:
  [[nodiscard]] std::chrono::steady_clock::time_point steadyNow() const override { return steady_; }
  [[nodiscard]] std::chrono::system_clock::time_point systemNow() const override { return system_; }
  void advance(std::chrono::nanoseconds by) {
    steady_ += by;
    system_ += std::chrono::duration_cast<std::chrono::system_clock::duration>(by);
  }

 private:
  std::chrono::steady_clock::time_point steady_{std::chrono::hours(1000)};
  std::chrono::system_clock::time_point system_{std::chrono::seconds(1'700'000'000)};
};

}  // namespace gomodprobe::testing
