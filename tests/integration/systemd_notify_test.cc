// The real gomodprobe binary under a stand-in for systemd's notify socket: NOTIFY_SOCKET points at
// an AF_UNIX datagram socket this test owns (as PID 1 would), and the test checks what
// `Type=notify` relies on: READY=1 only once /metrics answers, WATCHDOG=1 at half of WATCHDOG_USEC
// (and none without it), RELOADING=1 then READY=1 around SIGHUP, STOPPING=1 on SIGTERM, every
// message sent by the main process (NotifyAccess=main).

#include <arpa/inet.h>
#include <curl/curl.h>
#include <fcntl.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <optional>
#include <regex>
#include <string>
#include <vector>

#include "integration/fixture.h"

namespace gomodprobe {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

struct Notification {
  std::string text;
  pid_t sender = -1;  // from SCM_CREDENTIALS
};

/// The service manager's end: a bound AF_UNIX datagram socket with SO_PASSCRED, in a temp dir.
class NotifySocket {
 public:
  NotifySocket() {
    char dir[] = "/tmp/gomodprobe-notify-XXXXXX";
    dir_ = ::mkdtemp(dir) != nullptr ? dir : "";
    path_ = dir_ + "/notify.sock";
    fd_ = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    sockaddr_un address{};
    address.sun_family = AF_UNIX;
    std::strncpy(address.sun_path, path_.c_str(), sizeof(address.sun_path) - 1);
    bound_ = ::bind(fd_, reinterpret_cast<sockaddr*>(&address), sizeof(address)) == 0;
    const int on = 1;
    ::setsockopt(fd_, SOL_SOCKET, SO_PASSCRED, &on, sizeof(on));
  }
  ~NotifySocket() {
    ::close(fd_);
    std::error_code ignored;
    std::filesystem::remove_all(dir_, ignored);
  }
  NotifySocket(const NotifySocket&) = delete;
  NotifySocket& operator=(const NotifySocket&) = delete;

  [[nodiscard]] bool bound() const { return bound_; }
  [[nodiscard]] const std::string& path() const { return path_; }
  [[nodiscard]] const std::string& dir() const { return dir_; }

  /// The next datagram, or nullopt after `timeout` without one.
  std::optional<Notification> receive(std::chrono::milliseconds timeout) {
    pollfd p{fd_, POLLIN, 0};
    if (::poll(&p, 1, static_cast<int>(timeout.count())) != 1) return std::nullopt;
    char buffer[4096];
    iovec io{buffer, sizeof buffer};
    alignas(cmsghdr) char control[CMSG_SPACE(sizeof(ucred))];
    msghdr message{};
    message.msg_iov = &io;
    message.msg_iovlen = 1;
    message.msg_control = control;
    message.msg_controllen = sizeof control;
    const ssize_t n = ::recvmsg(fd_, &message, 0);
    if (n < 0) return std::nullopt;
    Notification out;
    out.text.assign(buffer, static_cast<std::size_t>(n));
    for (cmsghdr* c = CMSG_FIRSTHDR(&message); c != nullptr; c = CMSG_NXTHDR(&message, c)) {
      if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_CREDENTIALS) {
        ucred credentials{};
        std::memcpy(&credentials, CMSG_DATA(c), sizeof credentials);
        out.sender = credentials.pid;
      }
    }
    return out;
  }

  /// Receives until a message containing `needle` (collecting all into `seen`); bounded.
  std::optional<Notification> waitFor(const std::string& needle, std::vector<Notification>& seen,
                                      std::chrono::seconds bound = std::chrono::seconds(15)) {
    const auto deadline = std::chrono::steady_clock::now() + bound;
    while (std::chrono::steady_clock::now() < deadline) {
      auto next = receive(std::chrono::milliseconds(200));
      if (!next) continue;
      seen.push_back(*next);
      if (next->text.find(needle) != std::string::npos) return next;
    }
    return std::nullopt;
  }

 private:
  std::string dir_;
  std::string path_;
  int fd_ = -1;
  bool bound_ = false;
};

