#pragma once

#include <chrono>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "agent/notifier.h"

namespace gomodprobe::testing {

/// Records every notification instead of sending it; the watchdog timeout is set by the test.
class FakeNotifier final : public agent::Notifier {
 public:
  bool notify(const std::string& state) override {
    std::lock_guard lock(mutex_);
    sent_.push_back(state);
    return true;
  }
  [[nodiscard]] std::optional<std::chrono::microseconds> watchdogTimeout() const override {
    return watchdog_timeout_;
  }

  void setWatchdogTimeout(std::optional<std::chrono::microseconds> timeout) {
    watchdog_timeout_ = timeout;
  }
  [[nodiscard]] std::vector<std::string> sent() const {
    std::lock_guard lock(mutex_);
    return sent_;
  }

 private:
  std::optional<std::chrono::microseconds> watchdog_timeout_;
  mutable std::mutex mutex_;
  std::vector<std::string> sent_;  // guarded by mutex_
};

}  // namespace gomodprobe::testing
