// Fuzzes go.sum parsing (goproxy::parseGoSumLine, parseGoSum). Invariant: a parsed line,
// formatted back as "<module> <version>[/go.mod] <hash>", parses to the same line; a whole file
// parses to lines that each round-trip the same way.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "goproxy/gosum.h"

namespace gp = gomodprobe::goproxy;

namespace {

std::string format(const gp::GoSumLine& line) {
  return line.module_path + " " + line.version + (line.go_mod ? "/go.mod " : " ") + line.hash;
}

void checkRoundTrip(const gp::GoSumLine& line) {
  const auto again = gp::parseGoSumLine(format(line));
  if (!again.ok() || *again.line != line) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  const auto line = gp::parseGoSumLine(text);
  if (line.ok() != line.error.empty()) std::abort();
  if (line.ok()) checkRoundTrip(*line.line);
  const auto file = gp::parseGoSum(text);
  if (file.ok()) {
    for (const auto& parsed : file.lines) checkRoundTrip(parsed);
  } else if (file.error_line == 0) {
    std::abort();
  }
  return 0;
}
