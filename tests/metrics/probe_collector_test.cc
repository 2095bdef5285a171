#include "metrics/probe_collector.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <prometheus/text_serializer.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

namespace gomodprobe::metrics {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

TargetConfig target(const std::string& name) {
  TargetConfig t;
  t.name = name;
  t.kind = TargetKind::GoProxy;
  t.url = "https://proxy.test";
  t.path = "/";
  return t;
}

std::string render(const ProbeCollector& collector) {
  std::ostringstream out;
  prometheus::TextSerializer().Serialize(out, collector.Collect());
  return out.str();
}

ProbeResult okResult(const std::string& name) {
  ProbeResult r;
  r.target = name;
  r.kind = TargetKind::GoProxy;
  r.success = true;
  r.duration_seconds = 0.042;
  r.started_at = 1700000000;
  DnsLookup a;
  a.resolver = "system";
  a.duration_seconds = 0.003;
  a.ipv4 = {"192.0.2.1"};
  DnsLookup b = a;
  b.resolver = "127.0.0.1:5353";
  b.ipv4 = {"192.0.2.2"};
  r.dns = {a, b};
  r.resolvers_agree = false;
  for (HttpVersion v : {HttpVersion::Http11, HttpVersion::Http2}) {
    HttpAttempt h;
    h.requested = v;
    h.success = true;
    h.status_code = 200;
    h.negotiated_version = v == HttpVersion::Http2 ? 2 : 1.1;
    h.phases = {0.003, 0.0004, 0.002, 0.03, 0.0001};
    h.tls = TlsInfo{"TLSv1.3", "TLS_AES_256_GCM_SHA384", 1800000000.0};
    r.http.push_back(h);
  }
  return r;
}

TEST(HistogramDataTest, BucketsAreCumulativeWithInf) {
  HistogramData h;
  h.observe(0.0005);
  h.observe(0.001);  // le is inclusive
  h.observe(0.2);
  h.observe(100);
  const auto m = h.toClientMetric();
  ASSERT_EQ(m.bucket.size(), kLatencyBuckets.size() + 1);
  EXPECT_EQ(m.bucket.front().cumulative_count, 2U);
  EXPECT_EQ(m.bucket[kLatencyBuckets.size() - 1].cumulative_count, 3U);  // le=30
  EXPECT_EQ(m.bucket.back().cumulative_count, 4U);
  EXPECT_TRUE(std::isinf(m.bucket.back().upper_bound));
  EXPECT_EQ(m.sample_count, 4U);
  EXPECT_DOUBLE_EQ(m.sample_sum, 0.0005 + 0.001 + 0.2 + 100);
}

TEST(HistogramDataTest, UnobservedHasEveryBucketAtZeroWithoutCounts) {
  const HistogramData h;
  EXPECT_TRUE(h.counts().empty());  // allocated at the first observe()
  const auto m = h.toClientMetric();
  ASSERT_EQ(m.bucket.size(), kLatencyBuckets.size() + 1);
  for (const auto& bucket : m.bucket) EXPECT_EQ(bucket.cumulative_count, 0U);
  // The text renderer writes the same zero buckets (a target that never ran, per target).
  ProbeCollector collector(currentBuildInfo());
  collector.setTargets({target("idle")});
  const std::string text = collector.renderText();
  EXPECT_THAT(text, HasSubstr("gomodprobe_probe_duration_seconds_bucket{target=\"idle\","
                              "kind=\"goproxy\",le=\"0.001\"} 0\n"));
  EXPECT_THAT(text, HasSubstr("gomodprobe_probe_duration_seconds_bucket{target=\"idle\","
                              "kind=\"goproxy\",le=\"+Inf\"} 0\n"));
}

TEST(ProbeCollectorTest, ExportsTheContractAfterASuccessfulRun) {
  ProbeCollector collector(BuildInfo{"1.2.3", "abc", "8.0", "1.18", "3.0"});
  collector.setTargets({target("proxy-a")});
  collector.setConfigReload(true, 1700000000);
  std::string text = render(collector);
  EXPECT_THAT(text, HasSubstr("gomodprobe_probes_total{target=\"proxy-a\",kind=\"goproxy\"} 0"));
  EXPECT_THAT(text, Not(HasSubstr("gomodprobe_probe_success{")))
      << "no success gauge before the first run";

  collector.record(okResult("proxy-a"));
  text = render(collector);
  EXPECT_THAT(text, HasSubstr("gomodprobe_probe_success{target=\"proxy-a\",kind=\"goproxy\"} 1"));
  EXPECT_THAT(text, HasSubstr("gomodprobe_probes_total{target=\"proxy-a\",kind=\"goproxy\"} 1"));
  EXPECT_THAT(text, HasSubstr("gomodprobe_http_negotiated_version{target=\"proxy-a\",http_version="
                              "\"2\"} 2"));
  EXPECT_THAT(text, HasSubstr("gomodprobe_http_negotiated_version{target=\"proxy-a\",http_version="
                              "\"1.1\"} 1.1"));
  EXPECT_THAT(text, HasSubstr("gomodprobe_http_status_code{target=\"proxy-a\",http_version=\"2\"} "
                              "200"));
  EXPECT_THAT(text, HasSubstr("gomodprobe_phase_duration_seconds_bucket{target=\"proxy-a\",phase="
                              "\"processing\",http_version=\"2\",le=\"0.05\"} 1"));
  EXPECT_THAT(text, HasSubstr("gomodprobe_tls_cert_not_after_timestamp_seconds{target=\"proxy-a\"} "
                              "1800000000"));
  EXPECT_THAT(text, HasSubstr("gomodprobe_tls_info{target=\"proxy-a\",version=\"TLSv1.3\",cipher="
                              "\"TLS_AES_256_GCM_SHA384\"} 1"));
  EXPECT_THAT(
      text, HasSubstr("gomodprobe_dns_resolvers_agree{target=\"proxy-a\",name=\"proxy.test\"} 0"));
  EXPECT_THAT(text,
              HasSubstr("gomodprobe_dns_answers{target=\"proxy-a\",resolver=\"127.0.0.1:5353\","
                        "family=\"ipv4\"} 1"));
  EXPECT_THAT(text,
              HasSubstr("gomodprobe_build_info{version=\"1.2.3\",revision=\"abc\",curl=\"8.0\","
                        "cares=\"1.18\",openssl=\"3.0\"} 1"));
  EXPECT_THAT(text, HasSubstr("gomodprobe_config_last_reload_successful 1"));
  EXPECT_THAT(text, Not(HasSubstr("gomodprobe_probe_failures_total{")));
}

TEST(ProbeCollectorTest, CountsFailuresByReasonAndKeepsLastTls) {
  ProbeCollector collector(currentBuildInfo());
  collector.setTargets({target("p")});
  collector.record(okResult("p"));
  ProbeResult failed = okResult("p");
  failed.success = false;
  failed.reason = FailureReason::ConnectRefused;
  for (auto& h : failed.http) {
    h.success = false;
    h.reason = FailureReason::ConnectRefused;
    h.status_code = 0;
    h.negotiated_version = 0;
    h.tls.reset();
    h.phases = {};
  }
  collector.record(failed);
  collector.record(failed);
  const std::string text = render(collector);
  EXPECT_THAT(text, HasSubstr("gomodprobe_probe_failures_total{target=\"p\",kind=\"goproxy\","
                              "reason=\"connect_refused\"} 2"));
  EXPECT_THAT(text, HasSubstr("gomodprobe_probes_total{target=\"p\",kind=\"goproxy\"} 3"));
  EXPECT_THAT(text, HasSubstr("gomodprobe_probe_success{target=\"p\",kind=\"goproxy\"} 0"));
  EXPECT_THAT(text, HasSubstr("gomodprobe_http_success{target=\"p\",http_version=\"1.1\"} 0"));
  // The certificate seen before the failures still feeds the expiry alert.
  EXPECT_THAT(text, HasSubstr("gomodprobe_tls_cert_not_after_timestamp_seconds{target=\"p\"}"));
}

TEST(ProbeCollectorTest, RemovedTargetsVanishAndLateResultsAreIgnored) {
  ProbeCollector collector(currentBuildInfo());
  collector.setTargets({target("old"), target("kept")});
  collector.record(okResult("old"));
  collector.record(okResult("kept"));
  collector.setTargets({target("kept")});
  collector.record(okResult("old"));  // a run that was in flight during the reload
  const std::string text = render(collector);
  EXPECT_THAT(text, Not(HasSubstr("target=\"old\"")));
  EXPECT_THAT(text, HasSubstr("gomodprobe_probes_total{target=\"kept\",kind=\"goproxy\"} 1"));
}

TEST(ProbeCollectorTest, SnapshotsShareTheLastResultAndKeepItAcrossLaterRuns) {
  ProbeCollector collector(currentBuildInfo());
  collector.setTargets({target("a"), target("b")});
  collector.record(okResult("a"));
  const auto first = collector.targetSnapshots();
  const auto second = collector.targetSnapshots();
  ASSERT_EQ(first.size(), 2U);
  ASSERT_NE(first[0].last, nullptr);
  EXPECT_EQ(first[0].last->target, "a");
  EXPECT_EQ(first[1].last, nullptr);  // b has not run yet
  // Two snapshots point at the same result: a landing page of 10,000 targets copies pointers.
  EXPECT_EQ(first[0].last.get(), second[0].last.get());
  ProbeResult failed = okResult("a");
  failed.success = false;
  failed.reason = FailureReason::HttpStatus;
  collector.record(std::move(failed));
  const auto third = collector.targetSnapshots();
  // The new run replaces the shared result; a snapshot taken before still holds the old one.
  EXPECT_NE(third[0].last.get(), first[0].last.get());
  EXPECT_FALSE(third[0].last->success);
  EXPECT_TRUE(first[0].last->success);
  EXPECT_EQ(third[0].probes, 2U);
  EXPECT_EQ(third[0].failures, 1U);
}

// Parses a text exposition into "name{labels}" → value, plus "# TYPE"/"# HELP" lines as keys
// (value 0), so two renderings can be compared whatever their number formatting.
std::map<std::string, double> samples(const std::string& text) {
  std::map<std::string, double> out;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty()) continue;
    if (line[0] == '#') {
      out[line] = 0;
      continue;
    }
    const auto space = line.rfind(' ');
    const std::string value = line.substr(space + 1);
    out[line.substr(0, space)] = value == "+Inf" ? HUGE_VAL : std::stod(value);
  }
  return out;
}

