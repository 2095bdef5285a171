#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "gomodprobe/clock.h"
#include "gomodprobe/config.h"
#include "net/handles.h"
#include "net/trust_store.h"

namespace gomodprobe::net {

/// The single I/O loop of the agent: one thread owns a curl multi handle and the c-ares channels
/// (one per resolver) and waits on all their sockets with one epoll instance. It is event-driven
/// the way libcurl's multi_socket API intends (curl_multi_socket_action with
/// CURLMOPT_SOCKETFUNCTION / CURLMOPT_TIMERFUNCTION; c-ares with ARES_OPT_SOCK_STATE_CB): a wakeup
/// costs work only for the descriptors that are ready, not for every transfer in flight, so
/// thousands of stalled (black-holed) transfers do not delay the healthy ones.
/// Everything except post() and stop() is "loop thread only"; other threads hand work over with
/// post() (which wakes epoll_wait through an eventfd).
class EventLoop {
 public:
  using Task = std::function<void()>;
  using TimerId = std::uint64_t;
  /// Called once when a transfer added with addTransfer() completes (or fails).
  using TransferDone = std::function<void(CURLcode)>;
  using WatchId = std::uint64_t;
  /// What a watched descriptor is ready for (an error or hang-up shows up as whatever the watch
  /// asked for: readable and/or writable, so that the owner's read or write sees the error).
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
  /// connection): `callback` runs on each wakeup that finds it ready for what was asked (level
  /// triggered), until unwatchFd(). The caller unwatches before closing the descriptor; one
  /// descriptor has at most one watch. A callback may (un)watch.
  WatchId watchFd(int fd, bool readable, bool writable, FdCallback callback);
  /// Changes what a watch waits for. No-op for an unknown id.
  void updateFd(WatchId id, bool readable, bool writable);
  /// Stops a watch; its callback is not called afterwards. No-op for an unknown id.
  void unwatchFd(WatchId id);

  /// The c-ares channel for one resolver, created on first use (servers from the spec, or
  /// /etc/resolv.conf for "system"), its sockets watched by this loop. nullptr when c-ares could
  /// not initialise it; `error` then says why.
  ares_channel resolverChannel(const ResolverSpec& resolver, std::string* error);

  /// The trust anchors shared by the loop's TLS connections (parsed once, see TrustStores).
  [[nodiscard]] TrustStores& trustStores() { return trust_stores_; }

  [[nodiscard]] const Clock& clock() const { return clock_; }

 private:
  /// Who waits on one descriptor. The parts are independent so that a number closed by one owner
  /// and reused by another before the first said so is still dispatched correctly.
  struct FdInterest {
    int curl_what = 0;  // CURL_POLL_IN / _OUT / _INOUT from the socket callback, 0 = none
    ares_channel ares = nullptr;
    bool ares_read = false;
    bool ares_write = false;
    WatchId watch = 0;
    std::uint32_t registered = 0;  // epoll events currently registered, 0 = not in epoll
  };
  struct FdWatch {
    int fd = -1;
    bool readable = false;
    bool writable = false;
    FdCallback callback;
  };
  /// Heap-held so that its address, given to c-ares as the socket-state callback's data,
  /// survives moves of the map node; it must outlive the channel.
  struct AresSlot {
    EventLoop* loop = nullptr;
    ares_channel channel = nullptr;
  };
  struct ResolverChannel {
    std::unique_ptr<AresSlot> slot;
    AresChannel channel;  // after `slot`: destroyed first
    /// When the channel's earliest query times out (ares_timeout, on steady_clock like c-ares'
    /// monotonic clock), as of the last waitTimeoutMs(); unset when no query was waiting.
    std::optional<std::chrono::steady_clock::time_point> deadline;
  };

  static int onCurlSocket(CURL* easy, curl_socket_t fd, int what, void* loop, void* socketp);
  static int onCurlTimer(CURLM* multi, long timeout_ms, void* loop);
  static void onAresSocketState(void* slot, ares_socket_t fd, int readable, int writable);

  void runPostedTasks();
  void runDueTimers();
  void waitOnce();
  void dispatch(int fd, std::uint32_t events);
  /// Brings the epoll registration of `fd` in line with its FdInterest (erasing it when nobody
  /// waits any more).
  void syncFd(int fd);
  /// How long the next epoll_wait may block (ms): until the first timer, curl deadline or c-ares
  /// deadline (which it records in each ResolverChannel::deadline), at most kMaxWaitMs.
  [[nodiscard]] long waitTimeoutMs();
  /// Lets c-ares expire (and resend) the queries of the channels whose deadline has passed.
  void processAresTimeouts();
  void drainCurlMessages();

  const Clock& clock_;
  UniqueFd epoll_;
  UniqueFd wake_;  // eventfd written by post() / stop()
  std::unordered_map<int, FdInterest> fds_;
  // Set by CURLMOPT_TIMERFUNCTION; on curl's clock (steady_clock), not the injected one.
  std::optional<std::chrono::steady_clock::time_point> curl_deadline_;
  CurlMulti multi_;  // after epoll_/fds_: its cleanup may still report sockets removed
  std::unordered_map<CURL*, TransferDone> transfers_;
  std::multimap<std::chrono::steady_clock::time_point, std::pair<TimerId, Task>> timers_;
  std::unordered_map<TimerId, std::chrono::steady_clock::time_point> timer_index_;
  TimerId next_timer_id_ = 1;
  std::map<std::string, ResolverChannel> channels_;  // by ResolverSpec::label()
  TrustStores trust_stores_;
  std::unordered_map<WatchId, FdWatch> fd_watches_;
  WatchId next_watch_id_ = 1;

  std::mutex mutex_;
  std::vector<Task> posted_;     // guarded by mutex_
  bool stop_requested_ = false;  // guarded by mutex_
};

}  // namespace gomodprobe::net
