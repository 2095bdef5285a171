// Benchmark: ProbeCollector::renderText (what `/metrics` serves) at 10,000 targets.
//
// Fills a collector with the targets of bench/scale.py (kind http, HTTP/2 only, TLS 1.3, an IP
// literal host: no DNS series) and a few results each, or with `--mix` a mix of kinds (1 in 10
// goproxy with a module, 1 in 20 dns, 1 in 20 vcs, 1 in 20 failing with a reason), then renders
// the exposition `--renders` times on one thread with nothing else contending for the lock.
// Prints the load average, the render time p50/p99/max (ms), the exposition size, the RSS of the
// filled collector (VmRSS after filling minus before, both after malloc_trim, so the allocator
// keeps nothing freed), the peak RSS growth of a render, the same for the landing page (GET /)
// over the same targets, and what gzip would cost on the exposition
// (zlib levels 1 and 6: Prometheus scrapes with Accept-Encoding: gzip). With promtool on PATH,
// one rendering is checked with `promtool check metrics`. `--out FILE` writes one rendering (the
// build info is fixed, so two builds' outputs can be compared byte for byte).
//
// Usage: gomodprobe_render_bench [--targets N] [--renders N] [--mix] [--per-target] [--out FILE]
//
// It is a measurement, not a test: it exits 0 whether or not the goals are met, and 1 only when
// the benchmark cannot run (bad arguments, promtool rejects the output, empty output).

#include <malloc.h>
#include <unistd.h>
#include <zlib.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "bench/proc_status.h"
#include "gomodprobe/config.h"
#include "gomodprobe/probe.h"
#include "metrics/probe_collector.h"
#include "web/landing_page.h"

