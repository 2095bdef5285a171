#include "scheduler/scheduler.h"

#include <algorithm>

namespace gomodprobe::scheduler {

Scheduler::Scheduler(const Clock& clock, int max_concurrent)
    : clock_(clock), anchor_(clock.steadyNow()), max_concurrent_(std::max(1, max_concurrent)) {}

std::chrono::milliseconds Scheduler::offsetFor(std::string_view name,
                                               std::chrono::milliseconds interval) {
  std::uint64_t hash = 14695981039346656037ULL;  // FNV-1a 64
  for (const char c : name) {
    hash ^= static_cast<unsigned char>(c);
    hash *= 1099511628211ULL;
  }
  const auto period = static_cast<std::uint64_t>(std::max<std::int64_t>(1, interval.count()));
  return std::chrono::milliseconds(static_cast<std::int64_t>(hash % period));
}

SteadyTime Scheduler::slotAfter(std::string_view name, std::chrono::milliseconds interval,
                                SteadyTime after, bool inclusive) const {
  const SteadyTime first = anchor_ + offsetFor(name, interval);
  if (after < first || (inclusive && after == first)) return first;
  const auto elapsed = after - first;
  auto k = elapsed / interval;  // whole intervals since the first slot
  SteadyTime slot = first + k * interval;
  if (slot < after || (!inclusive && slot == after)) slot += interval;
  return slot;
}

void Scheduler::setTargets(const std::vector<ScheduledTarget>& targets) {
  const SteadyTime now = clock_.steadyNow();
  std::map<std::string, Entry> next;
  for (const auto& target : targets) {
    auto old = entries_.find(target.name);
    if (old != entries_.end() && old->second.interval == target.interval) {
      next.emplace(target.name, old->second);
      continue;
    }
    Entry entry;
    entry.interval = target.interval;
    // A target that keeps its name keeps running state even if its interval changed.
    entry.running = old != entries_.end() && old->second.running;
    entry.run = entry.running ? old->second.run : 0;
    entry.next = slotAfter(target.name, target.interval, now, /*inclusive=*/entries_.empty());
    next.emplace(target.name, entry);
  }
  // Runs of removed targets no longer count against the cap.
  int running = 0;
  for (const auto& [name, entry] : next) running += entry.running ? 1 : 0;
  in_flight_ = running;
  entries_ = std::move(next);
}

void Scheduler::setMaxConcurrent(int max_concurrent) {
  max_concurrent_ = std::max(1, max_concurrent);
}

std::vector<StartOrder> Scheduler::takeDue() {
  const SteadyTime now = clock_.steadyNow();
  std::vector<std::pair<SteadyTime, std::string>> due;
  for (auto& [name, entry] : entries_) {
    if (entry.next > now) continue;
    if (entry.running) {
      // The previous run is still going: this slot is lost, not queued.
      while (entry.next <= now) {
        entry.next += entry.interval;
        ++skipped_;
      }
      continue;
    }
    due.emplace_back(entry.next, name);
  }
  std::sort(due.begin(), due.end());
  std::vector<StartOrder> orders;
  for (auto& [planned, name] : due) {
    if (in_flight_ >= max_concurrent_) break;  // the rest wait for a free slot
    Entry& entry = entries_[name];
    entry.running = true;
    entry.run = ++last_run_;
    ++in_flight_;
    while (entry.next <= now) entry.next += entry.interval;
    orders.push_back(
        StartOrder{name, planned, std::chrono::duration<double>(now - planned).count(), entry.run});
  }
  return orders;
}

void Scheduler::finished(const std::string& target) {
  auto it = entries_.find(target);
  if (it == entries_.end() || !it->second.running) return;
  finished(target, it->second.run);
}

bool Scheduler::finished(const std::string& target, std::uint64_t run) {
  auto it = entries_.find(target);
  if (it == entries_.end() || !it->second.running || it->second.run != run) return false;
  it->second.running = false;
  --in_flight_;
  return true;
}

std::optional<SteadyTime> Scheduler::nextWakeup() const {
  if (in_flight_ >= max_concurrent_) return std::nullopt;
  std::optional<SteadyTime> earliest;
  for (const auto& [name, entry] : entries_) {
    if (entry.running) continue;
    if (!earliest || entry.next < *earliest) earliest = entry.next;
  }
  return earliest;
}

}  // namespace gomodprobe::scheduler
