#include "web/landing_page.h"

#include <fmt/format.h>

#include <array>
#include <ctime>

#include "gomodprobe/clock.h"

namespace gomodprobe::web {

namespace {

std::string ms(std::optional<double> seconds) {
  return seconds ? fmt::format("{:.1f}&nbsp;ms", *seconds * 1000.0) : std::string("-");
}

std::string utcTime(double unix_seconds) {
  const auto t = static_cast<std::time_t>(unix_seconds);
  std::tm tm{};
  if (gmtime_r(&t, &tm) == nullptr) return "-";
  std::array<char, 32> buffer{};
  const std::size_t n = std::strftime(buffer.data(), buffer.size(), "%Y-%m-%d %H:%M:%S UTC", &tm);
  return {buffer.data(), n};
}

std::string ago(double then, std::chrono::system_clock::time_point now) {
  const double seconds = toUnixSeconds(now) - then;
  if (seconds < 0) return "just now";
  if (seconds < 120) return fmt::format("{:.0f}&nbsp;s ago", seconds);
  if (seconds < 7200) return fmt::format("{:.0f}&nbsp;min ago", seconds / 60);
  return fmt::format("{:.1f}&nbsp;h ago", seconds / 3600);
}

std::string versionText(double version) {
  if (version == 0) return "none";
  return version == 2 || version == 3 ? fmt::format("HTTP/{:.0f}", version)
                                      : fmt::format("HTTP/{:.1f}", version);
}

// The "phases" cell: one line per resolver, HTTP attempt, module and sumdb check.
std::string phasesCell(const ProbeResult& r) {
  std::string out;
  for (const auto& d : r.dns) {
    std::string answers;
    for (const auto& a : d.ipv4) answers += (answers.empty() ? "" : ", ") + a;
    for (const auto& a : d.ipv6) answers += (answers.empty() ? "" : ", ") + a;
    out += fmt::format("<div class=\"line\">dns {} {} &rarr; {}</div>", htmlEscape(d.resolver),
                       ms(d.duration_seconds),
                       d.reason == FailureReason::None
                           ? htmlEscape(answers)
                           : "<span class=\"bad\">" + htmlEscape(toLabel(d.reason)) + "</span>");
  }
  if (r.resolvers_agree && !*r.resolvers_agree) {
    out += "<div class=\"line bad\">resolvers disagree</div>";
  }
  for (const auto& h : r.http) {
    std::string phases;
    for (std::size_t p = 0; p < kPhaseCount; ++p) {
      if (!h.phases[p]) continue;
      phases += fmt::format("{}{} {}", phases.empty() ? "" : ", ", toLabel(static_cast<Phase>(p)),
                            ms(h.phases[p]));
    }
    out += fmt::format(
        R"(<div class="line http"><b>http/{}</b> <span class="{}">{}</span> {}: {}{}</div>)",
        toString(h.requested), h.success ? "good" : "bad", h.success ? "ok" : "FAIL",
        h.negotiated_version == 0
            ? std::string("no response")
            : fmt::format("status {} via {}", h.status_code, versionText(h.negotiated_version)),
        phases.empty() ? "no phase reached" : phases,
        h.tls ? " (" + htmlEscape(h.tls->version) + ")" : std::string());
  }
  for (const auto& m : r.modules) {
    out += fmt::format(R"(<div class="line">module {}@{} <span class="{}">{}</span>)",
                       htmlEscape(m.module), htmlEscape(m.requested), m.success ? "good" : "bad",
                       m.success ? "ok" : "FAIL");
    if (!m.version.empty()) out += " " + htmlEscape(m.version);
    for (const auto& s : m.steps) {
      out += fmt::format(", {} {}", toLabel(s.step), ms(s.duration_seconds));
    }
    if (m.hash_match) out += *m.hash_match ? ", hash ok" : ", <b class=\"bad\">hash MISMATCH</b>";
    out += "</div>";
  }
  if (r.sumdb) {
    out += fmt::format("<div class=\"line\">sumdb tree {} signature {}</div>", r.sumdb->tree_size,
                       r.sumdb->signature_valid ? "ok" : "<span class=\"bad\">INVALID</span>");
  }
  return out.empty() ? "-" : out;
}

// The "detail" cell: the run's detail, then what each failed part says.
std::string detailCell(const ProbeResult& r) {
  std::string out;
  if (!r.detail.empty()) out += "<div class=\"line\">" + htmlEscape(r.detail) + "</div>";
  for (const auto& h : r.http) {
    if (h.success || h.detail.empty() || r.detail.find(h.detail) != std::string::npos) continue;
    out += fmt::format("<div class=\"line\">http/{}: {} ({})</div>", toString(h.requested),
                       htmlEscape(toLabel(h.reason)), htmlEscape(h.detail));
  }
  for (const auto& m : r.modules) {
    if (m.success || m.detail.empty() || r.detail.find(m.detail) != std::string::npos) continue;
    out += fmt::format("<div class=\"line\">{}: {} ({})</div>", htmlEscape(m.module),
                       htmlEscape(toLabel(m.reason)), htmlEscape(m.detail));
  }
  for (const auto& finding : r.lint) out += "<div class=\"line\">" + htmlEscape(finding) + "</div>";
  return out.empty() ? "-" : out;
}

constexpr std::string_view kStyle =
    "body{font-family:sans-serif;margin:1.5em;color:#222}"
    "table{border-collapse:collapse;width:100%;font-size:13px}"
    "th,td{border:1px solid #ccc;padding:4px 6px;text-align:left;vertical-align:top}"
    "th{background:#eee}tr.fail td.result{background:#f8d0d0;font-weight:bold}"
    "tr.ok td.result{background:#d4f0d4}tr.pending td.result{background:#eee}"
    ".bad{color:#b00000}.good{color:#006000}td.reason{color:#b00000;font-weight:bold}"
    "td.detail{max-width:30em;overflow-wrap:anywhere}.line{margin:1px 0}";

}  // namespace

std::string urlEncode(std::string_view text) {
  std::string out;
  for (char c : text) {
    const bool unreserved = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                            (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_' || c == '~';
    if (unreserved) {
      out += c;
    } else {
      out += fmt::format("%{:02X}", static_cast<unsigned char>(c));
    }
  }
  return out;
}

std::string renderLandingPage(const std::vector<metrics::TargetSnapshot>& targets,
                              const LandingPageInfo& info) {
  std::string page;
  renderLandingPage(targets, info, [&page](std::string_view piece) { page += piece; });
  return page;
}

void renderLandingPage(const std::vector<metrics::TargetSnapshot>& targets,
                       const LandingPageInfo& info, const PageWriter& write,
                       std::size_t flush_bytes) {
  std::size_t failing = 0;
  std::size_t pending = 0;
  for (const auto& t : targets) {
    if (!t.last) {
      ++pending;
    } else if (!t.last->success) {
      ++failing;
    }
  }
  std::string out = "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">";
  if (info.refresh_seconds > 0) {
    out += fmt::format(R"(<meta http-equiv="refresh" content="{}">)", info.refresh_seconds);
  }
  out += fmt::format("<title>gomodprobe</title><style>{}</style></head><body>\n", kStyle);
  out += fmt::format(
      "<h1>gomodprobe</h1>\n<p id=\"summary\">{} targets: {} ok, {} failing, {} "
      "not run yet. Version {}. Rendered {}{}.</p>\n",
      targets.size(), targets.size() - failing - pending, failing, pending,
      htmlEscape(info.version), utcTime(toUnixSeconds(info.now)),
      info.refresh_seconds > 0 ? fmt::format(", refreshed every {}&nbsp;s", info.refresh_seconds)
                               : std::string());
  out += "<p><a href=\"/metrics\">Metrics</a> &middot; <a href=\"/-/healthy\">Health</a></p>\n";
  out +=
      "<table id=\"targets\"><thead><tr><th>Target</th><th>Kind</th><th>Result</th>"
      "<th>Reason</th><th>Last run</th><th>Duration</th><th>Phases</th><th>Detail</th>"
      "<th>Runs</th><th>Debug</th></tr></thead>\n<tbody>\n";
  for (const auto& t : targets) {
    const std::string name = htmlEscape(t.name);
    const std::string link = htmlEscape("/probe?target=" + urlEncode(t.name) + "&debug=true");
    const char* row_class = !t.last ? "pending" : (t.last->success ? "ok" : "fail");
    out += fmt::format(R"(<tr class="{}" id="target-{}"><td class="name">{}</td><td>{}</td>)",
                       row_class, name, name, toString(t.kind));
    if (!t.last) {
      out += "<td class=\"result\">pending</td><td>-</td><td>-</td><td>-</td><td>-</td><td>-</td>";
    } else {
      const ProbeResult& r = *t.last;
      out += fmt::format(
          "<td class=\"result\">{}</td><td class=\"reason\">{}</td><td>{}<br>{}</td><td>{}</td>"
          "<td>{}</td><td class=\"detail\">{}</td>",
          r.success ? "ok" : "FAIL", r.success ? "-" : htmlEscape(toLabel(r.reason)),
          utcTime(r.started_at), ago(r.started_at, info.now), ms(r.duration_seconds), phasesCell(r),
          detailCell(r));
    }
    out += fmt::format("<td>{} runs, {} failed</td><td><a href=\"{}\">probe now</a></td></tr>\n",
                       t.probes, t.failures, link);
    if (out.size() >= flush_bytes) {
      write(out);
      out.clear();  // keeps the capacity for the next rows
    }
  }
  out += "</tbody></table>\n</body></html>\n";
  write(out);
}

}  // namespace gomodprobe::web