/// A TCP port on 127.0.0.1 that refuses connections (bound, never listening) for the target.
class RefusedPort {
 public:
  RefusedPort() {
    fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ::bind(fd_, reinterpret_cast<sockaddr*>(&address), sizeof address);
    socklen_t length = sizeof address;
    ::getsockname(fd_, reinterpret_cast<sockaddr*>(&address), &length);
    port_ = ntohs(address.sin_port);
  }
  ~RefusedPort() { ::close(fd_); }
  RefusedPort(const RefusedPort&) = delete;
  RefusedPort& operator=(const RefusedPort&) = delete;
  [[nodiscard]] int port() const { return port_; }

 private:
  int fd_ = -1;
  int port_ = 0;
};

std::string configWith(int targets, int port) {
  std::string yaml = "global:\n  interval: 1h\n  timeout: 1s\ntargets:\n";
  for (int i = 0; i < targets; ++i) {
    yaml += "  - name: t" + std::to_string(i) +
            "\n    kind: http\n    url: http://127.0.0.1:" + std::to_string(port) +
            "/\n    http_versions: [\"1.1\"]\n";
  }
  return yaml;
}

/// The daemon with a chosen environment (NOTIFY_SOCKET, WATCHDOG_USEC) instead of the test's.
class NotifiedDaemon {
 public:
  NotifiedDaemon(const std::string& config, const std::string& log,
                 const std::vector<std::string>& environment) {
    std::vector<char*> env;
    for (const auto& e : environment) env.push_back(const_cast<char*>(e.c_str()));
    env.push_back(nullptr);
    pid_ = ::fork();
    if (pid_ == 0) {
      const int fd = ::open(log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
      ::dup2(fd, 1);
      ::dup2(fd, 2);
      const char* argv[] = {GOMODPROBE_BINARY,      "--config.file", config.c_str(),
                            "--web.listen-address", "127.0.0.1:0",   nullptr};
      ::execve(GOMODPROBE_BINARY, const_cast<char* const*>(argv), env.data());
      ::_exit(127);
    }
  }
  ~NotifiedDaemon() {
    if (pid_ > 0) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, nullptr, 0);
    }
  }
  NotifiedDaemon(const NotifiedDaemon&) = delete;
  NotifiedDaemon& operator=(const NotifiedDaemon&) = delete;

  [[nodiscard]] pid_t pid() const { return pid_; }
  void signal(int sig) const { ::kill(pid_, sig); }
  /// Waits (bounded) for the exit while still reading `manager` like systemd does (a full
  /// datagram queue would block the daemon's sends); what arrives goes into `after`.
  int wait(NotifySocket& manager, std::vector<Notification>& after) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
    while (std::chrono::steady_clock::now() < deadline) {
      int status = 0;
      if (::waitpid(pid_, &status, WNOHANG) == pid_) {
        pid_ = -1;
        while (auto late = manager.receive(std::chrono::milliseconds(0))) after.push_back(*late);
        return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
      }
      if (auto next = manager.receive(std::chrono::milliseconds(50))) after.push_back(*next);
    }
    return -1;
  }

 private:
  pid_t pid_ = -1;
};

int portIn(const std::string& status) {
  std::smatch m;
  static const std::regex re("\\(port ([0-9]+)\\)");
  return std::regex_search(status, m, re) ? std::stoi(m[1]) : 0;
}

std::size_t count(const std::vector<Notification>& seen, const std::string& text) {
  std::size_t n = 0;
  for (const auto& s : seen) n += s.text == text ? 1 : 0;
  return n;
}

