#include "agent/report.h"

#include <fmt/format.h>

#include <algorithm>
#include <ctime>
#include <nlohmann/json.hpp>

#include "goproxy/unicode_util.h"

namespace gomodprobe::agent {

namespace {

std::string ms(std::optional<double> seconds) {
  return seconds ? fmt::format("{:.1f}ms", *seconds * 1000.0) : std::string("-");
}

std::string versionText(double version) {
  if (version == 0) return "-";
  return version == 2 || version == 3 ? fmt::format("{:.0f}", version)
                                      : fmt::format("{:.1f}", version);
}

}  // namespace

std::string formatText(const std::vector<ProbeResult>& results) {
  std::string out = fmt::format("{:<28} {:<8} {:<6} {:<22} {}\n", "TARGET", "KIND", "RESULT",
                                "REASON", "DURATION");
  for (const auto& r : results) {
    out += fmt::format("{:<28} {:<8} {:<6} {:<22} {}\n", r.target, toString(r.kind),
                       r.success ? "ok" : "FAIL", r.success ? "-" : std::string(toLabel(r.reason)),
                       ms(r.duration_seconds));
    for (const auto& d : r.dns) {
      std::string answers;
      for (const auto& a : d.ipv4) answers += (answers.empty() ? "" : ",") + a;
      for (const auto& a : d.ipv6) answers += (answers.empty() ? "" : ",") + a;
      out += fmt::format("  dns {:<22} {:>9}  {}\n", d.resolver, ms(d.duration_seconds),
                         d.reason == FailureReason::None
                             ? answers
                             : fmt::format("{} ({})", toLabel(d.reason), d.detail));
    }
    if (r.resolvers_agree) {
      out += fmt::format("  dns resolvers agree: {}\n", *r.resolvers_agree ? "yes" : "NO");
    }
    if (!r.proxy.empty()) {
      out += fmt::format("  proxy {} (the proxy resolves the target's name: no DNS, no resolve)\n",
                         r.proxy);
    }
    for (const auto& q : r.dns_queries) {
      std::string answers;
      for (const auto& a : q.answers) answers += (answers.empty() ? "" : ",") + a;
      out += fmt::format(
          "  dns {:<24} {:<5} @{:<22} rcode={:<2} ttl={:<5} {:>9}  {}\n", q.name, toString(q.type),
          q.resolver, q.rcode ? std::to_string(*q.rcode) : std::string("-"),
          q.ttl_seconds ? std::to_string(*q.ttl_seconds) : std::string("-"), ms(q.duration_seconds),
          q.reason == FailureReason::None ? answers
          : q.reason == FailureReason::DnsNoAnswer && q.rcode == 0
              ? std::string("(no record)")
              : fmt::format("{} ({})", toLabel(q.reason), q.detail));
    }
    for (const auto& a : r.names_agree) {
      out += fmt::format("  dns {} resolvers agree: {}\n", a.name, a.agree ? "yes" : "NO");
    }
    for (const auto& h : r.http) {
      const auto phase = [&h](Phase p) { return h.phases[static_cast<std::size_t>(p)]; };
      out += fmt::format(
          "  http/{:<3} {:<4} status={:<3} negotiated={:<3} resolve={} connect={}{} tls={} "
          "processing={} transfer={}",
          toString(h.requested), h.success ? "ok" : "FAIL", h.status_code,
          versionText(h.negotiated_version), ms(phase(Phase::Resolve)), ms(phase(Phase::Connect)),
          r.proxy.empty() ? std::string()
                          : fmt::format(" proxy_connect={}", ms(phase(Phase::ProxyConnect))),
          ms(phase(Phase::Tls)), ms(phase(Phase::Processing)), ms(phase(Phase::Transfer)));
      if (h.tls) out += fmt::format(" {} {}", h.tls->version, h.tls->cipher);
      if (!h.success) out += fmt::format(" reason={} ({})", toLabel(h.reason), h.detail);
      out += "\n";
    }
    for (const auto& m : r.modules) {
      out += fmt::format("  module {}@{} {:<4}", m.module, m.requested, m.success ? "ok" : "FAIL");
      if (!m.version.empty()) out += fmt::format(" version={}", m.version);
      for (const auto& s : m.steps) {
        out += fmt::format(" {}={}", toLabel(s.step), ms(s.duration_seconds));
      }
      if (m.zip_bytes > 0) out += fmt::format(" zip_bytes={}", m.zip_bytes);
      if (m.record_id >= 0) out += fmt::format(" record={}", m.record_id);
      if (m.hash_match) out += fmt::format(" hash_match={}", *m.hash_match ? "yes" : "NO");
      if (!m.success) out += fmt::format(" reason={} ({})", toLabel(m.reason), m.detail);
      out += "\n";
      if (!m.zip_hash.empty())
        out += fmt::format("    {} {} {}\n", m.module, m.version, m.zip_hash);
      if (!m.mod_hash.empty()) {
        out += fmt::format("    {} {}/go.mod {}\n", m.module, m.version, m.mod_hash);
      }
    }
    if (r.sumdb) {
      const auto tri = [](const std::optional<bool>& v) { return v ? (*v ? "yes" : "NO") : "-"; };
      out += fmt::format("  sumdb tree_size={} signature={} inclusion={} consistency={}\n",
                         r.sumdb->tree_size, r.sumdb->signature_valid ? "yes" : "NO",
                         tri(r.sumdb->inclusion_verified), tri(r.sumdb->consistency_verified));
      if (!r.sumdb->base_url.empty()) out += fmt::format("  sumdb at {}\n", r.sumdb->base_url);
    }
    for (std::size_t i = 0; i < r.chain_entries.size() && i < r.modules.size(); ++i) {
      out +=
          fmt::format("  chain {} served by entry {}\n", r.modules[i].module, r.chain_entries[i]);
    }
    for (const auto& finding : r.lint) out += fmt::format("  lint {}\n", finding);
    if (r.vcs) {
      out += fmt::format("  vcs module={} vcs={} repo={}", r.vcs->module,
                         r.vcs->vcs.empty() ? "-" : r.vcs->vcs,
                         r.vcs->repo.empty() ? "-" : r.vcs->repo);
      if (!r.vcs->protocol.empty()) out += fmt::format(" protocol={}", r.vcs->protocol);
      out += "\n";
      for (const auto& s : r.vcs->steps) {
        out += fmt::format("  vcs {:<10} {:<4} {:>9}", toLabel(s.step), s.success ? "ok" : "FAIL",
                           ms(s.duration_seconds));
        if (s.status_code != 0) out += fmt::format(" status={}", s.status_code);
        if (!s.success) out += fmt::format(" reason={}", toLabel(s.reason));
        if (!s.detail.empty()) out += fmt::format(" ({})", s.detail);
        if (s.step == VcsStep::SshBanner && !r.vcs->ssh_identification.empty()) {
          out += fmt::format(" {}", r.vcs->ssh_identification);
        }
        out += "\n";
      }
    }
    if (!r.success && r.http.empty() && !r.detail.empty()) {
      out += fmt::format("  error: {}\n", r.detail);
    }
  }
  return out;
}

nlohmann::json toJson(const std::vector<ProbeResult>& results) {
  nlohmann::json out = nlohmann::json::array();
  for (const auto& r : results) {
    nlohmann::json target = {
        {"target", r.target},         {"kind", toString(r.kind)},
        {"success", r.success},       {"reason", std::string(toLabel(r.reason))},
        {"detail", r.detail},         {"duration_seconds", r.duration_seconds},
        {"started_at", r.started_at}, {"address", r.address},
    };
    nlohmann::json dns = nlohmann::json::array();
    for (const auto& d : r.dns) {
      dns.push_back({{"resolver", d.resolver},
                     {"duration_seconds", d.duration_seconds},
                     {"reason", std::string(toLabel(d.reason))},
                     {"detail", d.detail},
                     {"ipv4", d.ipv4},
                     {"ipv6", d.ipv6}});
    }
    target["dns"] = std::move(dns);
    if (r.resolvers_agree) target["resolvers_agree"] = *r.resolvers_agree;
    if (!r.proxy.empty()) target["proxy"] = {{"url", r.proxy}, {"dns", "proxy"}};
    if (!r.dns_queries.empty()) {
      nlohmann::json queries = nlohmann::json::array();
      for (const auto& q : r.dns_queries) {
        nlohmann::json query = {{"name", q.name},
                                {"resolver", q.resolver},
                                {"type", toString(q.type)},
                                {"reason", std::string(toLabel(q.reason))},
                                {"detail", q.detail},
                                {"answers", q.answers},
                                {"duration_seconds", q.duration_seconds}};
        query["rcode"] = q.rcode ? nlohmann::json(*q.rcode) : nlohmann::json(nullptr);
        query["ttl_seconds"] =
            q.ttl_seconds ? nlohmann::json(*q.ttl_seconds) : nlohmann::json(nullptr);
        queries.push_back(std::move(query));
      }
      target["dns_queries"] = std::move(queries);
      nlohmann::json agreement = nlohmann::json::object();
      for (const auto& a : r.names_agree) agreement[a.name] = a.agree;
      target["names_agree"] = std::move(agreement);
    }
    nlohmann::json http = nlohmann::json::array();
    for (const auto& h : r.http) {
      nlohmann::json attempt = {{"http_version", toString(h.requested)},
                                {"success", h.success},
                                {"reason", std::string(toLabel(h.reason))},
                                {"detail", h.detail},
                                {"status_code", h.status_code},
                                {"negotiated_version", h.negotiated_version},
                                {"body_bytes", h.body_bytes}};
      nlohmann::json phases = nlohmann::json::object();
      for (std::size_t p = 0; p < kPhaseCount; ++p) {
        if (h.phases[p]) phases[std::string(toLabel(static_cast<Phase>(p)))] = *h.phases[p];
      }
      attempt["phases"] = std::move(phases);
      if (h.tls) {
        attempt["tls"] = {{"version", h.tls->version}, {"cipher", h.tls->cipher}};
        if (h.tls->not_after) attempt["tls"]["not_after"] = *h.tls->not_after;
      }
      http.push_back(std::move(attempt));
    }
    target["http"] = std::move(http);
    nlohmann::json modules = nlohmann::json::array();
    for (const auto& m : r.modules) {
      nlohmann::json steps = nlohmann::json::array();
      for (const auto& s : m.steps) {
        steps.push_back({{"step", std::string(toLabel(s.step))},
                         {"duration_seconds", s.duration_seconds},
                         {"status_code", s.status_code},
                         {"success", s.success}});
      }
      nlohmann::json module = {{"module", m.module},
                               {"requested", m.requested},
                               {"version", m.version},
                               {"success", m.success},
                               {"reason", std::string(toLabel(m.reason))},
                               {"detail", m.detail},
                               {"steps", std::move(steps)},
                               {"zip_bytes", m.zip_bytes},
                               {"zip_hash", m.zip_hash},
                               {"mod_hash", m.mod_hash}};
      if (m.info_time) module["info_time"] = *m.info_time;
      if (m.hash_match) module["hash_match"] = *m.hash_match;
      if (m.record_id >= 0) module["record_id"] = m.record_id;
      modules.push_back(std::move(module));
    }
    target["modules"] = std::move(modules);
    if (r.sumdb) {
      target["sumdb"] = {{"tree_size", r.sumdb->tree_size},
                         {"signature_valid", r.sumdb->signature_valid},
                         {"base_url", r.sumdb->base_url}};
      if (r.sumdb->inclusion_verified) {
        target["sumdb"]["inclusion_verified"] = *r.sumdb->inclusion_verified;
      }
      if (r.sumdb->consistency_verified) {
        target["sumdb"]["consistency_verified"] = *r.sumdb->consistency_verified;
      }
    }
    if (!r.chain_entries.empty()) target["chain_entries"] = r.chain_entries;
    if (!r.lint.empty()) target["lint"] = r.lint;
    if (r.vcs) {
      nlohmann::json steps = nlohmann::json::array();
      for (const auto& s : r.vcs->steps) {
        steps.push_back({{"step", std::string(toLabel(s.step))},
                         {"success", s.success},
                         {"reason", std::string(toLabel(s.reason))},
                         {"detail", s.detail},
                         {"duration_seconds", s.duration_seconds},
                         {"status_code", s.status_code}});
      }
      target["vcs"] = {
          {"module", r.vcs->module},     {"prefix", r.vcs->prefix},
          {"vcs", r.vcs->vcs},           {"repo", r.vcs->repo},
          {"protocol", r.vcs->protocol}, {"ssh_identification", r.vcs->ssh_identification},
          {"steps", std::move(steps)}};
    }
    out.push_back(std::move(target));
  }
  return out;
}

namespace {

// Whether the XML 1.0 Char production admits `r` (https://www.w3.org/TR/xml/#charsets).
bool xmlChar(char32_t r) {
  return r == 0x9 || r == 0xA || r == 0xD || (r >= 0x20 && r <= 0xD7FF) ||
         (r >= 0xE000 && r <= 0xFFFD) || (r >= 0x10000 && r <= 0x10FFFF);
}

}  // namespace

std::string escapeMarkup(std::string_view text, Markup markup) {
  const bool html = markup == Markup::Html;
  const bool attribute = markup != Markup::XmlText;
  std::string out;
  out.reserve(text.size());
  while (!text.empty()) {
    char32_t r = static_cast<unsigned char>(text.front());
    std::size_t size = 1;
    if (!html) {
      const auto decoded = goproxy::decodeRune(text);
      size = std::max<std::size_t>(decoded.size, 1);
      // Invalid UTF-8 decodes as U+FFFD of size 1 (a real U+FFFD takes 3 bytes); it and
      // characters XML cannot carry at all are written as U+FFFD.
      const bool valid = !(decoded.rune == goproxy::kRuneError && size == 1);
      r = valid && xmlChar(decoded.rune) ? decoded.rune : goproxy::kRuneError;
    }
    switch (r) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += attribute ? "&quot;" : "\"";
        break;
      case '\'':
        out += html ? "&#39;" : attribute ? "&apos;" : "'";
        break;
      // XML attribute-value normalisation would turn these into spaces; keep them as references.
      case '\t':
        out += attribute && !html ? "&#9;" : "\t";
        break;
      case '\n':
        out += attribute && !html ? "&#10;" : "\n";
        break;
      case '\r':
        out += html ? "\r" : "&#13;";
        break;
      default:
        if (html) {
          out += text.front();
        } else {
          goproxy::appendRune(out, r);
        }
    }
    text.remove_prefix(size);
  }
  return out;
}

