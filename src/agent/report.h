#pragma once

#include <nlohmann/json_fwd.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "gomodprobe/probe.h"

namespace gomodprobe::agent {

/// `gomodprobe check --output text`: per target a summary line (target, kind, result, reason,
/// duration), then one line per resolver and one per HTTP version with status, negotiated version
/// and the phases in milliseconds ("-" for a phase not reached).
[[nodiscard]] std::string formatText(const std::vector<ProbeResult>& results);

/// `--output json`: an array with one object per target (all fields of ProbeResult; durations in
/// seconds; unreached phases omitted).
[[nodiscard]] nlohmann::json toJson(const std::vector<ProbeResult>& results);

/// `--output junit`: JUnit XML (the schema Jenkins, GitLab and GitHub test reporters read) with one
/// <testsuite name="gomodprobe"> and one <testcase name="TARGET" classname="KIND" time="SECONDS">
/// per target; a failed target has <failure message="REASON" type="REASON"> holding the detail
/// and the target's text report lines, every target a <system-out> with those lines. Network data
/// (details, names) is escaped; bytes that are not UTF-8 or not XML characters become U+FFFD.
[[nodiscard]] std::string toJunit(const std::vector<ProbeResult>& results);

/// `text` escaped for XML 1.0 character data (`attribute` false) or a double- or single-quoted
/// attribute value (`attribute` true: quotes, tab, CR and LF as references too). Invalid UTF-8
/// and characters outside XML's Char production become U+FFFD.
[[nodiscard]] std::string xmlEscape(std::string_view text, bool attribute);

}  // namespace gomodprobe::agent
