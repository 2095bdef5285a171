#include "agent/service_status.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <condition_variable>
#include <mutex>
#include <set>
#include <thread>

#include "agent/agent.h"
#include "metrics/probe_collector.h"
#include "mocks/fake_notifier.h"
#include "net/handles.h"

namespace gomodprobe::agent {
namespace {

using ::testing::ElementsAre;
using testing::FakeNotifier;

TEST(ServiceStatusTest, LifecycleSendsReadyReloadingReadyStopping) {
  FakeNotifier notifier;
  ServiceStatus service(notifier);
  service.ready("3 targets, listening on :9817 (port 9817)");
  service.reloading();
  service.reloaded("4 targets");
  service.stopping();
  EXPECT_THAT(notifier.sent(),
              ElementsAre("READY=1\nSTATUS=3 targets, listening on :9817 (port 9817)",
                          "RELOADING=1\nSTATUS=reloading configuration",
                          "READY=1\nSTATUS=4 targets", "STOPPING=1\nSTATUS=stopping"));
}

TEST(ServiceStatusTest, StatusIsOneLineSoAnErrorCannotInjectAssignments) {
  FakeNotifier notifier;
  ServiceStatus service(notifier);
  // A config error text (file names and messages are user data) with a newline must not become a
  // second assignment such as STOPPING=1.
  service.reloaded("reload failed: /etc/x.yml:1:1: bad\nSTOPPING=1\r\tend");
  ASSERT_EQ(notifier.sent().size(), 1U);
  EXPECT_EQ(notifier.sent()[0],
            "READY=1\nSTATUS=reload failed: /etc/x.yml:1:1: bad STOPPING=1  end");
}

TEST(ServiceStatusTest, StatusIsCutOnACharacterBoundary) {
  // 255 ASCII bytes then "é" (2 bytes): byte 256 is the lead byte, so the cut drops the character.
  const std::string text = std::string(255, 'a') + "\xC3\xA9" + "tail";
  const std::string value = ServiceStatus::statusValue(text);
  EXPECT_EQ(value, std::string(255, 'a'));
  // A character that fits whole is kept.
  const std::string fits = std::string(254, 'a') + "\xC3\xA9" + "tail";
  EXPECT_EQ(ServiceStatus::statusValue(fits), std::string(254, 'a') + "\xC3\xA9");
  EXPECT_EQ(ServiceStatus::statusValue("short"), "short");
}

TEST(ServiceStatusTest, WatchdogPeriodIsHalfTheTimeoutAndAbsentWithoutWatchdog) {
  FakeNotifier notifier;
  ServiceStatus service(notifier);
  EXPECT_FALSE(service.watchdogPeriod().has_value());
  notifier.setWatchdogTimeout(std::chrono::seconds(60));
  EXPECT_EQ(service.watchdogPeriod(), std::chrono::milliseconds(30'000));
  notifier.setWatchdogTimeout(std::chrono::microseconds(1));
  EXPECT_EQ(service.watchdogPeriod(), std::chrono::milliseconds(1)) << "never a busy loop";
  service.watchdogPing();
  EXPECT_THAT(notifier.sent(), ElementsAre("WATCHDOG=1"));
}

TEST(ServiceStatusTest, NoWatchdogPingAfterStopping) {
  FakeNotifier notifier;
  notifier.setWatchdogTimeout(std::chrono::seconds(60));
  ServiceStatus service(notifier);
  service.watchdogPing();
  service.stopping();
  service.watchdogPing();
  EXPECT_THAT(notifier.sent(), ElementsAre("WATCHDOG=1", "STOPPING=1\nSTATUS=stopping"));
}

// The watchdog pings come from the agent's event loop thread (a timer on the loop), so they stop
// when the loop is stuck; the period is the one ServiceStatus derives from WATCHDOG_USEC.
TEST(ServiceStatusTest, AgentHeartbeatPingsFromTheLoopThread) {
  net::NetLibraries libraries;
  SystemClock clock;
  metrics::ProbeCollector collector(metrics::currentBuildInfo());
  FakeNotifier notifier;
  notifier.setWatchdogTimeout(std::chrono::milliseconds(10));
  ServiceStatus service(notifier);
  const auto period = service.watchdogPeriod();
  ASSERT_EQ(period, std::chrono::milliseconds(5));

  std::mutex mutex;
  std::condition_variable changed;
  std::set<std::thread::id> threads;  // guarded by mutex
  int pings = 0;                      // guarded by mutex
  Agent agent(clock, collector);
  agent.setHeartbeat(*period, [&] {
    service.watchdogPing();
    std::lock_guard lock(mutex);
    threads.insert(std::this_thread::get_id());
    ++pings;
    changed.notify_all();
  });
  agent.start(Config{});
  {
    std::unique_lock lock(mutex);
    ASSERT_TRUE(changed.wait_for(lock, std::chrono::seconds(10), [&] { return pings >= 3; }));
  }
  agent.stop();
  std::lock_guard lock(mutex);
  EXPECT_EQ(threads.size(), 1U) << "all pings on one thread, the loop's";
  EXPECT_EQ(threads.count(std::this_thread::get_id()), 0U);
  const auto sent = notifier.sent();
  EXPECT_EQ(sent.size(), static_cast<std::size_t>(pings));
  for (const auto& message : sent) EXPECT_EQ(message, "WATCHDOG=1");
}

}  // namespace
}  // namespace gomodprobe::agent
