#include "net/event_loop.h"

#include <poll.h>

#include <algorithm>
#include <array>
#include <stdexcept>

namespace gomodprobe::net {

namespace {

// Per-try timeout and tries for every c-ares channel: 1 s then 2 s (c-ares doubles per round).
// The probe's own deadline still cuts a lookup short (reason dns_timeout).
constexpr int kAresTimeoutMs = 1000;
constexpr int kAresTries = 2;
// Upper bound of one poll, so that stop() and posted tasks are noticed even if a wakeup is lost.
constexpr long kMaxPollMs = 1000;

}  // namespace

NetLibraries::NetLibraries() {
  if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
    throw std::runtime_error("curl_global_init failed");
  }
  if (ares_library_init(ARES_LIB_INIT_ALL) != ARES_SUCCESS) {
    curl_global_cleanup();
    throw std::runtime_error("ares_library_init failed");
  }
}

NetLibraries::~NetLibraries() {
  ares_library_cleanup();
  curl_global_cleanup();
}

EventLoop::EventLoop(const Clock& clock) : clock_(clock), multi_(curl_multi_init()) {
  if (!multi_) throw std::runtime_error("curl_multi_init failed");
}

EventLoop::~EventLoop() {
  for (auto& [easy, done] : transfers_) curl_multi_remove_handle(multi_.get(), easy);
  transfers_.clear();
  // Destroying channels runs pending c-ares callbacks with ARES_EDESTRUCTION, which free their
  // request state; they must not touch the loop any more (the probes guard with weak_ptr).
  channels_.clear();
}

void EventLoop::run() {
  for (;;) {
    {
      std::lock_guard lock(mutex_);
      if (stop_requested_) {
        stop_requested_ = false;
        return;
      }
    }
    runPostedTasks();
    runDueTimers();
    pollOnce();
    drainCurlMessages();
  }
}

void EventLoop::stop() {
  {
    std::lock_guard lock(mutex_);
    stop_requested_ = true;
  }
  curl_multi_wakeup(multi_.get());
}

void EventLoop::post(Task task) {
  {
    std::lock_guard lock(mutex_);
    posted_.push_back(std::move(task));
  }
  curl_multi_wakeup(multi_.get());
}

bool EventLoop::addTransfer(CURL* easy, TransferDone done) {
  if (curl_multi_add_handle(multi_.get(), easy) != CURLM_OK) return false;
  transfers_[easy] = std::move(done);
  return true;
}

void EventLoop::removeTransfer(CURL* easy) {
  auto it = transfers_.find(easy);
  if (it == transfers_.end()) return;
  curl_multi_remove_handle(multi_.get(), easy);
  transfers_.erase(it);
}

EventLoop::TimerId EventLoop::addTimer(std::chrono::steady_clock::time_point when, Task task) {
  const TimerId id = next_timer_id_++;
  timers_.emplace(when, std::make_pair(id, std::move(task)));
  timer_index_[id] = when;
  return id;
}

void EventLoop::cancelTimer(TimerId id) {
  auto idx = timer_index_.find(id);
  if (idx == timer_index_.end()) return;
  auto [first, last] = timers_.equal_range(idx->second);
  for (auto it = first; it != last; ++it) {
    if (it->second.first == id) {
      timers_.erase(it);
      break;
    }
  }
  timer_index_.erase(idx);
}

EventLoop::WatchId EventLoop::watchFd(int fd, bool readable, bool writable, FdCallback callback) {
  const WatchId id = next_watch_id_++;
  FdWatch watch;
  watch.fd = fd;
  watch.events =
      static_cast<short>((readable ? CURL_WAIT_POLLIN : 0) | (writable ? CURL_WAIT_POLLOUT : 0));
  watch.callback = std::move(callback);
  fd_watches_.emplace(id, std::move(watch));
  return id;
}

void EventLoop::updateFd(WatchId id, bool readable, bool writable) {
  auto it = fd_watches_.find(id);
  if (it == fd_watches_.end()) return;
  it->second.events =
      static_cast<short>((readable ? CURL_WAIT_POLLIN : 0) | (writable ? CURL_WAIT_POLLOUT : 0));
}

void EventLoop::unwatchFd(WatchId id) { fd_watches_.erase(id); }

ares_channel EventLoop::resolverChannel(const ResolverSpec& resolver, std::string* error) {
  const std::string key = resolver.label();
  if (auto it = channels_.find(key); it != channels_.end()) return it->second.get();

  ares_options options{};
  options.timeout = kAresTimeoutMs;
  options.tries = kAresTries;
  // Report what the resolver said (SERVFAIL, REFUSED) instead of retrying other servers and
  // ending with "could not contact": the probe is about this resolver's answer.
  options.flags = ARES_FLAG_NOCHECKRESP;
  ares_channel raw = nullptr;
  int rc = ares_init_options(&raw, &options, ARES_OPT_TIMEOUTMS | ARES_OPT_TRIES | ARES_OPT_FLAGS);
  if (rc != ARES_SUCCESS) {
    if (error != nullptr) *error = std::string("c-ares init: ") + ares_strerror(rc);
    return nullptr;
  }
  AresChannel channel(raw);
  if (!resolver.system) {
    const bool v6 = resolver.address.find(':') != std::string::npos;
    const std::string csv = (v6 ? "[" + resolver.address + "]" : resolver.address) + ":" +
                            std::to_string(resolver.port);
    rc = ares_set_servers_ports_csv(channel.get(), csv.c_str());
    if (rc != ARES_SUCCESS) {
      if (error != nullptr) *error = std::string("c-ares servers: ") + ares_strerror(rc);
      return nullptr;
    }
  }
  return channels_.emplace(key, std::move(channel)).first->second.get();
}

