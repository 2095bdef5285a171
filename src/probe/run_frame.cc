#include "probe/run_frame.h"

#include <utility>

#include "gomodprobe/clock.h"

namespace gomodprobe::probe {

RunFrame::RunFrame(TargetConfig target, net::EventLoop& loop, ProbeCallback done)
    : target_(std::move(target)), loop_(loop), done_(std::move(done)) {}

RunFrame::~RunFrame() = default;

void RunFrame::beginRun(std::function<void()> on_deadline) {
  started_ = loop_.clock().steadyNow();
  deadline_ = started_ + target_.timeout;
  result_.target = target_.name;
  result_.kind = target_.kind;
  result_.started_at = toUnixSeconds(loop_.clock().systemNow());
  deadline_timer_ = loop_.addTimer(deadline_, [this, on_deadline = std::move(on_deadline)] {
    // `on_deadline` owns the run, so `this` is alive here.
    deadline_timer_ = 0;
    if (!finished_) on_deadline();
  });
}

bool RunFrame::endRun() {
  if (finished_) return false;
  finished_ = true;
  if (deadline_timer_ != 0) loop_.cancelTimer(deadline_timer_);
  deadline_timer_ = 0;
  return true;
}

void RunFrame::deliver() {
  result_.duration_seconds =
      std::chrono::duration<double>(loop_.clock().steadyNow() - started_).count();
  auto done = std::move(done_);
  done(std::move(result_));
}

net::FetchRequest RunFrame::targetRequest(const std::string& url) const {
  net::FetchRequest request;
  request.url = url;
  request.version =
      target_.http_versions.empty() ? HttpVersion::Http11 : target_.http_versions.front();
  request.ip_protocol = target_.ip_protocol;
  request.ca_file = target_.ca_file;
  request.headers = target_.headers;
  request.deadline = deadline_;
  return request;
}

}  // namespace gomodprobe::probe
