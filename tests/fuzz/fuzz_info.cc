// Fuzzes the goproxy probe's response parsers: the .info / @latest JSON (probe::parseInfo, with
// probe::parseRfc3339 for its Time) and the @v/list body (probe::parseList). Invariants: exactly
// one of result and error; a parsed Time is finite; listed versions are non-empty.
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>

#include "probe/goproxy_responses.h"

namespace probe = gomodprobe::probe;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string body(reinterpret_cast<const char*>(data), size);
  std::string error;
  if (const auto info = probe::parseInfo(body, error)) {
    if (!error.empty()) std::abort();
    if (info->time && !std::isfinite(*info->time)) std::abort();
  } else if (error.empty()) {
    std::abort();
  }
  if (const auto time = probe::parseRfc3339(body); time && !std::isfinite(*time)) std::abort();
  error.clear();
  if (const auto versions = probe::parseList(body, error)) {
    if (!error.empty()) std::abort();
    for (const auto& version : *versions) {
      if (version.empty()) std::abort();
    }
  } else if (error.empty()) {
    std::abort();
  }
  return 0;
}
