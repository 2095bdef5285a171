#include "net/event_loop.h"

#include <sys/epoll.h>
#include <sys/eventfd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <stdexcept>
#include <string>
#include <system_error>

namespace gomodprobe::net {

namespace {

// Per-try timeout and tries for every c-ares channel: 1 s then 2 s (c-ares doubles per round).
// The probe's own deadline still cuts a lookup short (reason dns_timeout).
constexpr int kAresTimeoutMs = 1000;
constexpr int kAresTries = 2;
// Upper bound of one wait, so that c-ares and curl timeouts are re-checked even if a timer
// callback was missed.
constexpr long kMaxWaitMs = 1000;
// Ready descriptors taken per epoll_wait; more stay ready (level triggered) for the next one.
constexpr int kMaxEvents = 256;

std::uint32_t epollEvents(bool readable, bool writable) {
  return (readable ? static_cast<std::uint32_t>(EPOLLIN) : 0U) |
         (writable ? static_cast<std::uint32_t>(EPOLLOUT) : 0U);
}

long msUntil(std::chrono::steady_clock::time_point when,
             std::chrono::steady_clock::time_point now) {
  if (when <= now) return 0;
  return static_cast<long>(std::chrono::ceil<std::chrono::milliseconds>(when - now).count());
}

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

EventLoop::EventLoop(const Clock& clock)
    : clock_(clock),
      epoll_(::epoll_create1(EPOLL_CLOEXEC)),
      wake_(::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)),
      multi_(curl_multi_init()) {
  if (!epoll_) throw std::runtime_error("epoll_create1: " + std::system_category().message(errno));
  if (!wake_) throw std::runtime_error("eventfd: " + std::system_category().message(errno));
  if (!multi_) throw std::runtime_error("curl_multi_init failed");
  epoll_event ev{};
  ev.events = EPOLLIN;
  ev.data.fd = wake_.get();
  if (::epoll_ctl(epoll_.get(), EPOLL_CTL_ADD, wake_.get(), &ev) != 0) {
    throw std::runtime_error("epoll_ctl(eventfd): " + std::system_category().message(errno));
  }
  curl_multi_setopt(multi_.get(), CURLMOPT_SOCKETFUNCTION, &EventLoop::onCurlSocket);
  curl_multi_setopt(multi_.get(), CURLMOPT_SOCKETDATA, this);
  curl_multi_setopt(multi_.get(), CURLMOPT_TIMERFUNCTION, &EventLoop::onCurlTimer);
  curl_multi_setopt(multi_.get(), CURLMOPT_TIMERDATA, this);
}

EventLoop::~EventLoop() {
  for (auto& [easy, done] : transfers_) curl_multi_remove_handle(multi_.get(), easy);
  transfers_.clear();
  // Closing cached connections may still call the socket callback: do it while fds_ and the
  // epoll descriptor exist.
  multi_.reset();
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
    waitOnce();
    drainCurlMessages();
  }
}

void EventLoop::stop() {
  {
    std::lock_guard lock(mutex_);
    stop_requested_ = true;
  }
  const std::uint64_t one = 1;
  (void)!::write(wake_.get(), &one, sizeof one);
}

void EventLoop::post(Task task) {
  {
    std::lock_guard lock(mutex_);
    posted_.push_back(std::move(task));
  }
  const std::uint64_t one = 1;
  // EAGAIN (counter saturated) still leaves the eventfd readable: the wakeup is not lost.
  (void)!::write(wake_.get(), &one, sizeof one);
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
  watch.readable = readable;
  watch.writable = writable;
  watch.callback = std::move(callback);
  fd_watches_.emplace(id, std::move(watch));
  fds_[fd].watch = id;
  syncFd(fd);
  return id;
}

void EventLoop::updateFd(WatchId id, bool readable, bool writable) {
  auto it = fd_watches_.find(id);
  if (it == fd_watches_.end()) return;
  it->second.readable = readable;
  it->second.writable = writable;
  syncFd(it->second.fd);
}

void EventLoop::unwatchFd(WatchId id) {
  auto it = fd_watches_.find(id);
  if (it == fd_watches_.end()) return;
  const int fd = it->second.fd;
  fd_watches_.erase(it);
  if (auto interest = fds_.find(fd); interest != fds_.end() && interest->second.watch == id) {
    interest->second.watch = 0;
    syncFd(fd);
  }
}

