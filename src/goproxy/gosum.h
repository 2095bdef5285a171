#pragma once

// go.sum lines ("<module> <version>[/go.mod] <hash>"), as read by readGoSum in Go's
// src/cmd/go/internal/modfetch/fetch.go and as returned by checksum database lookups.

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace gomodprobe::goproxy {

/// dirhash of a 1-file tree holding an empty go.mod; readGoSum drops such lines ("old bug").
inline constexpr std::string_view kEmptyGoModHash =
    "h1:G7mAYYxgmS0lVkHyy2hEOLQCFB0DlQFTMLWggykrydY=";

/// One go.sum line.
struct GoSumLine {
  std::string module_path;  // e.g. "rsc.io/quote"
  std::string version;      // canonical semver, without any "/go.mod" suffix
  bool go_mod = false;      // true for "<version>/go.mod" lines (hash of the .mod file only)
  std::string hash;         // e.g. "h1:" + base64 of 32 bytes

  bool operator==(const GoSumLine&) const = default;
};

/// A parsed line or the reason it is malformed.
struct GoSumLineResult {
  std::optional<GoSumLine> line;  // set on success
  std::string error;              // set on failure

  [[nodiscard]] bool ok() const { return line.has_value(); }
};

/// Parses one line (without its '\n'). Fields are separated by ASCII white space, as
/// strings.Fields does for ASCII text. Stricter than readGoSum, which only counts fields: the
/// module path must pass checkPath, the version must be canonical semver, and the hash must be
/// "h1:" + standard base64 of a 32-byte digest (other "hN:" algorithms are accepted when the
/// part after the colon is non-empty, for forward compatibility). Blank lines are an error here.
[[nodiscard]] GoSumLineResult parseGoSumLine(std::string_view line);

/// A parsed go.sum file or the first error.
struct GoSumFileResult {
  std::vector<GoSumLine> lines;
  std::string error;  // "line N: ..." (1-based) on failure
  std::size_t error_line = 0;

  [[nodiscard]] bool ok() const { return error.empty(); }
};

/// Parses a whole go.sum: blank lines are skipped and kEmptyGoModHash lines dropped, as readGoSum
/// does; any other malformed line makes the result an error.
[[nodiscard]] GoSumFileResult parseGoSum(std::string_view data);

}  // namespace gomodprobe::goproxy