ProbeResult failedResult(const std::string& name) {
  ProbeResult r = okResult(name);
  r.success = false;
  r.reason = FailureReason::Timeout;
  r.duration_seconds = 10;
  r.http.resize(1);
  r.http[0].success = false;
  r.http[0].status_code = 0;
  r.http[0].phases = {0.001, 0.0002};
  r.http[0].tls.reset();
  ModuleCheck module;
  module.module = "example.com/m\"q";  // a label value that needs escaping
  module.requested = "latest";
  module.version = "v1.0.0";
  module.info_time = 1600000000.5;
  module.steps = {{ModuleStep::Info, 0.01, 200, true}, {ModuleStep::Zip, 0.2, 200, true}};
  r.modules = {module};
  return r;
}

TEST(ProbeCollectorTest, RenderTextHasExactlyTheSamplesOfCollect) {
  for (const HistogramScope scope : {HistogramScope::PerTarget, HistogramScope::PerKind}) {
    SCOPED_TRACE(toString(scope));
    ProbeCollector collector(BuildInfo{"1.2.3", "abc", "8.0", "1.18", "3.0"});
    collector.setHistogramScope(scope);
    collector.setTargets({target("a"), target("b"), target("never-ran")});
    collector.setConfigReload(true, 1700000000.25);
    collector.setGoEnvLint(1, 2);
    collector.observeSchedulerLag(0.0123);
    collector.record(okResult("a"));
    collector.record(okResult("b"));
    collector.record(failedResult("b"));
    const std::string text = collector.renderText();
    EXPECT_EQ(samples(text), samples(render(collector)));
    EXPECT_THAT(text, HasSubstr("module=\"example.com/m\\\"q\""));
    EXPECT_THAT(text, HasSubstr("# TYPE gomodprobe_probe_duration_seconds histogram\n"));
  }
}

