// Fuzzes the GOPROXY list parser and linter (goproxy::parseGoProxy, lintGoProxy, servingEntry).
// Invariants: a parsed list has at least one entry, "direct"/"off" only as the last one, and no
// empty URL; servingEntry returns -1 or an index of the list; lint findings have a message.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>
#include <vector>

#include "goproxy/goproxy_list.h"

namespace gp = gomodprobe::goproxy;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view value(reinterpret_cast<const char*>(data), size);
  const auto list = gp::parseGoProxy(value);
  if (list.ok()) {
    if (list.entries.empty()) std::abort();
    for (std::size_t i = 0; i < list.entries.size(); ++i) {
      const auto& entry = list.entries[i];
      if (entry.url.empty()) std::abort();
      if ((entry.direct || entry.off) && i + 1 != list.entries.size()) std::abort();
    }
    // Every entry answers 404, then every entry fails with a network error.
    for (const int status : {404, gp::kNetworkError, 200}) {
      const std::vector<int> outcomes(list.entries.size(), status);
      const int serving = gp::servingEntry(list.entries, outcomes);
      if (serving < -1 || serving >= static_cast<int>(list.entries.size())) std::abort();
    }
  } else if (!list.entries.empty()) {
    std::abort();
  }
  for (const auto& problem : gp::lintGoProxy(value)) {
    if (problem.message.empty()) std::abort();
  }
  return 0;
}