namespace {

using gomodprobe::DnsQuery;
using gomodprobe::DnsRecordType;
using gomodprobe::FailureReason;
using gomodprobe::HistogramScope;
using gomodprobe::HttpAttempt;
using gomodprobe::HttpVersion;
using gomodprobe::ModuleCheck;
using gomodprobe::ModuleStep;
using gomodprobe::ProbeResult;
using gomodprobe::TargetConfig;
using gomodprobe::TargetKind;
using gomodprobe::TlsInfo;
using gomodprobe::VcsCheck;
using gomodprobe::VcsStep;
using gomodprobe::bench::loadAverage;
using gomodprobe::bench::procStatusBytes;
using gomodprobe::bench::resetPeakRss;
using gomodprobe::metrics::BuildInfo;
using gomodprobe::metrics::ProbeCollector;

constexpr std::uint64_t kKiB = 1024;
constexpr double kMiB = 1024.0 * 1024.0;
constexpr int kResultsPerTarget = 3;
constexpr double kGoalMs = 100.0;

struct Options {
  int targets = 10000;
  int renders = 30;
  bool mix = false;
  bool per_target = false;
  std::string out;
};

TargetKind kindOf(const Options& options, int i) {
  if (!options.mix) return TargetKind::Http;
  if (i % 10 == 1) return TargetKind::GoProxy;
  if (i % 20 == 2) return TargetKind::Dns;
  if (i % 20 == 3) return TargetKind::Vcs;
  return TargetKind::Http;
}

TargetConfig targetConfig(const Options& options, int i) {
  TargetConfig t;
  t.name = "t" + std::to_string(i);
  t.kind = kindOf(options, i);
  t.url = "https://127.0.0.1:" + std::to_string(40000 + i % 20);
  t.path = "/t/" + std::to_string(i);
  t.http_versions = {HttpVersion::Http2};
  if (t.kind == TargetKind::Dns) {
    t.url.clear();
    t.names = {"example.test"};
  }
  return t;
}

HttpAttempt httpAttempt(int i, int run, bool ok) {
  HttpAttempt h;
  h.requested = HttpVersion::Http2;
  h.success = ok;
  h.reason = ok ? FailureReason::None : FailureReason::Timeout;
  h.status_code = ok ? 200 : 0;
  h.negotiated_version = ok ? 2 : 0;
  const double jitter = 0.0001 * ((i * 7 + run * 13) % 97);
  h.phases = {std::nullopt, 0.0002 + jitter, 0.0031 + jitter, 0.0042 + jitter, 0.00013};
  if (ok) h.tls = TlsInfo{"TLSv1.3", "TLS_AES_256_GCM_SHA384", 1800000000.0 + i};
  h.body_bytes = 2;
  return h;
}

ProbeResult result(const Options& options, const TargetConfig& t, int i, int run) {
  ProbeResult r;
  r.target = t.name;
  r.kind = t.kind;
  const bool ok = !options.mix || i % 20 != 5;
  r.success = ok;
  r.reason = ok ? FailureReason::None : FailureReason::Timeout;
  r.duration_seconds = 0.0093 + 0.00001 * ((i * 31 + run) % 1000);
  r.started_at = 1763900000.0 + 60.0 * run + 0.001 * (i % 60000);
  r.address = "127.0.0.1";
  if (t.kind == TargetKind::Dns) {
    for (const DnsRecordType type : {DnsRecordType::A, DnsRecordType::Aaaa}) {
      DnsQuery q;
      q.name = "example.test";
      q.resolver = "127.0.0.1:53";
      q.type = type;
      q.rcode = 0;
      q.answers = {type == DnsRecordType::A ? "192.0.2.1" : "2001:db8::1"};
      q.ttl_seconds = 300;
      q.duration_seconds = 0.0012;
      r.dns_queries.push_back(q);
    }
    r.names_agree = {{"example.test", true}};
    return r;
  }
  r.http.push_back(httpAttempt(i, run, ok));
  if (t.kind == TargetKind::GoProxy) {
    ModuleCheck m;
    m.module = "example.com/mod" + std::to_string(i % 50);
    m.requested = "latest";
    m.version = "v1.2." + std::to_string(i % 7);
    m.success = true;
    m.steps = {{ModuleStep::Latest, 0.01, 200, true},
               {ModuleStep::Mod, 0.008, 200, true},
               {ModuleStep::Zip, 0.05, 200, true}};
    m.info_time = 1700000000.5;
    m.zip_bytes = 123456;
    m.zip_hash = "h1:" + std::string(43, 'a') + "=";
    m.mod_hash = "h1:" + std::string(43, 'b') + "=";
    m.hash_match = true;
    r.modules.push_back(m);
  } else if (t.kind == TargetKind::Vcs) {
    VcsCheck v;
    v.module = "git.example.test/team/repo";
    v.vcs = "git";
    v.repo = "https://git.example.test/team/repo.git";
    v.steps = {{VcsStep::Discovery, true, FailureReason::None, "", 0.01, 200},
               {VcsStep::InfoRefs, true, FailureReason::None, "", 0.02, 200}};
    r.vcs = v;
  }
  return r;
}

std::size_t gzipSize(const std::string& body, int level, double& ms) {
  const auto t0 = std::chrono::steady_clock::now();
  z_stream z{};
  if (deflateInit2(&z, level, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK) return 0;
  std::string out(deflateBound(&z, body.size()), '\0');
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(body.data()));
  z.avail_in = static_cast<uInt>(body.size());
  z.next_out = reinterpret_cast<Bytef*>(out.data());
  z.avail_out = static_cast<uInt>(out.size());
  const int rc = deflate(&z, Z_FINISH);
  const std::size_t size = z.total_out;
  deflateEnd(&z);
  ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
  return rc == Z_STREAM_END ? size : 0;
}

/// `promtool check metrics` on `body`: "ok", "not run" or the first lines of its complaint.
std::string promtoolCheck(const std::string& body, bool& failed) {
  failed = false;
  if (std::system("command -v promtool >/dev/null 2>&1") != 0) return "not run (no promtool)";
  const std::string path = "/tmp/gomodprobe_render_bench." + std::to_string(getpid()) + ".prom";
  {
    std::ofstream f(path, std::ios::binary);
    f << body;
  }
  const std::string command = "promtool check metrics < " + path + " 2>&1 | head -5";
  std::string report;
  if (std::FILE* p = popen(command.c_str(), "r")) {
    char buffer[256];
    while (std::fgets(buffer, sizeof buffer, p) != nullptr) report += buffer;
    pclose(p);
  }
  std::remove(path.c_str());
  // promtool prints nothing for a clean exposition (lint warnings otherwise).
  if (report.empty()) return "ok";
  failed = true;
  return report;
}

/// Calls `render(n)` for n = 0 … renders-1 and returns each call's wall time in ms.
template <typename Render>
std::vector<double> timeRenders(int renders, Render&& render) {
  std::vector<double> ms;
  for (int n = 0; n < renders; ++n) {
    const auto t0 = std::chrono::steady_clock::now();
    render(n);
    ms.push_back(
        std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count());
  }
  return ms;
}

double percentile(std::vector<double> values, double q) {
  std::sort(values.begin(), values.end());
  const auto index = static_cast<std::size_t>(q * static_cast<double>(values.size() - 1) + 0.5);
  return values[std::min(index, values.size() - 1)];
}

/// `renders` streamed renders as the web server does them: `render(write)` hands its pieces to
/// `write`, which counts and drops them (as a socket would take them), so only a piece is held at
/// a time. Prints time, bytes, the largest piece and the peak RSS growth, under `label`.
template <typename Render>
void timeStreamed(const char* label, int renders, std::size_t flush_bytes, Render&& render) {
  malloc_trim(0);
  const bool hwm = resetPeakRss();
  const std::uint64_t rss_before = procStatusBytes("VmRSS");
  std::size_t bytes = 0;
  std::size_t largest = 0;
  const std::vector<double> ms = timeRenders(renders, [&](int /*n*/) {
    bytes = 0;
    render([&](std::string_view piece) {
      bytes += piece.size();
      largest = std::max(largest, piece.size());
    });
  });
  const std::string name(label);
  std::printf("%-34s %.1f / %.1f (%zu bytes, largest piece %zu KiB)\n",
              (name + " streamed ms p50 / max").c_str(), percentile(ms, 0.5),
              *std::max_element(ms.begin(), ms.end()), bytes, largest / kKiB);
  if (hwm) {
    std::printf("%-34s %.1f (streamed, %zu KiB pieces)\n", (name + " peak RSS growth MiB").c_str(),
                static_cast<double>(procStatusBytes("VmHWM") - rss_before) / kMiB,
                flush_bytes / kKiB);
  }
}

bool parse(int argc, char** argv, Options& options) {
  for (int i = 1; i < argc; ++i) {
    const std::string_view arg = argv[i];
    const bool has_value = i + 1 < argc;
    if (arg == "--targets" && has_value) {
      options.targets = std::atoi(argv[++i]);
    } else if (arg == "--renders" && has_value) {
      options.renders = std::atoi(argv[++i]);
    } else if (arg == "--out" && has_value) {
      options.out = argv[++i];
    } else if (arg == "--mix") {
      options.mix = true;
    } else if (arg == "--per-target") {
      options.per_target = true;
    } else {
      return false;
    }
  }
  return options.targets > 0 && options.renders > 0;
}

}  // namespace