// The target label of a sample line ("" for a comment or a series without one).
std::string targetOf(std::string_view line) {
  const auto at = line.find("target=\"");
  if (line.empty() || line[0] == '#' || at == std::string_view::npos) return "";
  const auto from = at + 8;
  return std::string(line.substr(from, line.find('"', from) - from));
}

// The lines of a text without its last newline's empty remainder.
std::vector<std::string> linesOf(std::string_view text) {
  std::vector<std::string> lines;
  std::istringstream in{std::string(text)};
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

TEST(ProbeCollectorTest, StreamedRenderIsTheSameTextInPiecesEndingAtATargetOutsideTheLock) {
  ProbeCollector collector(BuildInfo{"1.2.3", "abc", "8.0", "1.18", "3.0"});
  std::vector<TargetConfig> targets;
  targets.reserve(41);
  for (int i = 0; i < 40; ++i) targets.push_back(target("t" + std::to_string(100 + i)));
  targets.push_back(target("never-ran"));
  collector.setTargets(targets);
  for (int i = 0; i < 40; ++i) {
    collector.record(i % 3 == 0 ? failedResult("t" + std::to_string(100 + i))
                                : okResult("t" + std::to_string(100 + i)));
  }
  const std::string whole = collector.renderText();
  // The largest run of consecutive lines of one target (its phase histograms: 2 versions x 5
  // phases x 19 lines, ~20 KB): a piece ends at most that far past flush_bytes.
  std::size_t one_target_at_most = 0;
  {
    std::size_t run = 0;
    std::string run_target;
    for (const std::string& line : linesOf(whole)) {
      const std::string t = targetOf(line);
      run = t == run_target ? run + line.size() + 1 : line.size() + 1;
      run_target = t;
      if (!t.empty()) one_target_at_most = std::max(one_target_at_most, run);
    }
  }
  ASSERT_GT(one_target_at_most, 4096U);
  for (const std::size_t flush_bytes :
       {std::size_t{1}, std::size_t{4096}, std::size_t{32} * 1024, std::size_t{1} << 30}) {
    SCOPED_TRACE(flush_bytes);
    std::vector<std::string> pieces;
    collector.renderText(
        [&](std::string_view piece) {
          pieces.emplace_back(piece);
          // The mutex is released while a piece is handed over: taking it here must not block
          // (with the lock held this would deadlock).
          collector.setInFlight(static_cast<int>(pieces.size()));
        },
        flush_bytes);
    std::string joined;
    std::size_t split_families = 0;
    for (std::size_t k = 0; k < pieces.size(); ++k) {
      const std::string& piece = pieces[k];
      joined += piece;
      ASSERT_FALSE(piece.empty());
      EXPECT_EQ(piece.back(), '\n');
      if (k + 1 < pieces.size()) {
        EXPECT_GE(piece.size(), flush_bytes);
        // Never much more: a piece ends after the target that reached flush_bytes.
        if (flush_bytes > 1 && flush_bytes < (std::size_t{1} << 30)) {
          EXPECT_LE(piece.size(), flush_bytes + one_target_at_most);
        }
      }
      if (k == 0 || piece.rfind("# HELP gomodprobe_", 0) == 0) continue;
      // A piece that does not start a family continues the previous piece's family with the
      // next target: a target's series (a histogram's buckets, sum and count) are never split.
      ++split_families;
      const std::string first = linesOf(piece).front();
      const std::string before = linesOf(pieces[k - 1]).back();
      EXPECT_EQ(first.rfind("gomodprobe_", 0), 0U) << first;
      EXPECT_EQ(first.substr(0, first.find('{')).substr(0, 30),
                before.substr(0, before.find('{')).substr(0, 30));
      EXPECT_NE(targetOf(first), "") << first;
      EXPECT_LT(targetOf(before), targetOf(first)) << before << "\n" << first;
    }
    // setInFlight() above changes gomodprobe_probes_in_flight between pieces: compare the rest.
    const auto without_in_flight = [](const std::string& text) {
      std::string out;
      for (const std::string& line : linesOf(text)) {
        if (line.find("gomodprobe_probes_in_flight") == std::string::npos) out += line + "\n";
      }
      return out;
    };
    EXPECT_EQ(without_in_flight(joined), without_in_flight(whole));
    if (flush_bytes == 1) EXPECT_GT(pieces.size(), 40U);
    // 40 targets' phase histograms are ~190 KB: with 32 KiB pieces that family alone is split.
    if (flush_bytes == std::size_t{32} * 1024) EXPECT_GT(split_families, 3U);
    if (flush_bytes == (std::size_t{1} << 30)) EXPECT_EQ(pieces.size(), 1U);
  }
}

TEST(ProbeCollectorTest, AReloadBetweenPiecesNeitherRepeatsNorSkipsATargetThatStays) {
  ProbeCollector collector(BuildInfo{"1.2.3", "abc", "8.0", "1.18", "3.0"});
  const auto names = [](int from, int to) {
    std::vector<TargetConfig> out;
    for (int i = from; i < to; ++i) out.push_back(target("t" + std::to_string(100 + i)));
    return out;
  };
  collector.setTargets(names(0, 30));
  for (int i = 0; i < 30; ++i) collector.record(okResult("t" + std::to_string(100 + i)));
  int pieces = 0;
  std::string joined;
  std::string first_piece;
  collector.renderText(
      [&](std::string_view piece) {
        joined += piece;
        if (pieces == 0) first_piece = piece;
        // After the first piece the config changes: even targets go, t140..t149 come; the
        // collector's target list is replaced while the walk is paused.
        if (++pieces == 1) {
          std::vector<TargetConfig> next;
          for (int i = 1; i < 30; i += 2) next.push_back(target("t" + std::to_string(100 + i)));
          for (auto& t : names(40, 50)) next.push_back(t);
          collector.setTargets(next);
        }
      },
      4096);
  ASSERT_GT(pieces, 5);
  // No line twice (a repeated target would repeat its series), each family's header once.
  std::map<std::string, int> seen;
  for (const std::string& line : linesOf(joined)) {
    if (line.rfind("# TYPE", 0) == 0 || line[0] != '#') EXPECT_EQ(++seen[line], 1) << line;
  }
  // An odd target stays in the config: every family that lists targets lists it.
  for (const std::string& family :
       {"gomodprobe_probes_total{target=\"t129\"", "gomodprobe_probe_success{target=\"t129\"",
        "gomodprobe_phase_duration_seconds_count{target=\"t129\"",
        "gomodprobe_probe_last_run_timestamp_seconds{target=\"t129\""}) {
    EXPECT_THAT(joined, HasSubstr(family));
  }
  // A family rendered after the reload lists the targets of the new config only.
  const auto later = joined.find("# HELP gomodprobe_tls_info");
  ASSERT_NE(later, std::string::npos);
  const auto tls = joined.substr(later, joined.find("# HELP", later + 1) - later);
  EXPECT_THAT(tls, HasSubstr("target=\"t129\""));
  EXPECT_THAT(tls, Not(HasSubstr("target=\"t128\"")));
  // The family being walked when the reload came goes on after the last target it had rendered,
  // with the new config's targets only (odd ones and t140..t149, no even one).
  const std::string last_before = targetOf(linesOf(first_piece).back());
  ASSERT_NE(last_before, "");
  const auto rest = joined.substr(first_piece.size(),
                                  joined.find("# HELP", first_piece.size()) - first_piece.size());
  ASSERT_FALSE(rest.empty()) << "the first piece ended a family";
  for (const std::string& line : linesOf(rest)) {
    const std::string t = targetOf(line);
    EXPECT_GT(t, last_before);
    EXPECT_TRUE(t >= "t140" || (t.back() - '0') % 2 == 1) << t;
  }
  // Exactly what that family holds now past last_before: no target of the new config skipped.
  const auto header_at = joined.rfind("# HELP", first_piece.size());
  const std::string header = joined.substr(header_at, joined.find('\n', header_at) - header_at);
  const std::string now = collector.renderText();
  const auto now_at = now.find(header);
  ASSERT_NE(now_at, std::string::npos);
  std::string expected;
  for (const std::string& line :
       linesOf(now.substr(now_at, now.find("# HELP", now_at + 1) - now_at))) {
    if (targetOf(line) > last_before) expected += line + "\n";
  }
  EXPECT_EQ(rest, expected);
}

TEST(ProbeCollectorTest, PerKindHistogramsHaveNoTargetLabel) {
  ProbeCollector collector(currentBuildInfo());
  collector.setHistogramScope(HistogramScope::PerKind);
  collector.setTargets({target("a"), target("b")});
  collector.record(okResult("a"));
  collector.record(okResult("b"));
  collector.record(failedResult("b"));
  const std::string text = collector.renderText();
  // Both targets' runs in one histogram of their kind.
  EXPECT_THAT(text, HasSubstr("gomodprobe_probe_duration_seconds_count{kind=\"goproxy\"} 3\n"));
  EXPECT_THAT(text, HasSubstr("gomodprobe_phase_duration_seconds_count{kind=\"goproxy\","
                              "phase=\"processing\",http_version=\"2\"} 2\n"));
  // Module steps stay per target (the latency SLO rules use them).
  EXPECT_THAT(text, HasSubstr("gomodprobe_module_fetch_duration_seconds_count{target=\"b\","
                              "step=\"zip\"} 1\n"));
  EXPECT_THAT(text, Not(HasSubstr("gomodprobe_probe_duration_seconds_count{target=")));
  EXPECT_THAT(text, Not(HasSubstr("gomodprobe_phase_duration_seconds_count{target=")));
  // Per target: counters and last-run gauges stay.
  EXPECT_THAT(text, HasSubstr("gomodprobe_probes_total{target=\"b\",kind=\"goproxy\"} 2\n"));
  EXPECT_THAT(text, HasSubstr("gomodprobe_probe_last_duration_seconds{target=\"b\","
                              "kind=\"goproxy\"} 10\n"));
  EXPECT_THAT(text, HasSubstr("gomodprobe_probe_success{target=\"a\",kind=\"goproxy\"} 1\n"));

  // Back to per target: the kind histograms go, new runs land per target.
  collector.setHistogramScope(HistogramScope::PerTarget);
  collector.record(okResult("a"));
  const std::string after = collector.renderText();
  EXPECT_THAT(after, Not(HasSubstr("{kind=\"goproxy\"}")));
  EXPECT_THAT(after, HasSubstr("gomodprobe_probe_duration_seconds_count{target=\"a\","
                               "kind=\"goproxy\"} 1\n"));
}

}  // namespace
}  // namespace gomodprobe::metrics
