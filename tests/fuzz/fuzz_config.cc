// Fuzzes config::parseConfig with arbitrary YAML text. The only exception it may throw is the
// documented ConfigError, whose position must be a valid 1-based (or 0 = unknown) line/column.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "config/config_loader.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view yaml(reinterpret_cast<const char*>(data), size);
  try {
    const auto config = gomodprobe::config::parseConfig(yaml, "fuzz.yml");
    for (const auto& target : config.targets) {
      if (target.name.empty()) std::abort();  // every target has a (unique) name
    }
  } catch (const gomodprobe::config::ConfigError& e) {
    if (e.line() < 0 || e.column() < 0 || e.file() != "fuzz.yml") std::abort();
  }
  return 0;
}
