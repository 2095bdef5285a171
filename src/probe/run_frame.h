#pragma once

#include <chrono>
#include <functional>
#include <string>

#include "gomodprobe/config.h"
#include "gomodprobe/probe.h"
#include "net/event_loop.h"
#include "net/http_fetch.h"

namespace gomodprobe::probe {

/// The frame every kind of run shares (ProbeRun and the runs of the dns and chain kinds): the
/// result's target, kind and start time; one deadline, the target's timeout, armed as a timer of
/// the loop; and the end: the run's duration stamped and the callback called exactly once with
/// the result. Loop thread only.
class RunFrame {
 public:
  RunFrame(const RunFrame&) = delete;
  RunFrame& operator=(const RunFrame&) = delete;
  RunFrame(RunFrame&&) = delete;
  RunFrame& operator=(RunFrame&&) = delete;

 protected:
  RunFrame(TargetConfig target, net::EventLoop& loop, ProbeCallback done);
  ~RunFrame();

  /// Stamps the result (target, kind, started_at) and arms the deadline (now + the target's
  /// timeout): `on_deadline` runs then, unless the run has finished before. It should own the run
  /// (capture a shared_ptr), which keeps the run alive until its deadline or its end.
  void beginRun(std::function<void()> on_deadline);
  /// Marks the run finished and cancels the deadline; false when it already was finished (the
  /// caller then stops).
  [[nodiscard]] bool endRun();
  /// Stamps the run's duration (start → now, seconds) and calls back with the result. Once,
  /// after endRun(); nothing of the run may be touched afterwards but what the caller keeps alive.
  void deliver();

  /// A request to `url` as the target asks for it: its first HTTP version (HTTP/1.1 when none),
  /// IP protocol, CA file and headers, and the run's deadline.
  [[nodiscard]] net::FetchRequest targetRequest(const std::string& url) const;

  [[nodiscard]] bool finished() const { return finished_; }
  [[nodiscard]] const TargetConfig& target() const { return target_; }
  [[nodiscard]] net::EventLoop& loop() const { return loop_; }
  [[nodiscard]] ProbeResult& result() { return result_; }
  [[nodiscard]] std::chrono::steady_clock::time_point started() const { return started_; }
  [[nodiscard]] std::chrono::steady_clock::time_point deadline() const { return deadline_; }

 private:
  const TargetConfig target_;
  net::EventLoop& loop_;
  ProbeCallback done_;
  ProbeResult result_;
  std::chrono::steady_clock::time_point started_;
  std::chrono::steady_clock::time_point deadline_;
  net::EventLoop::TimerId deadline_timer_ = 0;
  bool finished_ = false;
};

}  // namespace gomodprobe::probe
