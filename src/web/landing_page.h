#pragma once

#include <chrono>
#include <cstddef>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "agent/report.h"
#include "metrics/probe_collector.h"

namespace gomodprobe::web {

/// Escapes & < > " ' for HTML text and attribute values (agent::escapeMarkup, Markup::Html).
[[nodiscard]] inline std::string htmlEscape(std::string_view text) {
  return agent::escapeMarkup(text, agent::Markup::Html);
}

/// Percent-encodes everything but RFC 3986 unreserved characters (for a query value).
[[nodiscard]] std::string urlEncode(std::string_view text);

struct LandingPageInfo {
  std::string version;                        ///< gomodprobe version shown in the header
  std::chrono::system_clock::time_point now;  ///< render time (for "N s ago")
  int refresh_seconds = 10;                   ///< <meta http-equiv="refresh">; 0: none
};

/// Receives the page in pieces, in order; the pieces joined are the page.
using PageWriter = std::function<void(std::string_view)>;

/// Bytes of HTML gathered before they are handed to the PageWriter (a row is ~0.5 KB).
inline constexpr std::size_t kLandingFlushBytes = std::size_t{64} * 1024;

/// GET /: an HTML page (no JavaScript) with one table row per configured target: last result
/// (ok / FAIL / pending), kind, last run time, duration, per-HTTP-version phases, DNS answers,
/// module and sumdb checks, the failure reason and detail, run counters, and a link to
/// /probe?target=NAME&debug=true. Every string that comes from the configuration or the network is
/// HTML-escaped. Rendered from `targets` at request time; the page reloads itself every
/// `refresh_seconds`.
[[nodiscard]] std::string renderLandingPage(const std::vector<metrics::TargetSnapshot>& targets,
                                            const LandingPageInfo& info);

/// The same page handed to `write` in pieces of about `flush_bytes` (whole rows), so that a page
/// of 10,000 targets (~5 MB) is never held whole: the web server streams it chunked.
void renderLandingPage(const std::vector<metrics::TargetSnapshot>& targets,
                       const LandingPageInfo& info, const PageWriter& write,
                       std::size_t flush_bytes = kLandingFlushBytes);

}  // namespace gomodprobe::web
