#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "gomodprobe/clock.h"
#include "gomodprobe/config.h"
#include "net/handles.h"
#include "net/trust_store.h"

namespace gomodprobe::net {

/// The single I/O loop of the agent: one thread owns a curl multi handle and the c-ares channels
/// (one per resolver) and waits on all their sockets in one `curl_multi_poll` call (c-ares sockets
/// passed as extra fds). Everything except post() and stop() is "loop thread only"; other threads
/// hand work over with post() (which wakes the poll with curl_multi_wakeup).
class EventLoop {
 public:
  using Task = std::function<void()>;
  using TimerId = std::uint64_t;
  /// Called once when a transfer added with addTransfer() completes (or fails).
  using TransferDone = std::function<void(CURLcode)>;
  using WatchId = std::uint64_t;
  /// What a watched descriptor is ready for (POLLERR/POLLHUP show up as readable and/or
  /// writable, as curl_multi_poll reports them).
  struct FdReady {
    bool readable = false;
    bool writable = false;
  };
  using FdCallback = std::function<void(FdReady)>;

  explicit EventLoop(const Clock& clock);
  ~EventLoop();
  EventLoop(const EventLoop&) = delete;
  EventLoop& operator=(const EventLoop&) = delete;

  /// Runs tasks, timers and I/O until stop(). Call from the thread that is to own the loop.
  void run();
  /// Thread-safe: run() returns after the current iteration.
  void stop();
  /// Thread-safe: runs `task` on the loop thread at the next iteration.
  void post(Task task);

  // ---- loop thread only ----
  /// Starts a transfer. The caller keeps `easy` alive until `done` ran or removeTransfer().
  /// Returns false (and never calls `done`) if curl refused the handle.
  bool addTransfer(CURL* easy, TransferDone done);
  /// Aborts a transfer without calling its callback. No-op when not added.
  void removeTransfer(CURL* easy);
  [[nodiscard]] std::size_t transfersInFlight() const { return transfers_.size(); }

  TimerId addTimer(std::chrono::steady_clock::time_point when, Task task);
  void cancelTimer(TimerId id);

  /// Watches a descriptor the caller owns (for sockets curl does not drive, e.g. a raw TCP
  /// connection): `callback` runs on each poll that finds it ready for what was asked, until
  /// unwatchFd(). The caller unwatches before closing the descriptor. A callback may (un)watch.
  WatchId watchFd(int fd, bool readable, bool writable, FdCallback callback);
  /// Changes what a watch waits for. No-op for an unknown id.
  void updateFd(WatchId id, bool readable, bool writable);
  /// Stops a watch; its callback is not called afterwards. No-op for an unknown id.
  void unwatchFd(WatchId id);

  /// The c-ares channel for one resolver, created on first use (servers from the spec, or
  /// /etc/resolv.conf for "system"). nullptr when c-ares could not initialise it; `error` then
  /// says why.
  ares_channel resolverChannel(const ResolverSpec& resolver, std::string* error);

  /// The trust anchors shared by the loop's TLS connections (parsed once, see TrustStores).
  [[nodiscard]] TrustStores& trustStores() { return trust_stores_; }

  [[nodiscard]] const Clock& clock() const { return clock_; }

 private:
  void runPostedTasks();
  void runDueTimers();
  void pollOnce();
  void drainCurlMessages();

  const Clock& clock_;
  CurlMulti multi_;
  std::unordered_map<CURL*, TransferDone> transfers_;
  std::multimap<std::chrono::steady_clock::time_point, std::pair<TimerId, Task>> timers_;
  std::unordered_map<TimerId, std::chrono::steady_clock::time_point> timer_index_;
  TimerId next_timer_id_ = 1;
  std::map<std::string, AresChannel> channels_;  // by ResolverSpec::label()
  TrustStores trust_stores_;
  struct FdWatch {
    int fd = -1;
    short events = 0;  // CURL_WAIT_POLLIN | CURL_WAIT_POLLOUT
    FdCallback callback;
  };
  std::map<WatchId, FdWatch> fd_watches_;
  WatchId next_watch_id_ = 1;

  std::mutex mutex_;
  std::vector<Task> posted_;     // guarded by mutex_
  bool stop_requested_ = false;  // guarded by mutex_
};

}  // namespace gomodprobe::net
