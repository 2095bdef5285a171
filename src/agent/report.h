#pragma once

#include <nlohmann/json_fwd.hpp>
#include <string>
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

}  // namespace gomodprobe::agent
