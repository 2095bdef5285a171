#include "agent/service_status.h"

#include <algorithm>

namespace gomodprobe::agent {

void ServiceStatus::ready(std::string_view status) {
  notifier_.notify("READY=1\nSTATUS=" + statusValue(status));
}

void ServiceStatus::reloading() { notifier_.notify("RELOADING=1\nSTATUS=reloading configuration"); }

void ServiceStatus::reloaded(std::string_view status) {
  notifier_.notify("READY=1\nSTATUS=" + statusValue(status));
}

void ServiceStatus::stopping() {
  stopping_ = true;
  notifier_.notify("STOPPING=1\nSTATUS=stopping");
}

void ServiceStatus::watchdogPing() {
  if (!stopping_) notifier_.notify("WATCHDOG=1");
}

std::optional<std::chrono::milliseconds> ServiceStatus::watchdogPeriod() const {
  const auto timeout = notifier_.watchdogTimeout();
  if (!timeout) return std::nullopt;
  return std::max(std::chrono::milliseconds(1),
                  std::chrono::duration_cast<std::chrono::milliseconds>(*timeout / 2));
}

std::string ServiceStatus::statusValue(std::string_view text) {
  std::string out(text.substr(0, kMaxStatusBytes));
  // Do not end inside a multi-byte UTF-8 sequence: drop continuation bytes and their lead byte.
  if (text.size() > kMaxStatusBytes) {
    std::size_t end = out.size();
    while (end > 0 && (static_cast<unsigned char>(out[end - 1]) & 0xC0U) == 0x80U) --end;
    if (end > 0 && (static_cast<unsigned char>(out[end - 1]) & 0x80U) != 0) {
      const auto lead = static_cast<unsigned char>(out[end - 1]);
      const std::size_t need = lead >= 0xF0 ? 4 : lead >= 0xE0 ? 3 : 2;
      if (out.size() - (end - 1) < need) out.resize(end - 1);
    }
  }
  for (char& c : out) {
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7F) c = ' ';
  }
  return out;
}

}  // namespace gomodprobe::agent