std::string toJunit(const std::vector<ProbeResult>& results) {
  std::size_t failures = 0;
  double total_seconds = 0;
  double first_start = 0;
  for (const auto& r : results) {
    if (!r.success) ++failures;
    total_seconds += r.duration_seconds;
    if (r.started_at > 0 && (first_start == 0 || r.started_at < first_start)) {
      first_start = r.started_at;
    }
  }
  std::string timestamp;
  if (first_start > 0) {
    const auto seconds = static_cast<std::time_t>(first_start);
    std::tm utc{};
    if (gmtime_r(&seconds, &utc) != nullptr) {
      timestamp =
          fmt::format(" timestamp=\"{:04}-{:02}-{:02}T{:02}:{:02}:{:02}\"", utc.tm_year + 1900,
                      utc.tm_mon + 1, utc.tm_mday, utc.tm_hour, utc.tm_min, utc.tm_sec);
    }
  }
  std::string out = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n";
  out += fmt::format(
      "<testsuite name=\"gomodprobe\" tests=\"{}\" failures=\"{}\" errors=\"0\" skipped=\"0\" "
      "time=\"{:.3f}\"{}>\n",
      results.size(), failures, total_seconds, timestamp);
  for (const auto& r : results) {
    out += fmt::format("  <testcase name=\"{}\" classname=\"{}\" time=\"{:.3f}\">\n",
                       xmlEscape(r.target, true), xmlEscape(toString(r.kind), true),
                       r.duration_seconds);
    // The target's lines of `check --output text` (without the column header).
    std::string text = formatText({r});
    text.erase(0, text.find('\n') + 1);
    if (!r.success) {
      const std::string reason(toLabel(r.reason));
      out += fmt::format("    <failure message=\"{}\" type=\"{}\">{}{}</failure>\n",
                         xmlEscape(reason, true), xmlEscape(reason, true),
                         r.detail.empty() ? "" : xmlEscape(r.detail + "\n", false),
                         xmlEscape(text, false));
    }
    out += fmt::format("    <system-out>{}</system-out>\n", xmlEscape(text, false));
    out += "  </testcase>\n";
  }
  out += "</testsuite>\n";
  return out;
}

}  // namespace gomodprobe::agent
