// Benchmark: peak memory of loading a large configuration file.
//
// Writes the 10,000-target config bench/scale.py writes (global interval/timeout/ca_file/
// max_concurrent_probes/histograms: per_kind; per target name, kind http, url, path,
// http_versions ["2"], ip_protocol ip4; ~1.1 MB of YAML) to a temp file, then measures, each in
// a forked child so that every measurement starts from the same heap:
//   - config::loadConfigFile on it: wall time, peak RSS growth (VmHWM after − VmRSS before, VmHWM
//     reset just before), the RSS the returned Config keeps (after malloc_trim) and the heap
//     bytes it holds (mallinfo2);
//   - yaml-cpp's YAML::Load of the same text alone: the node tree the loader used to build;
//   - config::YamlTree::parse alone (the event-built tree the loader builds now), when this
//     source tree has it (so the same file measures an older loader too).
// The daemon loads the config at start and at every reload (POST /-/reload, SIGHUP), so the
// load's transient peak adds to the steady-state RSS (issue 6: RSS <= 60 MB at 10,000 targets).
//
// It is a measurement, not a test: it exits 0 whatever the figures, and 1 only when the
// benchmark cannot run (the file cannot be written or does not load). MiB = 2^20 bytes.

#include <malloc.h>
#include <sys/wait.h>
#include <unistd.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <filesystem>
#include <fstream>
#include <functional>
#include <optional>
#include <sstream>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "config/config_loader.h"
#include "proc_status.h"
#if __has_include("config/yaml_tree.h")
#include "config/yaml_tree.h"
#define GOMODPROBE_HAVE_YAML_TREE 1
#endif

namespace {

constexpr int kTargets = 10'000;
constexpr int kPorts = 20;  // scale.py's nginx ports
constexpr int kRuns = 3;
constexpr double kMiB = 1024.0 * 1024.0;

/// The config scale.py writes for `targets` targets (its healthy run).
std::string scaleConfig(int targets) {
  std::ostringstream out;
  out << "global:\n  interval: 60000ms\n  timeout: 10000ms\n"
         "  ca_file: /tmp/gomodprobe-scale-pki/ca.pem\n"
         "  max_concurrent_probes: 2000\n  histograms: per_kind\ntargets:\n";
  for (int i = 0; i < targets; ++i) {
    out << "  - name: t" << i
        << "\n    kind: http\n    url: https://127.0.0.1:" << 40000 + (i % kPorts)
        << "\n    path: /t/" << i << "\n    http_versions: [\"2\"]\n    ip_protocol: ip4\n";
  }
  return out.str();
}

using gomodprobe::bench::loadAverage;
using gomodprobe::bench::procStatusBytes;
using gomodprobe::bench::resetPeakRss;

/// Bytes malloc has handed out and not had back (small blocks and mmapped ones).
std::uint64_t heapInUse() {
  const struct mallinfo2 info = mallinfo2();
  return info.uordblks + info.hblkhd;
}

struct Measurement {
  bool ok = false;
  bool used_hwm = false;
  double wall_s = 0;
  double peak_growth_mib = 0;  // VmHWM during the call − VmRSS before
  double retained_mib = 0;     // VmRSS with the result alive − VmRSS before
  double heap_mib = 0;         // malloc's bytes in use with the result alive − before
  double count = 0;            // what the call reports (targets, nodes)
};

/// Runs `call` in a forked child and reports its time and memory. `call` returns a count and
/// keeps its result alive until `measured` is called (so the retained RSS includes it).
using Call = std::function<double(const std::function<void()>& measured)>;

Measurement measureInChild(const Call& call) {
  int fds[2];
  if (::pipe(fds) != 0) return {};
  std::fflush(nullptr);
  const pid_t pid = ::fork();
  if (pid < 0) return {};
  if (pid == 0) {
    ::close(fds[0]);
    Measurement m;
    try {
      malloc_trim(0);
      const std::uint64_t before = procStatusBytes("VmRSS");
      const std::uint64_t heap_before = heapInUse();
      m.used_hwm = resetPeakRss();
      const auto t0 = std::chrono::steady_clock::now();
      m.count = call([&] {
        m.wall_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
        const std::uint64_t peak = procStatusBytes(m.used_hwm ? "VmHWM" : "VmRSS");
        malloc_trim(0);  // what was freed (the parse) does not count as kept
        const std::uint64_t now = procStatusBytes("VmRSS");
        m.peak_growth_mib = static_cast<double>(peak > before ? peak - before : 0) / kMiB;
        m.retained_mib = static_cast<double>(now > before ? now - before : 0) / kMiB;
        const std::uint64_t heap = heapInUse();
        m.heap_mib = static_cast<double>(heap > heap_before ? heap - heap_before : 0) / kMiB;
      });
      m.ok = true;
    } catch (const std::exception& e) {
      std::fprintf(stderr, "config_load_bench: %s\n", e.what());
    }
    const auto written = ::write(fds[1], &m, sizeof m);
    ::_exit(written == sizeof m ? 0 : 1);
  }
  ::close(fds[1]);
  Measurement m;
  const auto read = ::read(fds[0], &m, sizeof m);
  ::close(fds[0]);
  int status = 0;
  ::waitpid(pid, &status, 0);
  if (read != sizeof m) return {};
  return m;
}

/// The median (by peak growth) of kRuns measurements; nullopt if any failed.
std::optional<Measurement> measure(const Call& call) {
  std::vector<Measurement> runs;
  for (int i = 0; i < kRuns; ++i) {
    const Measurement m = measureInChild(call);
    if (!m.ok) return std::nullopt;
    runs.push_back(m);
  }
  std::sort(runs.begin(), runs.end(), [](const Measurement& a, const Measurement& b) {
    return a.peak_growth_mib < b.peak_growth_mib;
  });
  return runs[runs.size() / 2];
}

void printRow(const char* name, const Measurement& m, const char* count_unit) {
  std::printf("  %-34s %8.1f %9.1f %9.1f %9.1f %8.0f %s\n", name, m.wall_s * 1000,
              m.peak_growth_mib, m.retained_mib, m.heap_mib, m.count, count_unit);
}

}  // namespace