int main(int argc, char** argv) {
  Options options;
  if (!parse(argc, argv, options)) {
    std::fprintf(stderr,
                 "usage: %s [--targets N] [--renders N] [--mix] [--per-target] [--out FILE]\n",
                 argv[0]);
    return 1;
  }
  std::printf("load average at start %s\n", loadAverage().c_str());
  std::printf("targets %d (%s), histograms %s, %d results each, %d renders\n", options.targets,
              options.mix ? "mixed kinds" : "http as bench/scale.py",
              options.per_target ? "per_target" : "per_kind", kResultsPerTarget, options.renders);

  std::vector<TargetConfig> configs;
  configs.reserve(static_cast<std::size_t>(options.targets));
  for (int i = 0; i < options.targets; ++i) configs.push_back(targetConfig(options, i));

  malloc_trim(0);
  const std::uint64_t rss_empty = procStatusBytes("VmRSS");
  auto collector =
      std::make_unique<ProbeCollector>(BuildInfo{"0.1.0", "bench", "7.88.1", "1.18.1", "3.0.17"});
  collector->setHistogramScope(options.per_target ? HistogramScope::PerTarget
                                                  : HistogramScope::PerKind);
  collector->setTargets(configs);
  collector->setConfigReload(true, 1763900000);
  for (int run = 0; run < kResultsPerTarget; ++run) {
    for (int i = 0; i < options.targets; ++i) {
      collector->record(result(options, configs[static_cast<std::size_t>(i)], i, run));
      collector->observeSchedulerLag(0.001 * (i % 50));
    }
  }
  malloc_trim(0);
  const std::uint64_t rss_filled = procStatusBytes("VmRSS");

  std::string body = collector->renderText();  // warm-up (sizes the reserve)
  body = std::string();
  malloc_trim(0);
  const bool hwm = resetPeakRss();
  const std::uint64_t rss_before_render = procStatusBytes("VmRSS");
  std::size_t bytes = 0;
  const std::vector<double> ms = timeRenders(options.renders, [&](int n) {
    std::string text = collector->renderText();
    bytes = text.size();
    if (n + 1 == options.renders) body = std::move(text);
  });
  const std::uint64_t rss_peak = hwm ? procStatusBytes("VmHWM") : 0;
  if (bytes == 0) {
    std::fprintf(stderr, "empty exposition\n");
    return 1;
  }
  std::size_t lines = 0;
  for (const char c : body) lines += c == '\n' ? 1 : 0;

  const double p50 = percentile(ms, 0.5);
  const double p99 = percentile(ms, 0.99);
  const double max = *std::max_element(ms.begin(), ms.end());
  std::printf("exposition bytes                   %zu (%.0f KiB, %zu lines, %.0f B per target)\n",
              bytes, static_cast<double>(bytes) / kKiB, lines,
              static_cast<double>(bytes) / options.targets);
  std::printf("render ms p50 / p99 / max          %.1f / %.1f / %.1f\n", p50, p99, max);
  std::printf("render MB/s at p50                 %.0f\n", static_cast<double>(bytes) / 1e3 / p50);
  std::printf("collector RSS MiB (filled-empty)   %.1f (%.0f B per target)\n",
              static_cast<double>(rss_filled - rss_empty) / kMiB,
              static_cast<double>(rss_filled - rss_empty) / options.targets);
  if (hwm) {
    std::printf("render peak RSS growth MiB         %.1f\n",
                static_cast<double>(rss_peak - rss_before_render) / kMiB);
  }
  // As GET /metrics serves it: pieces of whole targets' series, never a whole family.
  timeStreamed("render", options.renders, ProbeCollector::kRenderFlushBytes,
               [&](const auto& write) { collector->renderText(write); });
  for (const int level : {1, 6}) {
    double gzip_ms = 0;
    const std::size_t gz = gzipSize(body, level, gzip_ms);
    std::printf("gzip level %d (zlib)                %.1f ms, %zu KiB\n", level, gzip_ms,
                gz / kKiB);
  }
  bool promtool_failed = false;
  const std::string promtool = promtoolCheck(body, promtool_failed);
  std::printf("promtool check metrics             %s\n", promtool.c_str());
  std::printf("goal render < %.0f ms: %s (max %.1f ms)\n", kGoalMs,
              max < kGoalMs ? "met" : "NOT met", max);

  // The landing page (GET /) over the same targets, as the web server renders it per request.
  malloc_trim(0);
  const bool page_hwm = resetPeakRss();
  const std::uint64_t rss_before_page = procStatusBytes("VmRSS");
  std::size_t page_bytes = 0;
  const gomodprobe::web::LandingPageInfo page_info{"0.1.0", std::chrono::system_clock::now(), 10};
  const std::vector<double> page_ms = timeRenders(options.renders, [&](int /*n*/) {
    page_bytes = gomodprobe::web::renderLandingPage(collector->targetSnapshots(), page_info).size();
  });
  std::printf("landing page bytes                 %zu (%.0f KiB, %.0f B per target)\n", page_bytes,
              static_cast<double>(page_bytes) / kKiB,
              static_cast<double>(page_bytes) / options.targets);
  std::printf("landing page ms p50 / max          %.1f / %.1f\n", percentile(page_ms, 0.5),
              *std::max_element(page_ms.begin(), page_ms.end()));
  if (page_hwm) {
    std::printf("landing page peak RSS growth MiB   %.1f (whole page as one string)\n",
                static_cast<double>(procStatusBytes("VmHWM") - rss_before_page) / kMiB);
  }
  // As GET / serves it: handed over in pieces, so only a piece and the target snapshots are held.
  timeStreamed("landing page", options.renders, gomodprobe::web::kLandingFlushBytes,
               [&](const auto& write) {
                 gomodprobe::web::renderLandingPage(collector->targetSnapshots(), page_info, write);
               });
  std::printf("load average at end %s\n", loadAverage().c_str());
  if (!options.out.empty()) {
    std::ofstream f(options.out, std::ios::binary);
    f << body;
  }
  return promtool_failed ? 1 : 0;
}
