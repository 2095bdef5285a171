#pragma once
// Process figures the benchmarks print: RSS fields of /proc/self/status, the peak RSS reset, and
// the load average (Linux).

#include <cstdint>
#include <cstdio>
#include <fstream>
#include <string>
#include <string_view>

namespace gomodprobe::bench {

/// A "VmXXX:  N kB" field of /proc/self/status, in bytes (0 when unavailable).
inline std::uint64_t procStatusBytes(std::string_view field) {
  std::ifstream in("/proc/self/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.starts_with(field) && line.size() > field.size() && line[field.size()] == ':') {
      return std::stoull(line.substr(field.size() + 1)) * 1024;
    }
  }
  return 0;
}

/// Resets VmHWM to the current RSS (Linux >= 4.0). False when not permitted.
inline bool resetPeakRss() {
  std::FILE* f = std::fopen("/proc/self/clear_refs", "w");
  if (f == nullptr) return false;
  const bool ok = std::fputs("5", f) >= 0;
  return (std::fclose(f) == 0) && ok;
}

/// "1 5 15" minute load averages of /proc/loadavg.
inline std::string loadAverage() {
  std::ifstream in("/proc/loadavg");
  std::string one;
  std::string five;
  std::string fifteen;
  in >> one >> five >> fifteen;
  return one + " " + five + " " + fifteen;
}

}  // namespace gomodprobe::bench
