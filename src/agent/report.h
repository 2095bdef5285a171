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

/// Where escapeMarkup's output goes.
enum class Markup {
  XmlText,       ///< XML 1.0 character data: & < > and CR as references
  XmlAttribute,  ///< a double- or single-quoted XML attribute value: also " ' tab LF
  Html,          ///< HTML text or attribute value: & < > " and ' (as &#39;), bytes kept as given
};

/// `text` escaped for `markup`, the one escaper of every report and page that shows network data
/// (JUnit details, the landing page's detail cells). For XML, invalid UTF-8 and characters
/// outside XML's Char production (https://www.w3.org/TR/xml/#charsets) become U+FFFD; HTML gets
/// every other byte as it is.
[[nodiscard]] std::string escapeMarkup(std::string_view text, Markup markup);

/// escapeMarkup for XML character data (`attribute` false) or an attribute value (true).
[[nodiscard]] inline std::string xmlEscape(std::string_view text, bool attribute) {
  return escapeMarkup(text, attribute ? Markup::XmlAttribute : Markup::XmlText);
}

}  // namespace gomodprobe::agent
