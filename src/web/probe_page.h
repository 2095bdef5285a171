#pragma once

#include <string>
#include <string_view>

#include "gomodprobe/config.h"
#include "gomodprobe/probe.h"

namespace gomodprobe::web {

/// GET /probe?target=NAME: the metrics of this one run in the Prometheus text format (0.0.4), as
/// a fresh ProbeCollector holding only this target and only this result exposes them
/// (gomodprobe_probes_total is 1, histograms hold one observation). Agent-wide families (build
/// info, scheduler, config reload, in flight, cross-target agreement) are left out, as
/// blackbox_exporter's /probe leaves out its own process metrics.
[[nodiscard]] std::string probeMetricsText(const TargetConfig& target, const ProbeResult& result);

/// GET /probe?target=NAME&debug=true: a plain-text trace of the run: a summary line, the
/// target's configuration (header values and URL credentials redacted), the step-by-step report
/// of `gomodprobe check` (DNS per resolver, each HTTP attempt with its phases, module fetch steps,
/// sumdb verification), and the metrics probeMetricsText() returns.
[[nodiscard]] std::string probeDebugText(const TargetConfig& target, const ProbeResult& result);

/// Replaces the user-info of every URL in `text` ("https://user:pass@host", also inside a GOPROXY
/// list) with "<redacted>".
[[nodiscard]] std::string redactUrlCredentials(std::string_view text);

}  // namespace gomodprobe::web