ares_channel EventLoop::resolverChannel(const ResolverSpec& resolver, std::string* error) {
  const std::string key = resolver.label();
  if (auto it = channels_.find(key); it != channels_.end()) return it->second.channel.get();

  auto slot = std::make_unique<AresSlot>();
  slot->loop = this;
  ares_options options{};
  options.timeout = kAresTimeoutMs;
  options.tries = kAresTries;
  // Report what the resolver said (SERVFAIL, REFUSED) instead of retrying other servers and
  // ending with "could not contact": the probe is about this resolver's answer.
  options.flags = ARES_FLAG_NOCHECKRESP;
  options.sock_state_cb = &EventLoop::onAresSocketState;
  options.sock_state_cb_data = slot.get();
  ares_channel raw = nullptr;
  int rc = ares_init_options(
      &raw, &options,
      ARES_OPT_TIMEOUTMS | ARES_OPT_TRIES | ARES_OPT_FLAGS | ARES_OPT_SOCK_STATE_CB);
  if (rc != ARES_SUCCESS) {
    if (error != nullptr) *error = std::string("c-ares init: ") + ares_strerror(rc);
    return nullptr;
  }
  slot->channel = raw;
  ResolverChannel entry{std::move(slot), AresChannel(raw), std::nullopt};
  if (!resolver.system) {
    const bool v6 = resolver.address.find(':') != std::string::npos;
    const std::string csv = (v6 ? "[" + resolver.address + "]" : resolver.address) + ":" +
                            std::to_string(resolver.port);
    rc = ares_set_servers_ports_csv(entry.channel.get(), csv.c_str());
    if (rc != ARES_SUCCESS) {
      if (error != nullptr) *error = std::string("c-ares servers: ") + ares_strerror(rc);
      return nullptr;
    }
  }
  return channels_.emplace(key, std::move(entry)).first->second.channel.get();
}

int EventLoop::onCurlSocket(CURL* /*easy*/, curl_socket_t fd, int what, void* loop,
                            void* /*socketp*/) {
  auto* self = static_cast<EventLoop*>(loop);
  if (what == CURL_POLL_REMOVE) {
    auto it = self->fds_.find(fd);
    if (it == self->fds_.end()) return 0;
    it->second.curl_what = 0;
  } else {
    self->fds_[fd].curl_what = what;
  }
  self->syncFd(fd);
  return 0;
}

int EventLoop::onCurlTimer(CURLM* /*multi*/, long timeout_ms, void* loop) {
  auto* self = static_cast<EventLoop*>(loop);
  if (timeout_ms < 0) {
    self->curl_deadline_.reset();
  } else {
    self->curl_deadline_ = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  }
  return 0;
}

void EventLoop::onAresSocketState(void* slot, ares_socket_t fd, int readable, int writable) {
  auto* ares_slot = static_cast<AresSlot*>(slot);
  EventLoop* self = ares_slot->loop;
  if (readable == 0 && writable == 0) {
    auto it = self->fds_.find(fd);
    if (it == self->fds_.end()) return;
    it->second.ares = nullptr;
    it->second.ares_read = it->second.ares_write = false;
  } else {
    FdInterest& interest = self->fds_[fd];
    // During ares_init_options the slot's channel is not known yet; c-ares opens sockets only for
    // queries, so by then it is.
    interest.ares = ares_slot->channel;
    interest.ares_read = readable != 0;
    interest.ares_write = writable != 0;
  }
  self->syncFd(fd);
}