void EventLoop::runPostedTasks() {
  std::vector<Task> tasks;
  {
    std::lock_guard lock(mutex_);
    tasks.swap(posted_);
  }
  for (auto& task : tasks) task();
}

void EventLoop::runDueTimers() {
  const auto now = clock_.steadyNow();
  // Collect first: a timer task may add or cancel timers.
  std::vector<std::pair<TimerId, Task>> due;
  while (!timers_.empty() && timers_.begin()->first <= now) {
    auto node = timers_.extract(timers_.begin());
    timer_index_.erase(node.mapped().first);
    due.push_back(std::move(node.mapped()));
  }
  for (auto& [id, task] : due) task();
}

void EventLoop::pollOnce() {
  // Gather c-ares sockets and the earliest c-ares / timer deadline.
  std::vector<curl_waitfd> extra;
  std::vector<ares_channel> owners;
  long timeout_ms = kMaxPollMs;
  for (auto& [key, channel] : channels_) {
    std::array<ares_socket_t, ARES_GETSOCK_MAXNUM> socks{};
    const int bits = ares_getsock(channel.get(), socks.data(), ARES_GETSOCK_MAXNUM);
    bool active = false;
    for (int i = 0; i < ARES_GETSOCK_MAXNUM; ++i) {
      curl_waitfd wfd{};
      wfd.fd = socks[static_cast<std::size_t>(i)];
      if (ARES_GETSOCK_READABLE(bits, i)) wfd.events |= CURL_WAIT_POLLIN;
      if (ARES_GETSOCK_WRITABLE(bits, i)) wfd.events |= CURL_WAIT_POLLOUT;
      if (wfd.events == 0) continue;
      extra.push_back(wfd);
      owners.push_back(channel.get());
      active = true;
    }
    if (active) {
      timeval max_tv{0, static_cast<suseconds_t>(kMaxPollMs * 1000)};
      timeval tv{};
      const timeval* next = ares_timeout(channel.get(), &max_tv, &tv);
      const long ms = next->tv_sec * 1000 + (next->tv_usec + 999) / 1000;
      timeout_ms = std::min(timeout_ms, ms);
    }
  }
  const std::size_t ares_fds = extra.size();
  std::vector<WatchId> watch_ids;
  for (const auto& [id, watch] : fd_watches_) {
    if (watch.events == 0) continue;
    curl_waitfd wfd{};
    wfd.fd = watch.fd;
    wfd.events = watch.events;
    extra.push_back(wfd);
    watch_ids.push_back(id);
  }
  if (!timers_.empty()) {
    const auto until = timers_.begin()->first - clock_.steadyNow();
    const auto ms = std::chrono::ceil<std::chrono::milliseconds>(until).count();
    timeout_ms = std::clamp<long>(static_cast<long>(ms), 0, timeout_ms);
  }
  {
    std::lock_guard lock(mutex_);
    if (!posted_.empty() || stop_requested_) timeout_ms = 0;
  }

  int ready = 0;
  curl_multi_poll(multi_.get(), extra.data(), static_cast<unsigned>(extra.size()),
                  static_cast<int>(timeout_ms), &ready);

  for (std::size_t i = 0; i < ares_fds; ++i) {
    const short revents = extra[i].revents;
    if (revents == 0) continue;
    const bool readable = (revents & (CURL_WAIT_POLLIN | CURL_WAIT_POLLPRI)) != 0;
    const bool writable = (revents & CURL_WAIT_POLLOUT) != 0;
    // POLLERR/POLLHUP are reported as readable so that c-ares notices the closed socket.
    ares_process_fd(owners[i], readable || !writable ? extra[i].fd : ARES_SOCKET_BAD,
                    writable ? extra[i].fd : ARES_SOCKET_BAD);
  }
  // Let c-ares expire its own timeouts (and resend) even when no socket was ready.
  for (auto& [key, channel] : channels_) {
    ares_process_fd(channel.get(), ARES_SOCKET_BAD, ARES_SOCKET_BAD);
  }

  // Watched descriptors: a callback may unwatch others, so look each one up again.
  for (std::size_t i = 0; i < watch_ids.size(); ++i) {
    const short revents = extra[ares_fds + i].revents;
    if (revents == 0) continue;
    auto it = fd_watches_.find(watch_ids[i]);
    if (it == fd_watches_.end()) continue;
    FdReady ready_for;
    ready_for.readable = (revents & (CURL_WAIT_POLLIN | CURL_WAIT_POLLPRI)) != 0;
    ready_for.writable = (revents & CURL_WAIT_POLLOUT) != 0;
    FdCallback callback = it->second.callback;  // the callback may unwatch itself
    callback(ready_for);
  }

  int running = 0;
  curl_multi_perform(multi_.get(), &running);
}

void EventLoop::drainCurlMessages() {
  int queued = 0;
  while (CURLMsg* msg = curl_multi_info_read(multi_.get(), &queued)) {
    if (msg->msg != CURLMSG_DONE) continue;
    CURL* easy = msg->easy_handle;
    const CURLcode code = msg->data.result;
    auto it = transfers_.find(easy);
    if (it == transfers_.end()) continue;
    TransferDone done = std::move(it->second);
    transfers_.erase(it);
    curl_multi_remove_handle(multi_.get(), easy);
    // `msg` is invalid after remove; `code` was copied before.
    done(code);
  }
}

}  // namespace gomodprobe::net
