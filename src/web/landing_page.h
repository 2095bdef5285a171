#pragma once

#include <chrono>
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

/// GET /: an HTML page (no JavaScript) with one table row per configured target: last result
/// (ok / FAIL / pending), kind, last run time, duration, per-HTTP-version phases, DNS answers,
/// module and sumdb checks, the failure reason and detail, run counters, and a link to
/// /probe?target=NAME&debug=true. Every string that comes from the configuration or the network is
/// HTML-escaped. Rendered from `targets` at request time; the page reloads itself every
/// `refresh_seconds`.
[[nodiscard]] std::string renderLandingPage(const std::vector<metrics::TargetSnapshot>& targets,
                                            const LandingPageInfo& info);

}  // namespace gomodprobe::web
