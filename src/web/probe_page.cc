#include "web/probe_page.h"

#include <fmt/format.h>
#include <prometheus/text_serializer.h>

#include <chrono>
#include <sstream>

#include "agent/report.h"
#include "metrics/probe_collector.h"

namespace gomodprobe::web {

namespace {

// A family belongs to the target when every sample carries its `target` (or `chain`) label.
bool isPerTarget(const prometheus::MetricFamily& family) {
  if (family.metric.empty()) return false;
  for (const auto& metric : family.metric) {
    bool found = false;
    for (const auto& label : metric.label) {
      if (label.name == "target" || label.name == "chain") found = true;
    }
    if (!found) return false;
  }
  return true;
}

std::string durationText(std::chrono::milliseconds d) {
  return d.count() % 1000 == 0 ? fmt::format("{}s", d.count() / 1000)
                               : fmt::format("{}ms", d.count());
}

}  // namespace

std::string redactUrlCredentials(std::string_view text) {
  std::string out;
  std::size_t pos = 0;
  while (pos < text.size()) {
    const std::size_t scheme = text.find("://", pos);
    if (scheme == std::string_view::npos) break;
    const std::size_t authority = scheme + 3;
    out.append(text.substr(pos, authority - pos));
    const std::size_t end = text.find_first_of("/,| ?#", authority);
    const std::string_view host_part =
        text.substr(authority, (end == std::string_view::npos ? text.size() : end) - authority);
    const std::size_t at = host_part.rfind('@');
    if (at != std::string_view::npos) {
      out += "<redacted>";
      out.append(host_part.substr(at));
    } else {
      out.append(host_part);
    }
    pos = authority + host_part.size();
  }
  out.append(text.substr(std::min(pos, text.size())));
  return out;
}

std::string probeMetricsText(const TargetConfig& target, const ProbeResult& result) {
  metrics::ProbeCollector collector(metrics::BuildInfo{});
  collector.setTargets({target});
  collector.record(result);
  std::vector<prometheus::MetricFamily> families;
  for (auto& family : collector.Collect()) {
    if (isPerTarget(family)) families.push_back(std::move(family));
  }
  std::ostringstream out;
  prometheus::TextSerializer().Serialize(out, families);
  return out.str();
}

std::string probeDebugText(const TargetConfig& target, const ProbeResult& result) {
  std::string out = fmt::format("Probe of target \"{}\" ({}): {}{} in {:.1f}ms\n\n", target.name,
                                toString(target.kind), result.success ? "success" : "FAILED",
                                result.success ? "" : fmt::format(" ({})", toLabel(result.reason)),
                                result.duration_seconds * 1000.0);

  out += "Target configuration:\n";
  if (!target.url.empty()) {
    out += fmt::format("  url: {}\n", redactUrlCredentials(target.requestUrl()));
  }
  std::string versions;
  for (auto v : target.http_versions)
    versions += (versions.empty() ? "" : ", ") + std::string(toString(v));
  out += fmt::format("  http_versions: {}\n", versions);
  if (target.require_http2) out += "  require_http2: true\n";
  std::string resolvers;
  for (const auto& r : target.resolvers) resolvers += (resolvers.empty() ? "" : ", ") + r.label();
  out += fmt::format("  resolvers: {}\n  ip_protocol: {}\n  timeout: {}\n  interval: {}\n",
                     resolvers, toString(target.ip_protocol), durationText(target.timeout),
                     durationText(target.interval));
  if (!target.ca_file.empty()) out += fmt::format("  ca_file: {}\n", target.ca_file);
  for (const auto& [name, value] : target.headers) {
    out += fmt::format("  header {}: <redacted>\n", name);
  }
  for (const auto& m : target.modules) out += fmt::format("  module: {}\n", m.text());
  if (!target.sumdb.empty())
    out += fmt::format("  sumdb: {}\n", redactUrlCredentials(target.sumdb));
  if (!target.goproxy.empty()) {
    out += fmt::format("  goproxy: {}\n", redactUrlCredentials(target.goproxy));
  }

  out += "\nSteps:\n" + agent::formatText({result});
  out += "\nMetrics that would have been returned:\n" + probeMetricsText(target, result);
  return out;
}

}  // namespace gomodprobe::web
