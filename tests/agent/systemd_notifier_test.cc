// agent::SystemdNotifier against real AF_UNIX datagram sockets owned by the test (a path in a temp
// dir, and a name in the abstract namespace), with the environment injected. What systemd does
// with the messages is covered by tests/integration/systemd_notify_test.cc (the real binary).

#include "agent/systemd_notifier.h"

#include <gtest/gtest.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <array>
#include <cstddef>
#include <cstring>
#include <filesystem>
#include <map>
#include <string>

#include "mocks/fake_env.h"
#include "net/unique_fd.h"

namespace gomodprobe::agent {
namespace {

using std::chrono::microseconds;

using gomodprobe::testing::fakeEnv;

/// The service manager's end: a bound datagram socket; `address` is what $NOTIFY_SOCKET holds.
class Manager {
 public:
  /// `abstract`: "@name" in the abstract namespace, else a path in a fresh temp dir.
  explicit Manager(bool abstract) : fd_(::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0)) {
    sockaddr_un address{};
    address.sun_family = AF_UNIX;
    std::size_t length = offsetof(sockaddr_un, sun_path);
    if (abstract) {
      static int serial = 0;
      const std::string name =
          "gomodprobe-notifier-test-" + std::to_string(::getpid()) + "-" + std::to_string(++serial);
      address_ = "@" + name;
      std::memcpy(address.sun_path + 1, name.data(), name.size());
      length += 1 + name.size();  // the leading NUL and the name, no terminator
    } else {
      std::string dir = "/tmp/gomodprobe-notifier-XXXXXX";
      if (::mkdtemp(dir.data()) != nullptr) dir_ = dir;
      address_ = dir_ + "/notify.sock";
      std::memcpy(address.sun_path, address_.c_str(), address_.size() + 1);
      length += address_.size() + 1;
    }
    bound_ = ::bind(fd_.get(), reinterpret_cast<const sockaddr*>(&address),
                    static_cast<socklen_t>(length)) == 0;
  }
  ~Manager() {
    if (!dir_.empty()) std::filesystem::remove_all(dir_);
  }
  Manager(const Manager&) = delete;
  Manager& operator=(const Manager&) = delete;

  [[nodiscard]] bool bound() const { return bound_; }
  [[nodiscard]] const std::string& address() const { return address_; }
  /// The next datagram already queued (a local datagram is queued before send() returns), or
  /// nullopt when none is.
  std::optional<std::string> take() {
    std::array<char, 4096> buffer{};
    const ssize_t n = ::recv(fd_.get(), buffer.data(), buffer.size(), MSG_DONTWAIT);
    if (n < 0) return std::nullopt;
    return std::string(buffer.data(), static_cast<std::size_t>(n));
  }

 private:
  net::UniqueFd fd_;
  std::string dir_;
  std::string address_;
  bool bound_ = false;
};

TEST(SystemdNotifierTest, SendsTheStateAsOneDatagramToAPathSocket) {
  Manager manager(/*abstract=*/false);
  ASSERT_TRUE(manager.bound());
  SystemdNotifier notifier(fakeEnv({{"NOTIFY_SOCKET", manager.address()}}));
  EXPECT_TRUE(notifier.notify("READY=1\nSTATUS=2 targets, listening on :9817"));
  EXPECT_EQ(manager.take(), "READY=1\nSTATUS=2 targets, listening on :9817");
  EXPECT_TRUE(notifier.notify("WATCHDOG=1"));
  EXPECT_EQ(manager.take(), "WATCHDOG=1");
  EXPECT_EQ(manager.take(), std::nullopt);
}

TEST(SystemdNotifierTest, SendsToAnAbstractSocketNamedWithAnAt) {
  Manager manager(/*abstract=*/true);
  ASSERT_TRUE(manager.bound());
  SystemdNotifier notifier(fakeEnv({{"NOTIFY_SOCKET", manager.address()}}));
  EXPECT_TRUE(notifier.notify("STOPPING=1"));
  EXPECT_EQ(manager.take(), "STOPPING=1");
}

TEST(SystemdNotifierTest, WithoutAManagerOrWithAnAddressItCannotUseNotifyIsFalse) {
  Manager manager(/*abstract=*/false);
  ASSERT_TRUE(manager.bound());
  for (const std::string& address :
       {std::string(), std::string("notify.sock"), std::string("vsock:2:1234"),
        manager.address() + ".missing", "/" + std::string(200, 'x'), "@" + std::string(200, 'x')}) {
    SCOPED_TRACE(address);
    SystemdNotifier notifier(fakeEnv({{"NOTIFY_SOCKET", address}}));
    EXPECT_FALSE(notifier.notify("READY=1"));
  }
  EXPECT_FALSE(SystemdNotifier(fakeEnv({})).notify("READY=1"));
  // Nothing reached the manager's socket on the way.
  EXPECT_EQ(manager.take(), std::nullopt);
}

TEST(SystemdNotifierTest, WatchdogTimeoutIsAPositiveWatchdogUsecForThisProcess) {
  const std::string self = std::to_string(::getpid());
  EXPECT_EQ(SystemdNotifier(fakeEnv({})).watchdogTimeout(), std::nullopt);
  EXPECT_EQ(SystemdNotifier(fakeEnv({{"WATCHDOG_USEC", "60000000"}})).watchdogTimeout(),
            microseconds(60'000'000));
  EXPECT_EQ(SystemdNotifier(fakeEnv({{"WATCHDOG_USEC", "60000000"}, {"WATCHDOG_PID", self}}))
                .watchdogTimeout(),
            microseconds(60'000'000));
  // Another process's watchdog (WATCHDOG_PID is inherited by children) or a bad PID: none.
  EXPECT_EQ(SystemdNotifier(fakeEnv({{"WATCHDOG_USEC", "60000000"},
                                     {"WATCHDOG_PID", std::to_string(::getpid() + 1)}}))
                .watchdogTimeout(),
            std::nullopt);
  EXPECT_EQ(SystemdNotifier(fakeEnv({{"WATCHDOG_USEC", "60000000"}, {"WATCHDOG_PID", "x"}}))
                .watchdogTimeout(),
            std::nullopt);
  for (const char* bad : {"0", "", "abc", "12s", "-5", " 5", "18446744073709551615"}) {
    SCOPED_TRACE(bad);
    EXPECT_EQ(SystemdNotifier(fakeEnv({{"WATCHDOG_USEC", bad}})).watchdogTimeout(), std::nullopt);
  }
}

}  // namespace
}  // namespace gomodprobe::agent
