#pragma once

#include <prometheus/collectable.h>
#include <prometheus/metric_family.h>

#include <array>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <tuple>
#include <vector>

#include "gomodprobe/config.h"
#include "gomodprobe/probe.h"

namespace gomodprobe::metrics {

/// Bucket upper bounds (seconds) of every latency histogram: 1 ms … 30 s, roughly ×2.5 per step,
/// fine enough to tell a loopback hit (< 5 ms), a same-region proxy (10–100 ms), a cross-ocean one
/// (100 ms–1 s) and a stall (> 5 s) apart.
inline constexpr std::array<double, 14> kLatencyBuckets = {
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30};

/// A cumulative histogram with fixed bounds (+Inf implied).
class HistogramData {
 public:
  HistogramData() : HistogramData(kLatencyBuckets) {}
  /// `bounds` must outlive the histogram (static storage such as kLatencyBuckets).
  explicit HistogramData(std::span<const double> bounds);
  void observe(double value);
  [[nodiscard]] prometheus::ClientMetric::Histogram toClientMetric() const;
  [[nodiscard]] std::uint64_t count() const { return count_; }
  [[nodiscard]] double sum() const { return sum_; }
  [[nodiscard]] std::span<const double> bounds() const { return bounds_; }
  /// Per bucket (not cumulative), the last one being +Inf; empty before the first observe() (every
  /// bucket 0: the counts are allocated then, so unused histograms cost no heap).
  [[nodiscard]] std::span<const std::uint64_t> counts() const { return counts_; }

 private:
  std::span<const double> bounds_;
  std::vector<std::uint64_t> counts_;  // per bucket, not cumulative; last = +Inf; lazy
  std::uint64_t count_ = 0;
  double sum_ = 0;
};

struct BuildInfo {
  std::string version;
  std::string revision;
  std::string curl;
  std::string cares;
  std::string openssl;
};
/// Versions of this build and of the libraries it runs with.
[[nodiscard]] BuildInfo currentBuildInfo();

/// One configured target as the landing page shows it.
struct TargetSnapshot {
  std::string name;
  TargetKind kind = TargetKind::Http;
  std::uint64_t probes = 0;    ///< finished runs
  std::uint64_t failures = 0;  ///< failed runs (every reason)
  /// The last finished run, shared with the collector (a snapshot of 10,000 targets copies 10,000
  /// pointers, not 10,000 results); null before the first run.
  std::shared_ptr<const ProbeResult> last;
};

/// Turns probe results into the `gomodprobe_*` metric families (the contract in README.md). Thread
/// safe: the loop thread records, scrapes collect. Series of targets removed by a reload vanish.
class MetricSink;

class ProbeCollector final : public prometheus::Collectable {
 public:
  explicit ProbeCollector(BuildInfo build_info);

  /// Declares the configured targets: new ones get zeroed counters, removed ones are dropped.
  void setTargets(const std::vector<TargetConfig>& targets);
  /// Records one finished run (pass an rvalue to hand it over without a copy). Results of unknown
  /// targets (removed meanwhile) are ignored.
  void record(ProbeResult result);
  void observeSchedulerLag(double seconds);
  void setInFlight(int in_flight);
  void setSkippedRuns(std::uint64_t skipped);
  /// After a (re)load attempt; `timestamp` is Unix seconds, used only when `ok`.
  void setConfigReload(bool ok, double timestamp);
  /// Findings of config::lintGoEnv on the agent's own Go environment.
  void setGoEnvLint(std::size_t errors, std::size_t warnings);

  /// How duration histograms are labelled from now on (per target, the default, or per kind).
  /// Switching drops the histograms of the other scope.
  void setHistogramScope(HistogramScope scope);

  [[nodiscard]] std::vector<prometheus::MetricFamily> Collect() const override;
  /// The same families as Collect(), rendered straight into the Prometheus text format 0.0.4
  /// (what `/metrics` serves): no intermediate MetricFamily objects, so a scrape of thousands of
  /// targets costs one string of the exposition's size. Numbers are written in their shortest
  /// round-trip form (std::to_chars); label values and help escaped as the format requires.
  [[nodiscard]] std::string renderText() const;
  /// The same text, streamed: `write` receives it in pieces of `flush_bytes` or a little more (a
  /// piece ends after a family or after one target's series, so it is at most `flush_bytes` plus
  /// one target's lines), always called with the collector's mutex released, so a slow consumer
  /// (a scrape over a slow link) never holds up record(). Pieces concatenated equal renderText()
  /// of the same moment per target: each target's series of a family are taken under one lock.
  void renderText(const std::function<void(std::string_view)>& write,
                  std::size_t flush_bytes = kRenderFlushBytes) const;
  /// Default piece size of the streamed render (bytes).
  static constexpr std::size_t kRenderFlushBytes = std::size_t{256} * 1024;
  /// Every configured target, by name, with its counters and last result (a copy, taken under the
  /// lock).
  [[nodiscard]] std::vector<TargetSnapshot> targetSnapshots() const;

 private:
  struct TargetState {
    TargetKind kind = TargetKind::Http;
    std::vector<HttpVersion> versions;
    std::uint64_t probes = 0;
    std::map<FailureReason, std::uint64_t> failures;
    HistogramData duration;
    std::map<std::tuple<Phase, HttpVersion>, HistogramData> phases;
    std::map<ModuleStep, HistogramData> module_steps;
    std::map<VcsStep, HistogramData> vcs_steps;
    std::shared_ptr<const ProbeResult> last;  // null before the first run: 16 bytes, not 616
    std::optional<TlsInfo> tls;  // last TLS seen: kept while a run fails before the handshake
    std::string host;            // the URL's host: `name` of resolvers_agree for HTTP kinds
  };

  /// Writes every family to `sink`, in a fixed order. `lock` holds mutex_; it is released and
  /// taken again between families.
  void emit(MetricSink& sink, std::unique_lock<std::mutex>& lock) const;
  /// The target named `name`, or nullptr. Needs mutex_.
  TargetState* findTarget(std::string_view name);

  BuildInfo build_info_;
  mutable std::mutex mutex_;
  /// Sorted by name: a scrape walks it once per family, contiguously (no tree nodes to chase).
  std::vector<std::pair<std::string, TargetState>> targets_;        // guarded by mutex_
  HistogramData scheduler_lag_;                                     // guarded by mutex_
  int in_flight_ = 0;                                               // guarded by mutex_
  std::uint64_t skipped_runs_ = 0;                                  // guarded by mutex_
  bool reload_ok_ = false;                                          // guarded by mutex_
  double reload_timestamp_ = 0;                                     // guarded by mutex_
  std::optional<std::pair<std::size_t, std::size_t>> go_env_lint_;  // guarded by mutex_
  HistogramScope scope_ = HistogramScope::PerTarget;                // guarded by mutex_
  // HistogramScope::PerKind: the run and phase histograms of every target of a kind, together.
  std::map<TargetKind, HistogramData> kind_duration_;  // guarded by mutex_
  std::map<std::tuple<TargetKind, Phase, HttpVersion>, HistogramData>
      kind_phases_;                         // guarded by mutex_
  mutable std::size_t last_text_size_ = 0;  // guarded by mutex_
};

}  // namespace gomodprobe::metrics