int main() {
  namespace cfg = gomodprobe::config;
  std::printf("config_load_bench: loading a %d-target config (scale.py's) (MiB = 2^20 bytes)\n",
              kTargets);
  std::printf("  load average at start   %s (%u CPUs)\n", loadAverage().c_str(),
              std::thread::hardware_concurrency());
  const std::string text = scaleConfig(kTargets);
  const std::filesystem::path path =
      std::filesystem::temp_directory_path() /
      ("gomodprobe-config-load-bench-" + std::to_string(::getpid()) + ".yml");
  {
    std::ofstream out(path, std::ios::binary);
    out << text;
    if (!out.flush()) {
      std::fprintf(stderr, "config_load_bench: cannot write %s\n", path.c_str());
      return 1;
    }
  }
  std::printf("  config                  %s, %.2f MiB\n", path.c_str(),
              static_cast<double>(text.size()) / kMiB);
  std::printf("  sizeof(TargetConfig)    %zu bytes\n\n", sizeof(gomodprobe::TargetConfig));
  std::printf("  %-34s %8s %9s %9s %9s %8s\n", "median of 3, each in a fresh child", "wall ms",
              "peak MiB", "kept MiB", "heap MiB", "count");

  const auto load = measure([&](const std::function<void()>& measured) {
    const gomodprobe::Config config = cfg::loadConfigFile(path.string());
    measured();
    return static_cast<double>(config.targets.size());
  });
  const auto yaml_cpp = measure([&](const std::function<void()>& measured) {
    const YAML::Node root = YAML::Load(text);
    measured();
    return static_cast<double>(root["targets"].size());
  });
#ifdef GOMODPROBE_HAVE_YAML_TREE
  const auto tree = measure([&](const std::function<void()>& measured) {
    const cfg::YamlTree parsed = cfg::YamlTree::parse(text);
    measured();
    return static_cast<double>(parsed.nodeCount());
  });
#endif
  std::filesystem::remove(path);
  if (!load || !yaml_cpp) {
    std::fprintf(stderr, "config_load_bench: a measurement failed\n");
    return 1;
  }
  printRow("loadConfigFile", *load, "targets");
  printRow("yaml-cpp YAML::Load (node tree)", *yaml_cpp, "targets");
#ifdef GOMODPROBE_HAVE_YAML_TREE
  if (tree) printRow("YamlTree::parse (event-built tree)", *tree, "nodes");
#endif
  if (!load->used_hwm) std::printf("  (VmHWM reset not permitted: peaks are VmRSS at the end)\n");
  std::printf(
      "\n  loadConfigFile: peak growth %.1f MiB for a Config of %.1f MiB heap (%.0f bytes/target, "
      "RSS kept %.1f MiB): peak %.1fx the Config\n",
      load->peak_growth_mib, load->heap_mib, load->heap_mib * kMiB / static_cast<double>(kTargets),
      load->retained_mib, load->peak_growth_mib / load->heap_mib);
  return 0;
}