TEST(SystemdNotifyTest, ReadyAfterListenerWatchdogReloadingStopping) {
  NotifySocket manager;
  ASSERT_TRUE(manager.bound());
  RefusedPort refused;
  const std::string config = manager.dir() + "/gomodprobe.yml";
  std::ofstream(config) << configWith(1, refused.port());
  // 200 ms watchdog: the agent must ping every 100 ms.
  NotifiedDaemon daemon(config, manager.dir() + "/daemon.log",
                        {"NOTIFY_SOCKET=" + manager.path(), "WATCHDOG_USEC=200000", "TZ=UTC"});
  const pid_t pid = daemon.pid();
  std::vector<Notification> seen;

  const auto ready = manager.waitFor("READY=1", seen);
  ASSERT_TRUE(ready) << "no READY=1; log in " << manager.dir();
  // The moment READY=1 arrives, /metrics must already answer (the listener is bound).
  const int port = portIn(ready->text);
  ASSERT_GT(port, 0) << ready->text;
  const auto metrics = testing::httpGet("http://127.0.0.1:" + std::to_string(port) + "/metrics");
  EXPECT_EQ(metrics.status, 200);
  EXPECT_THAT(metrics.body, HasSubstr("gomodprobe_build_info"));
  EXPECT_THAT(ready->text, HasSubstr("STATUS=1 targets, listening on 127.0.0.1:0 (port "));
  EXPECT_EQ(count(seen, ready->text), 1U);

  // Watchdog pings keep coming (at least three after READY).
  std::vector<Notification> pings;
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(manager.waitFor("WATCHDOG=1", pings)) << i;

  // SIGHUP with a changed config: RELOADING=1, then READY=1 with the new target count.
  std::ofstream(config, std::ios::trunc) << configWith(2, refused.port());
  daemon.signal(SIGHUP);
  std::vector<Notification> reload;
  ASSERT_TRUE(manager.waitFor("RELOADING=1", reload));
  const auto reloaded = manager.waitFor("READY=1", reload);
  ASSERT_TRUE(reloaded);
  EXPECT_THAT(reloaded->text, HasSubstr("STATUS=2 targets, listening on 127.0.0.1:0 (port "));

  // A broken config: still READY=1 again (the old config keeps running), STATUS says why.
  std::ofstream(config, std::ios::trunc)
      << "targets:\n  - name: x\n    kind: nope\n    url: https://x.test\n";
  daemon.signal(SIGHUP);
  ASSERT_TRUE(manager.waitFor("RELOADING=1", reload));
  const auto failed = manager.waitFor("READY=1", reload);
  ASSERT_TRUE(failed);
  EXPECT_THAT(failed->text, HasSubstr("last reload failed: " + config + ":3:11"));

  daemon.signal(SIGTERM);
  ASSERT_TRUE(manager.waitFor("STOPPING=1", seen));
  std::vector<Notification> after;
  EXPECT_EQ(daemon.wait(manager, after), 0);
  EXPECT_EQ(count(after, "WATCHDOG=1"), 0U) << "no pings once stopping";

  seen.insert(seen.end(), pings.begin(), pings.end());
  seen.insert(seen.end(), reload.begin(), reload.end());
  for (const auto& s : seen) EXPECT_EQ(s.sender, pid) << "sent by the main process: " << s.text;
}

TEST(SystemdNotifyTest, NoWatchdogPingsWithoutWatchdogUsec) {
  NotifySocket manager;
  ASSERT_TRUE(manager.bound());
  RefusedPort refused;
  const std::string config = manager.dir() + "/gomodprobe.yml";
  std::ofstream(config) << configWith(1, refused.port());
  NotifiedDaemon daemon(config, manager.dir() + "/daemon.log",
                        {"NOTIFY_SOCKET=" + manager.path(), "TZ=UTC"});
  const pid_t pid = daemon.pid();
  std::vector<Notification> seen;
  ASSERT_TRUE(manager.waitFor("READY=1", seen));
  // A reload round trip: the loop has run its timers and tasks meanwhile (the heartbeat, when
  // enabled, pings the moment the loop starts).
  daemon.signal(SIGHUP);
  ASSERT_TRUE(manager.waitFor("RELOADING=1", seen));
  ASSERT_TRUE(manager.waitFor("READY=1", seen));
  daemon.signal(SIGTERM);
  ASSERT_TRUE(manager.waitFor("STOPPING=1", seen));
  EXPECT_EQ(daemon.wait(manager, seen), 0);
  EXPECT_EQ(count(seen, "WATCHDOG=1"), 0U);
  for (const auto& s : seen) EXPECT_EQ(s.sender, pid) << "sent by the main process: " << s.text;
}

}  // namespace
}  // namespace gomodprobe