void EventLoop::syncFd(int fd) {
  auto it = fds_.find(fd);
  if (it == fds_.end()) return;
  FdInterest& interest = it->second;
  bool watch_read = false;
  bool watch_write = false;
  if (interest.watch != 0) {
    if (auto w = fd_watches_.find(interest.watch); w != fd_watches_.end()) {
      watch_read = w->second.readable;
      watch_write = w->second.writable;
    } else {
      interest.watch = 0;
    }
  }
  const bool read = watch_read || interest.ares_read || (interest.curl_what & CURL_POLL_IN) != 0;
  const bool write =
      watch_write || interest.ares_write || (interest.curl_what & CURL_POLL_OUT) != 0;
  const std::uint32_t wanted = epollEvents(read, write);
  if (wanted != interest.registered) {
    epoll_event ev{};
    ev.events = wanted;
    ev.data.fd = fd;
    if (wanted == 0) {
      // The owner may already have closed it (which removed it from epoll): ENOENT/EBADF are fine.
      (void)::epoll_ctl(epoll_.get(), EPOLL_CTL_DEL, fd, nullptr);
    } else if (interest.registered == 0) {
      if (::epoll_ctl(epoll_.get(), EPOLL_CTL_ADD, fd, &ev) != 0 && errno == EEXIST) {
        (void)::epoll_ctl(epoll_.get(), EPOLL_CTL_MOD, fd, &ev);
      }
    } else if (::epoll_ctl(epoll_.get(), EPOLL_CTL_MOD, fd, &ev) != 0 && errno == ENOENT) {
      // Closed and reopened under the same number since it was registered.
      (void)::epoll_ctl(epoll_.get(), EPOLL_CTL_ADD, fd, &ev);
    }
    interest.registered = wanted;
  }
  if (interest.curl_what == 0 && interest.ares == nullptr && interest.watch == 0) fds_.erase(it);
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

long EventLoop::waitTimeoutMs() {
  // The c-ares deadlines first, even when the wait is not to block: processAresTimeouts() relies
  // on them being fresh.
  long timeout_ms = kMaxWaitMs;
  const auto now = std::chrono::steady_clock::now();
  for (auto& [key, resolver] : channels_) {
    timeval tv{};
    const timeval* next = ares_timeout(resolver.channel.get(), nullptr, &tv);
    if (next == nullptr) {  // no query waits
      resolver.deadline.reset();
      continue;
    }
    // c-ares truncates the time left to whole milliseconds (and read its clock before `now`):
    // one more millisecond puts the deadline at or after the query's own timeout, so that the
    // processing it triggers does expire the query.
    resolver.deadline = now + std::chrono::seconds(next->tv_sec) +
                        std::chrono::microseconds(next->tv_usec) + std::chrono::milliseconds(1);
    timeout_ms = std::min(timeout_ms, msUntil(*resolver.deadline, now));
  }
  {
    std::lock_guard lock(mutex_);
    if (!posted_.empty() || stop_requested_) return 0;
  }
  if (curl_deadline_) timeout_ms = std::min(timeout_ms, msUntil(*curl_deadline_, now));
  if (!timers_.empty()) {
    timeout_ms = std::min(timeout_ms, msUntil(timers_.begin()->first, clock_.steadyNow()));
  }
  return timeout_ms;
}

void EventLoop::waitOnce() {
  std::array<epoll_event, kMaxEvents> events{};
  const int ready =
      ::epoll_wait(epoll_.get(), events.data(), kMaxEvents, static_cast<int>(waitTimeoutMs()));
  for (int i = 0; i < ready; ++i) {
    const epoll_event& ev = events[static_cast<std::size_t>(i)];
    if (ev.data.fd == wake_.get()) {
      std::uint64_t count = 0;
      (void)!::read(wake_.get(), &count, sizeof count);
      continue;
    }
    dispatch(ev.data.fd, ev.events);
  }

  processAresTimeouts();
  if (curl_deadline_ && *curl_deadline_ <= std::chrono::steady_clock::now()) {
    curl_deadline_.reset();  // curl sets a new one from inside socket_action if it needs one
    int running = 0;
    curl_multi_socket_action(multi_.get(), CURL_SOCKET_TIMEOUT, 0, &running);
  }
}

void EventLoop::processAresTimeouts() {
  // Socket events went to ares_process_fd(fd, ...) in dispatch(), which also expires what is due
  // on that channel. A query sent since waitTimeoutMs() is not due yet (its first try has the
  // whole per-try timeout); the next waitTimeoutMs() records its deadline. What the omitted calls
  // would also have done, closing TCP connections that end_query() marked broken outside
  // processing, waits for the channel's next event or deadline.
  const auto now = std::chrono::steady_clock::now();
  for (auto& [key, resolver] : channels_) {
    if (!resolver.deadline || *resolver.deadline > now) continue;
    resolver.deadline.reset();
    ares_process_fd(resolver.channel.get(), ARES_SOCKET_BAD, ARES_SOCKET_BAD);
  }
}

void EventLoop::dispatch(int fd, std::uint32_t events) {
  auto it = fds_.find(fd);
  if (it == fds_.end()) return;
  // Copy: each callback below may change or erase the entry.
  const FdInterest interest = it->second;
  const bool failed = (events & (EPOLLERR | EPOLLHUP)) != 0;
  const bool in = (events & (EPOLLIN | EPOLLPRI)) != 0;
  const bool out = (events & EPOLLOUT) != 0;

  if (interest.watch != 0) {
    if (auto w = fd_watches_.find(interest.watch); w != fd_watches_.end()) {
      FdReady ready_for;
      ready_for.readable = in || (failed && w->second.readable);
      ready_for.writable = out || (failed && w->second.writable);
      if (ready_for.readable || ready_for.writable) {
        FdCallback callback = w->second.callback;  // the callback may unwatch itself
        callback(ready_for);
      }
    }
  }
  if (interest.ares != nullptr && (in || out || failed)) {
    // An error or hang-up counts as readable so that c-ares notices the closed socket.
    const bool readable = in || failed || !out;
    ares_process_fd(interest.ares, readable ? fd : ARES_SOCKET_BAD, out ? fd : ARES_SOCKET_BAD);
  }
  if (interest.curl_what != 0) {
    int mask =
        (in ? CURL_CSELECT_IN : 0) | (out ? CURL_CSELECT_OUT : 0) | (failed ? CURL_CSELECT_ERR : 0);
    int running = 0;
    curl_multi_socket_action(multi_.get(), fd, mask, &running);
  }
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
