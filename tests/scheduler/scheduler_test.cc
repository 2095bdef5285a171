#include "scheduler/scheduler.h"

#include <gtest/gtest.h>

#include <set>

#include "mocks/fake_clock.h"

namespace gomodprobe::scheduler {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;
using testing::FakeClock;

std::vector<std::string> names(const std::vector<StartOrder>& orders) {
  std::vector<std::string> out;
  for (const auto& order : orders) out.push_back(order.target);
  return out;
}

TEST(SchedulerTest, OffsetIsDeterministicAndWithinInterval) {
  const milliseconds interval = seconds(30);
  const auto a1 = Scheduler::offsetFor("proxy-golang-org", interval);
  const auto a2 = Scheduler::offsetFor("proxy-golang-org", interval);
  EXPECT_EQ(a1, a2);
  std::set<std::int64_t> seen;
  for (int i = 0; i < 200; ++i) {
    const auto offset = Scheduler::offsetFor("target-" + std::to_string(i), interval);
    EXPECT_GE(offset.count(), 0);
    EXPECT_LT(offset, interval);
    seen.insert(offset.count());
  }
  // 200 names over 30000 ms: a decent hash gives (nearly) all-distinct phases.
  EXPECT_GT(seen.size(), 190U);
}

TEST(SchedulerTest, FirstRunAtOffsetThenEveryInterval) {
  FakeClock clock;
  Scheduler scheduler(clock, 10);
  const milliseconds interval = seconds(10);
  scheduler.setTargets({{"a", interval}});
  const auto offset = Scheduler::offsetFor("a", interval);

  ASSERT_TRUE(scheduler.nextWakeup().has_value());
  EXPECT_EQ(*scheduler.nextWakeup() - clock.steadyNow(), offset);
  clock.advance(offset - milliseconds(1));
  EXPECT_TRUE(scheduler.takeDue().empty());
  clock.advance(milliseconds(1));
  auto due = scheduler.takeDue();
  ASSERT_EQ(due.size(), 1U);
  EXPECT_EQ(due[0].target, "a");
  EXPECT_DOUBLE_EQ(due[0].lag_seconds, 0.0);
  scheduler.finished("a");

  ASSERT_TRUE(scheduler.nextWakeup().has_value());
  EXPECT_EQ(*scheduler.nextWakeup() - clock.steadyNow(), interval);
  clock.advance(interval + milliseconds(250));
  due = scheduler.takeDue();
  ASSERT_EQ(due.size(), 1U);
  EXPECT_NEAR(due[0].lag_seconds, 0.25, 1e-9);
}

TEST(SchedulerTest, NeverStartsATargetWhileItsPreviousRunIsInFlight) {
  FakeClock clock;
  Scheduler scheduler(clock, 10);
  const milliseconds interval = seconds(5);
  scheduler.setTargets({{"slow", interval}});
  clock.advance(Scheduler::offsetFor("slow", interval));
  ASSERT_EQ(scheduler.takeDue().size(), 1U);
  EXPECT_EQ(scheduler.inFlight(), 1);

  // Three slots pass while the run is still going: none of them starts a second run.
  for (int i = 0; i < 3; ++i) {
    clock.advance(interval);
    EXPECT_TRUE(scheduler.takeDue().empty()) << "slot " << i;
  }
  EXPECT_EQ(scheduler.skippedRuns(), 3U);
  scheduler.finished("slow");
  EXPECT_EQ(scheduler.inFlight(), 0);
  // The next slot (not a burst of the skipped ones) starts it again.
  EXPECT_TRUE(scheduler.takeDue().empty());
  clock.advance(interval);
  EXPECT_EQ(scheduler.takeDue().size(), 1U);
}

TEST(SchedulerTest, ConcurrencyCapDelaysRunsAndReportsTheirLag) {
  FakeClock clock;
  Scheduler scheduler(clock, 2);
  const milliseconds interval = seconds(60);
  std::vector<ScheduledTarget> targets;
  for (int i = 0; i < 5; ++i) targets.push_back({"t" + std::to_string(i), interval});
  scheduler.setTargets(targets);
  clock.advance(interval);  // every first slot has passed

  auto first = scheduler.takeDue();
  EXPECT_EQ(first.size(), 2U);
  EXPECT_EQ(scheduler.inFlight(), 2);
  EXPECT_FALSE(scheduler.nextWakeup().has_value()) << "all slots taken: wait for a finish";
  EXPECT_TRUE(scheduler.takeDue().empty());

  clock.advance(milliseconds(500));
  scheduler.finished(first[0].target);
  auto second = scheduler.takeDue();
  ASSERT_EQ(second.size(), 1U);
  EXPECT_GE(second[0].lag_seconds, 0.5);
  // Earliest planned first: the order follows the planned slot, which follows the offsets.
  EXPECT_LE(first[1].planned, second[0].planned);
}

TEST(SchedulerTest, ReloadKeepsPhaseAndRunningStateOfKeptTargets) {
  FakeClock clock;
  Scheduler scheduler(clock, 10);
  const milliseconds interval = seconds(20);
  scheduler.setTargets({{"keep", interval}, {"drop", interval}});
  clock.advance(interval);
  auto due = scheduler.takeDue();
  ASSERT_EQ(names(due).size(), 2U);
  EXPECT_EQ(scheduler.inFlight(), 2);

  scheduler.setTargets({{"keep", interval}, {"new", interval}});
  EXPECT_EQ(scheduler.inFlight(), 1) << "the removed target's run no longer counts";
  scheduler.finished("drop");  // ignored
  EXPECT_EQ(scheduler.inFlight(), 1);
  // "keep" is still running: its next slot is skipped, not doubled.
  clock.advance(interval);
  for (const auto& order : scheduler.takeDue()) EXPECT_NE(order.target, "keep");
  scheduler.finished("keep");
  EXPECT_EQ(scheduler.inFlight(), 1) << "only 'new' may be running now";
}

TEST(SchedulerTest, RunOfARemovedTargetDoesNotEndTheRunOfItsReaddedNamesake) {
  FakeClock clock;
  Scheduler scheduler(clock, 10);
  const milliseconds interval = seconds(10);
  scheduler.setTargets({{"a", interval}});
  clock.advance(interval);
  const auto old_run = scheduler.takeDue();
  ASSERT_EQ(old_run.size(), 1U);

  // Two reloads while that run hangs: "a" removed, then back.
  scheduler.setTargets({});
  scheduler.setTargets({{"a", interval}});
  clock.advance(interval);
  const auto new_run = scheduler.takeDue();
  ASSERT_EQ(new_run.size(), 1U);
  EXPECT_NE(new_run[0].run, old_run[0].run);
  EXPECT_EQ(scheduler.inFlight(), 1);

  // The old run ends: it belongs to the removed target, not to the new run.
  scheduler.finished("a", old_run[0].run);
  EXPECT_EQ(scheduler.inFlight(), 1) << "the new run is still going";
  clock.advance(interval);
  EXPECT_TRUE(scheduler.takeDue().empty()) << "never two runs of one target at once";
  scheduler.finished("a", new_run[0].run);
  EXPECT_EQ(scheduler.inFlight(), 0);
  clock.advance(interval);
  EXPECT_EQ(scheduler.takeDue().size(), 1U);
}

}  // namespace
}  // namespace gomodprobe::scheduler
