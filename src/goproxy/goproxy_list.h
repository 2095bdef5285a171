#pragma once

// GOPROXY list semantics, following proxyList and TryProxies in Go 1.19's
// src/cmd/go/internal/modfetch/proxy.go (URL checks from newProxyRepo there and net/url.Parse),
// the default from src/cmd/go/internal/cfg/cfg.go, and https://go.dev/ref/mod#goproxy-protocol.

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace gomodprobe::goproxy {

/// GOPROXY's value when the variable is empty or unset (cfg.go: envOr).
inline constexpr std::string_view kDefaultGoProxy = "https://proxy.golang.org,direct";

/// One entry of a parsed GOPROXY list (proxy.go's proxySpec).
struct ProxyEntry {
  /// The proxy base URL with "https://" added to scheme-less host names and one trailing '/'
  /// removed (newProxyRepo trims it before appending "/" + escaped module path); "direct" or
  /// "off" for the keywords.
  std::string url;
  bool direct = false;  // "direct": fetch from the VCS; always the last entry
  bool off = false;     // "off": fail; always the last entry
  /// The separator after this entry was '|': any error falls through to the next entry. After
  /// ',' (or at the end) only "not found" (HTTP 404/410) does.
  bool fallback_on_any_error = false;

  bool operator==(const ProxyEntry&) const = default;
};

/// The parsed list, or the error the go command reports for the value.
struct ProxyListResult {
  std::vector<ProxyEntry> entries;
  std::string error;

  [[nodiscard]] bool ok() const { return error.empty(); }
};

/// Parses a GOPROXY value like proxyList(): split at each ',' or '|', trim ASCII/Unicode-space
/// around entries, skip empty entries, stop after "off" or "direct" (later entries are ignored),
/// prefix "https://" to entries containing '.', ':' or '/' but no ":/" and not an absolute path,
/// and reject URLs whose scheme is missing or not http/https/file. An empty value means
/// kDefaultGoProxy; a non-empty value without entries (" ", ",") is an error. The "noproxy"
/// entry that GONOPROXY adds is not modelled.
[[nodiscard]] ProxyListResult parseGoProxy(std::string_view value);

/// How serious a lint finding is.
enum class LintSeverity { Error, Warning };

/// A finding about a GOPROXY value.
struct LintProblem {
  LintSeverity severity = LintSeverity::Warning;
  std::string message;     // what is wrong and what the go command does with it
  std::string suggestion;  // how to fix it; usually a corrected GOPROXY value
};

/// Checks a GOPROXY value for mistakes: empty value (warning: the default is used), no entries,
/// spaces around entries (warning: trimmed by go, not by every tool), ';' used as a separator,
/// "Direct"/"OFF" in the wrong case (go treats them as URLs and fails), missing or unknown URL
/// schemes (error), and entries after "direct"/"off" that are never consulted (warning).
[[nodiscard]] std::vector<LintProblem> lintGoProxy(std::string_view value);

/// The outcome of a request to a proxy: an HTTP status, or kNetworkError.
inline constexpr int kNetworkError = -1;

/// Which entry ends up serving a request, following TryProxies: entries are tried in order; the
/// first whose outcome is HTTP 200 serves (web.Response.Err accepts exactly 200, so other 2xx
/// count as errors); "direct" serves itself (its outcome is not consulted); "off" fails. After a
/// failure the next entry is tried only if the entry's separator was '|', or the failure was
/// "not found" (404 or 410). `outcomes[i]` is entry i's status (or kNetworkError for a network
/// error or timeout). Returns the serving index, or -1 when the request fails (including when
/// `outcomes` runs out before a decision).
[[nodiscard]] int servingEntry(const std::vector<ProxyEntry>& entries,
                               const std::vector<int>& outcomes);

}  // namespace gomodprobe::goproxy
