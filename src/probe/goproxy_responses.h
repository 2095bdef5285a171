#pragma once
// Parsers for the small GOPROXY protocol responses (go.dev/ref/mod#goproxy-protocol): the
// @v/list body and the JSON of @v/<version>.info and @latest (modfetch's proxyRepo.Versions and
// RevInfo in Go's src/cmd/go/internal/modfetch). Pure functions on untrusted bytes; never throw.

#include <optional>
#include <string>
#include <vector>

namespace gomodprobe::probe {

/// RFC 3339 ("2006-01-02T15:04:05Z", fractional seconds and numeric offsets allowed) → Unix
/// seconds; nullopt for anything else.
[[nodiscard]] std::optional<double> parseRfc3339(const std::string& text);

/// A parsed .info / @latest body.
struct Info {
  std::string version;         ///< "Version"
  std::optional<double> time;  ///< "Time" in Unix seconds, when present
};

/// Parses a .info / @latest body: a JSON object with a string Version and, optionally, an
/// RFC 3339 Time. On failure returns nullopt and sets `error` ("not a JSON object", "no string
/// Version", "Time is not RFC 3339"). The Version is not checked here.
[[nodiscard]] std::optional<Info> parseInfo(const std::string& body, std::string& error);

/// The first field of each non-blank line of an @v/list body (as proxyRepo.Versions reads it).
/// Returns nullopt and sets `error` when a line's first field is not a semantic version (an HTML
/// error page served with 200, say).
[[nodiscard]] std::optional<std::vector<std::string>> parseList(const std::string& body,
                                                                std::string& error);

}  // namespace gomodprobe::probe
