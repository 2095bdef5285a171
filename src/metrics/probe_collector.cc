#include "metrics/probe_collector.h"

#include <ares.h>
#include <curl/curl.h>
#include <openssl/crypto.h>
#include <openssl/opensslv.h>

#include <algorithm>
#include <array>
#include <charconv>
#include <cmath>
#include <functional>
#include <initializer_list>
#include <limits>
#include <set>
#include <thread>
#include <utility>

#include "net/http_fetch.h"

#ifndef GOMODPROBE_VERSION
#define GOMODPROBE_VERSION "dev"
#endif
#ifndef GOMODPROBE_REVISION
#define GOMODPROBE_REVISION "unknown"
#endif

namespace gomodprobe::metrics {

namespace {

using prometheus::ClientMetric;
using prometheus::MetricFamily;
using prometheus::MetricType;

}  // namespace

struct Label {
  std::string_view name;
  std::string_view value;
};
using Labels = std::initializer_list<Label>;

/// Receives the families in order: family() announces one, its samples follow. A family without
/// samples does not appear in the output.
class MetricSink {
 public:
  MetricSink() = default;
  MetricSink(const MetricSink&) = delete;
  MetricSink& operator=(const MetricSink&) = delete;
  virtual ~MetricSink() = default;
  virtual void family(std::string_view name, std::string_view help, MetricType type) = 0;
  /// A gauge or counter sample (as the family's type says).
  virtual void value(Labels labels, double value) = 0;
  virtual void histogram(Labels labels, const HistogramData& data) = 0;
  /// Between two families, or between two targets of a family when wantsFlush(), with the
  /// collector's mutex released: a streaming sink hands what it has written so far to its
  /// consumer here (never under the lock).
  virtual void boundary() {}
  /// True when the sink holds enough to hand over: the walk over the targets then releases the
  /// mutex after the current target and calls boundary() (a family of thousands of targets is
  /// sent in pieces, not held whole).
  [[nodiscard]] virtual bool wantsFlush() const { return false; }
};

namespace {

/// Builds prometheus::MetricFamily objects (Collect(): push mode, tests).
class FamilySink final : public MetricSink {
 public:
  void family(std::string_view name, std::string_view help, MetricType type) override {
    pending_ = MetricFamily{std::string(name), std::string(help), type, {}};
    has_pending_ = true;
  }
  void value(Labels labels, double value) override {
    ClientMetric& metric = add(labels);
    if (current().type == MetricType::Counter) {
      metric.counter.value = value;
    } else {
      metric.gauge.value = value;
    }
  }
  void histogram(Labels labels, const HistogramData& data) override {
    add(labels).histogram = data.toClientMetric();
  }
  std::vector<MetricFamily> take() { return std::move(families_); }

 private:
  MetricFamily& current() { return families_.back(); }
  ClientMetric& add(Labels labels) {
    if (has_pending_) {
      families_.push_back(std::move(pending_));
      has_pending_ = false;
    }
    ClientMetric metric;
    metric.label.reserve(labels.size());
    for (const Label& label : labels) {
      metric.label.push_back(
          ClientMetric::Label{std::string(label.name), std::string(label.value)});
    }
    current().metric.push_back(std::move(metric));
    return current().metric.back();
  }

  std::vector<MetricFamily> families_;
  MetricFamily pending_;
  bool has_pending_ = false;
};

/// Writes the text format 0.0.4 (prometheus.io/docs/instrumenting/exposition_formats) into a
/// string: `# HELP`/`# TYPE` before a family's first sample; histograms as _bucket{le=…} lines
/// (cumulative, ending with +Inf), then _sum and _count.
class TextSink final : public MetricSink {
 public:
  explicit TextSink(std::string& out) : out_(out) {}
  /// Streaming: the text is handed to `write` at family or target boundaries once it reaches
  /// `flush_bytes`, and `out` is cleared after each hand-over.
  TextSink(std::string& out, const std::function<void(std::string_view)>& write,
           std::size_t flush_bytes)
      : out_(out), write_(&write), flush_bytes_(flush_bytes) {}
  [[nodiscard]] bool wantsFlush() const override {
    return write_ != nullptr && out_.size() >= flush_bytes_;
  }
  void boundary() override {
    if (wantsFlush()) flush();
  }
  void flush() {
    if (write_ == nullptr || out_.empty()) return;
    (*write_)(out_);
    out_.clear();
  }
  void family(std::string_view name, std::string_view help, MetricType type) override {
    name_ = name;
    help_ = help;
    type_ = type;
    header_written_ = false;
  }
  void value(Labels labels, double value) override {
    header();
    line(name_, "", labels, {});
    appendDouble(value);
    out_ += '\n';
  }
  void histogram(Labels labels, const HistogramData& data) override {
    header();
    std::uint64_t cumulative = 0;
    const auto bounds = data.bounds();
    const auto counts = data.counts();
    std::array<char, 32> le{};
    for (std::size_t i = 0; i <= bounds.size(); ++i) {
      cumulative += i < counts.size() ? counts[i] : 0;
      std::string_view le_text = "+Inf";
      if (i < bounds.size()) {
        const auto [end, ec] = std::to_chars(le.data(), le.data() + le.size(), bounds[i]);
        le_text = std::string_view(le.data(), static_cast<std::size_t>(end - le.data()));
      }
      line(name_, "_bucket", labels, le_text);
      appendUnsigned(cumulative);
      out_ += '\n';
    }
    line(name_, "_sum", labels, {});
    appendDouble(data.sum());
    out_ += '\n';
    line(name_, "_count", labels, {});
    appendUnsigned(data.count());
    out_ += '\n';
  }

 private:
  void header() {
    if (header_written_) return;
    header_written_ = true;
    out_.append("# HELP ").append(name_).append(" ");
    for (const char c : help_) {
      if (c == '\\') {
        out_ += "\\\\";
      } else if (c == '\n') {
        out_ += "\\n";
      } else {
        out_ += c;
      }
    }
    out_.append("\n# TYPE ").append(name_).append(" ");
    switch (type_) {
      case MetricType::Counter:
        out_ += "counter";
        break;
      case MetricType::Gauge:
        out_ += "gauge";
        break;
      case MetricType::Histogram:
        out_ += "histogram";
        break;
      case MetricType::Summary:
        out_ += "summary";
        break;
      default:
        out_ += "untyped";
    }
    out_ += '\n';
  }
  /// `name{labels[,le="…"]} ` (no braces without labels).
  void line(std::string_view name, std::string_view suffix, Labels labels, std::string_view le) {
    out_.append(name).append(suffix);
    if (labels.size() != 0 || !le.empty()) {
      out_ += '{';
      bool first = true;
      for (const Label& label : labels) {
        if (!first) out_ += ',';
        first = false;
        out_.append(label.name).append("=\"");
        appendEscaped(label.value);
        out_ += '"';
      }
      if (!le.empty()) {
        if (!first) out_ += ',';
        out_.append("le=\"").append(le).append("\"");
      }
      out_ += '}';
    }
    out_ += ' ';
  }
  void appendEscaped(std::string_view value) {
    // Most label values need no escape: append them whole.
    std::size_t start = 0;
    for (std::size_t i = value.find_first_of("\\\"\n"); i != std::string_view::npos;
         i = value.find_first_of("\\\"\n", start)) {
      out_.append(value.substr(start, i - start));
      out_ += '\\';
      out_ += value[i] == '\n' ? 'n' : value[i];
      start = i + 1;
    }
    out_.append(value.substr(start));
  }
  void appendDouble(double value) {
    if (std::isnan(value)) {
      out_ += "NaN";
    } else if (std::isinf(value)) {
      out_ += value > 0 ? "+Inf" : "-Inf";
    } else {
      std::array<char, 32> buffer{};
      const auto [end, ec] = std::to_chars(buffer.data(), buffer.data() + buffer.size(), value);
      out_.append(buffer.data(), end);
    }
  }
  void appendUnsigned(std::uint64_t value) {
    std::array<char, 24> buffer{};
    const auto [end, ec] = std::to_chars(buffer.data(), buffer.data() + buffer.size(), value);
    out_.append(buffer.data(), end);
  }

  std::string& out_;
  const std::function<void(std::string_view)>* write_ = nullptr;
  std::size_t flush_bytes_ = 0;
  std::string_view name_;
  std::string_view help_;
  MetricType type_ = MetricType::Untyped;
  bool header_written_ = false;
};

}  // namespace

HistogramData::HistogramData(std::span<const double> bounds) : bounds_(bounds) {}

void HistogramData::observe(double value) {
  const auto it = std::lower_bound(bounds_.begin(), bounds_.end(), value);
  if (counts_.empty()) counts_.assign(bounds_.size() + 1, 0);
  ++counts_[static_cast<std::size_t>(it - bounds_.begin())];
  ++count_;
  sum_ += value;
}

ClientMetric::Histogram HistogramData::toClientMetric() const {
  ClientMetric::Histogram out;
  out.sample_count = count_;
  out.sample_sum = sum_;
  std::uint64_t cumulative = 0;
  for (std::size_t i = 0; i <= bounds_.size(); ++i) {
    cumulative += i < counts_.size() ? counts_[i] : 0;
    out.bucket.push_back(ClientMetric::Bucket{
        cumulative, i < bounds_.size() ? bounds_[i] : std::numeric_limits<double>::infinity()});
  }
  return out;
}

BuildInfo currentBuildInfo() {
  BuildInfo info;
  info.version = GOMODPROBE_VERSION;
  info.revision = GOMODPROBE_REVISION;
  const curl_version_info_data* curl = curl_version_info(CURLVERSION_NOW);
  info.curl = curl != nullptr ? curl->version : "unknown";
  info.cares = ares_version(nullptr);
  info.openssl = OpenSSL_version(OPENSSL_VERSION_STRING);
  return info;
}

ProbeCollector::ProbeCollector(BuildInfo build_info) : build_info_(std::move(build_info)) {}

void ProbeCollector::setTargets(const std::vector<TargetConfig>& targets) {
  std::lock_guard lock(mutex_);
  std::vector<std::pair<std::string, TargetState>> next;
  next.reserve(targets.size());
  for (const auto& target : targets) {
    TargetState* old = findTarget(target.name);
    TargetState state;
    if (old != nullptr && old->kind == target.kind) state = std::move(*old);
    state.kind = target.kind;
    state.versions = target.http_versions;
    state.host.clear();
    if (const auto parts = net::splitUrl(target.requestUrl()); parts && !target.url.empty()) {
      state.host = parts->host;
    }
    next.emplace_back(target.name, std::move(state));
  }
  // Sorted by name (the order of the exposition), the first of equal names kept.
  std::stable_sort(next.begin(), next.end(),
                   [](const auto& a, const auto& b) { return a.first < b.first; });
  next.erase(std::unique(next.begin(), next.end(),
                         [](const auto& a, const auto& b) { return a.first == b.first; }),
             next.end());
  targets_ = std::move(next);
}

ProbeCollector::TargetState* ProbeCollector::findTarget(std::string_view name) {
  const auto it = std::lower_bound(
      targets_.begin(), targets_.end(), name,
      [](const auto& entry, std::string_view key) { return std::string_view(entry.first) < key; });
  return it != targets_.end() && it->first == name ? &it->second : nullptr;
}

void ProbeCollector::record(ProbeResult result) {
  std::lock_guard lock(mutex_);
  TargetState* found = findTarget(result.target);
  if (found == nullptr) return;
  TargetState& state = *found;
  const bool per_target = scope_ == HistogramScope::PerTarget;
  const TargetKind kind = state.kind;
  ++state.probes;
  if (!result.success) ++state.failures[result.reason];
  (per_target ? state.duration : kind_duration_[kind]).observe(result.duration_seconds);
  for (const auto& attempt : result.http) {
    for (std::size_t p = 0; p < kPhaseCount; ++p) {
      if (!attempt.phases[p]) continue;
      const auto phase = static_cast<Phase>(p);
      (per_target ? state.phases[{phase, attempt.requested}]
                  : kind_phases_[{kind, phase, attempt.requested}])
          .observe(*attempt.phases[p]);
    }
    if (attempt.tls) state.tls = attempt.tls;
  }
  for (const auto& module : result.modules) {
    for (const auto& step : module.steps) {
      state.module_steps[step.step].observe(step.duration_seconds);
    }
  }
  if (result.vcs) {
    for (const auto& step : result.vcs->steps) {
      state.vcs_steps[step.step].observe(step.duration_seconds);
    }
  }
  state.last = std::make_shared<const ProbeResult>(std::move(result));
}

std::vector<TargetSnapshot> ProbeCollector::targetSnapshots() const {
  std::lock_guard lock(mutex_);
  std::vector<TargetSnapshot> out;
  out.reserve(targets_.size());
  for (const auto& [name, state] : targets_) {
    std::uint64_t failures = 0;
    for (const auto& [reason, count] : state.failures) failures += count;
    out.push_back(TargetSnapshot{name, state.kind, state.probes, failures, state.last});
  }
  return out;
}

void ProbeCollector::setHistogramScope(HistogramScope scope) {
  std::lock_guard lock(mutex_);
  if (scope == scope_) return;
  scope_ = scope;
  if (scope == HistogramScope::PerKind) {
    for (auto& [name, state] : targets_) {
      state.duration = HistogramData();
      state.phases.clear();
    }
  } else {
    kind_duration_.clear();
    kind_phases_.clear();
  }
}

void ProbeCollector::observeSchedulerLag(double seconds) {
  std::lock_guard lock(mutex_);
  scheduler_lag_.observe(seconds);
}

void ProbeCollector::setInFlight(int in_flight) {
  std::lock_guard lock(mutex_);
  in_flight_ = in_flight;
}

void ProbeCollector::setSkippedRuns(std::uint64_t skipped) {
  std::lock_guard lock(mutex_);
  skipped_runs_ = skipped;
}

void ProbeCollector::setGoEnvLint(std::size_t errors, std::size_t warnings) {
  std::lock_guard lock(mutex_);
  go_env_lint_ = std::make_pair(errors, warnings);
}

void ProbeCollector::setConfigReload(bool ok, double timestamp) {
  std::lock_guard lock(mutex_);
  reload_ok_ = ok;
  if (ok) reload_timestamp_ = timestamp;
}

std::vector<MetricFamily> ProbeCollector::Collect() const {
  std::unique_lock lock(mutex_);
  FamilySink sink;
  emit(sink, lock);
  return sink.take();
}

std::string ProbeCollector::renderText() const {
  std::unique_lock lock(mutex_);
  std::string out;
  out.reserve(last_text_size_ + last_text_size_ / 8);
  TextSink sink(out);
  emit(sink, lock);
  last_text_size_ = out.size();
  return out;
}

void ProbeCollector::renderText(const std::function<void(std::string_view)>& write,
                                std::size_t flush_bytes) const {
  std::string buffer;
  buffer.reserve(flush_bytes + flush_bytes / 4);
  TextSink sink(buffer, write, flush_bytes);
  {
    std::unique_lock lock(mutex_);
    emit(sink, lock);
  }
  sink.flush();  // the last family, outside the lock
}

void ProbeCollector::emit(MetricSink& sink, std::unique_lock<std::mutex>& lock) const {
  const bool per_target = scope_ == HistogramScope::PerTarget;
  // Between families the mutex is let go for a moment: rendering thousands of targets takes tens
  // of milliseconds, and the loop thread must not wait that long to record a result. A scrape is
  // then consistent per family, not across families (as with client_golang's collectors); a
  // streamed one only per target within a family, when a piece ends inside it (see `walk`).
  const auto family = [&sink, &lock](std::string_view name, std::string_view help,
                                     MetricType type) {
    lock.unlock();
    sink.boundary();
    std::this_thread::yield();
    lock.lock();
    sink.family(name, help, type);
  };
  // Runs `fn(name, state)` for every target, in name order. When the sink has a piece to hand
  // over, the mutex is let go after the current target: with per-target histograms one family is
  // ~7 KB per target, and a whole family must not be held in memory (nor the lock held while it is
  // sent). A reload in that moment may replace targets_; the walk resumes after the last name
  // rendered, so a series is never split nor repeated (a scrape is consistent per target).
  const auto walk = [this, &sink, &lock](auto&& fn) {
    std::size_t i = 0;
    while (i < targets_.size()) {
      fn(targets_[i].first, targets_[i].second);
      ++i;
      if (!sink.wantsFlush() || i == targets_.size()) continue;
      const std::string last = targets_[i - 1].first;  // a copy: targets_ may change unlocked
      lock.unlock();
      sink.boundary();
      lock.lock();
      i = static_cast<std::size_t>(std::upper_bound(targets_.begin(), targets_.end(), last,
                                                    [](const std::string& key, const auto& entry) {
                                                      return key < entry.first;
                                                    }) -
                                   targets_.begin());
    }
  };
  // Runs `fn(name, state, kind)` for every target; each_last: only targets with a finished run.
  const auto each = [&walk](auto&& fn) {
    walk([&fn](const std::string& name, const TargetState& state) {
      fn(name, state, std::string_view(toString(state.kind)));
    });
  };
  const auto each_last = [&walk](auto&& fn) {
    walk([&fn](const std::string& name, const TargetState& state) {
      if (state.last) fn(name, state, *state.last);
    });
  };

  family("gomodprobe_probe_success",
         "1 if the last run of the target succeeded (every requested HTTP version), else 0.",
         MetricType::Gauge);
  each_last([&](const std::string& name, const TargetState& state, const ProbeResult& last) {
    sink.value({{"target", name}, {"kind", toString(state.kind)}}, last.success ? 1 : 0);
  });
  family("gomodprobe_probes_total", "Runs of the target.", MetricType::Counter);
  each([&](const std::string& name, const TargetState& state, std::string_view kind) {
    sink.value({{"target", name}, {"kind", kind}}, static_cast<double>(state.probes));
  });
  family("gomodprobe_probe_failures_total", "Failed runs of the target by failure reason.",
         MetricType::Counter);
  each([&](const std::string& name, const TargetState& state, std::string_view kind) {
    for (const auto& [reason, count] : state.failures) {
      sink.value({{"target", name}, {"kind", kind}, {"reason", toLabel(reason)}},
                 static_cast<double>(count));
    }
  });
  family("gomodprobe_probe_duration_seconds",
         per_target ? "Duration of whole runs (DNS and every HTTP attempt)."
                    : "Duration of whole runs (DNS and every HTTP attempt), all targets of "
                      "the kind together (histograms: per_kind).",
         MetricType::Histogram);
  if (per_target) {
    each([&](const std::string& name, const TargetState& state, std::string_view kind) {
      sink.histogram({{"target", name}, {"kind", kind}}, state.duration);
    });
  } else {
    for (const auto& [kind, data] : kind_duration_)
      sink.histogram({{"kind", toString(kind)}}, data);
  }
  family("gomodprobe_phase_duration_seconds",
         per_target ? "Duration of each phase of the HTTP attempts, per requested version."
                    : "Duration of each phase of the HTTP attempts, per requested version, all "
                      "targets of the kind together (histograms: per_kind).",
         MetricType::Histogram);
  if (per_target) {
    each([&](const std::string& name, const TargetState& state, std::string_view /*kind*/) {
      for (const auto& [key, data] : state.phases) {
        sink.histogram({{"target", name},
                        {"phase", toLabel(std::get<0>(key))},
                        {"http_version", toString(std::get<1>(key))}},
                       data);
      }
    });
  } else {
    for (const auto& [key, data] : kind_phases_) {
      sink.histogram({{"kind", toString(std::get<0>(key))},
                      {"phase", toLabel(std::get<1>(key))},
                      {"http_version", toString(std::get<2>(key))}},
                     data);
    }
  }
  family("gomodprobe_probe_last_duration_seconds",
         "Duration of the target's last finished run (DNS and every HTTP attempt).",
         MetricType::Gauge);
  each_last([&](const std::string& name, const TargetState& state, const ProbeResult& last) {
    sink.value({{"target", name}, {"kind", toString(state.kind)}}, last.duration_seconds);
  });
  const auto each_attempt = [&](auto&& fn) {
    each_last([&](const std::string& name, const TargetState& /*state*/, const ProbeResult& last) {
      for (const auto& attempt : last.http) fn(name, attempt);
    });
  };
  family("gomodprobe_http_success",
         "1 if the last attempt with this requested HTTP version got a 2xx.", MetricType::Gauge);
  each_attempt([&](const std::string& name, const HttpAttempt& attempt) {
    sink.value({{"target", name}, {"http_version", toString(attempt.requested)}},
               attempt.success ? 1 : 0);
  });
  family("gomodprobe_http_status_code", "HTTP status code of the last attempt (0: no response).",
         MetricType::Gauge);
  each_attempt([&](const std::string& name, const HttpAttempt& attempt) {
    sink.value({{"target", name}, {"http_version", toString(attempt.requested)}},
               static_cast<double>(attempt.status_code));
  });
  family("gomodprobe_http_negotiated_version",
         "HTTP version the server spoke when this version was requested (1.1 or 2; 0: no "
         "response).",
         MetricType::Gauge);
  each_attempt([&](const std::string& name, const HttpAttempt& attempt) {
    sink.value({{"target", name}, {"http_version", toString(attempt.requested)}},
               attempt.negotiated_version);
  });
  family("gomodprobe_tls_cert_not_after_timestamp_seconds",
         "Earliest notAfter of the certificate chain last presented, Unix seconds.",
         MetricType::Gauge);
  each([&](const std::string& name, const TargetState& state, std::string_view /*kind*/) {
    if (state.tls && state.tls->not_after) sink.value({{"target", name}}, *state.tls->not_after);
  });
  family("gomodprobe_tls_info", "TLS version and cipher last negotiated.", MetricType::Gauge);
  each([&](const std::string& name, const TargetState& state, std::string_view /*kind*/) {
    if (state.tls) {
      sink.value({{"target", name}, {"version", state.tls->version}, {"cipher", state.tls->cipher}},
                 1);
    }
  });
  family("gomodprobe_dns_lookup_duration_seconds",
         "Duration of the last lookup of the target's host per resolver.", MetricType::Gauge);
  each_last([&](const std::string& name, const TargetState& /*state*/, const ProbeResult& last) {
    for (const auto& lookup : last.dns) {
      sink.value({{"target", name}, {"resolver", lookup.resolver}}, lookup.duration_seconds);
    }
  });
  family("gomodprobe_dns_answers", "Addresses in the last answer per resolver and family.",
         MetricType::Gauge);
  each_last([&](const std::string& name, const TargetState& /*state*/, const ProbeResult& last) {
    for (const auto& lookup : last.dns) {
      sink.value({{"target", name}, {"resolver", lookup.resolver}, {"family", "ipv4"}},
                 static_cast<double>(lookup.ipv4.size()));
      sink.value({{"target", name}, {"resolver", lookup.resolver}, {"family", "ipv6"}},
                 static_cast<double>(lookup.ipv6.size()));
    }
  });
  family("gomodprobe_dns_resolvers_agree",
         "1 if every resolver returned the same answers for the name in the last run (name: "
         "the URL's host, or each name of a dns target).",
         MetricType::Gauge);
  each_last([&](const std::string& name, const TargetState& state, const ProbeResult& last) {
    if (last.resolvers_agree) {
      sink.value({{"target", name}, {"name", state.host}}, *last.resolvers_agree ? 1 : 0);
    }
    for (const auto& a : last.names_agree) {
      sink.value({{"target", name}, {"name", a.name}}, a.agree ? 1 : 0);
    }
  });
  const auto each_query = [&](auto&& fn) {
    each_last([&](const std::string& name, const TargetState& /*state*/, const ProbeResult& last) {
      for (const auto& q : last.dns_queries) fn(name, q);
    });
  };
  const auto query_value = [&sink](const std::string& name, const DnsQuery& q, double value) {
    sink.value(
        {{"target", name}, {"resolver", q.resolver}, {"name", q.name}, {"type", toString(q.type)}},
        value);
  };
  family("gomodprobe_dns_rcode",
         "Response code of the last answer (dns targets; 0 NOERROR, 2 SERVFAIL, 3 NXDOMAIN, 5 "
         "REFUSED; absent when no answer came).",
         MetricType::Gauge);
  each_query([&](const std::string& name, const DnsQuery& q) {
    if (q.rcode) query_value(name, q, *q.rcode);
  });
  family("gomodprobe_dns_ttl_seconds",
         "Minimum TTL of the records of the type in the last answer (dns targets; absent when "
         "there were none).",
         MetricType::Gauge);
  each_query([&](const std::string& name, const DnsQuery& q) {
    if (q.ttl_seconds) query_value(name, q, *q.ttl_seconds);
  });
  family("gomodprobe_dns_query_duration_seconds",
         "Duration of the last query (dns targets; the timeout when none came).",
         MetricType::Gauge);
  each_query([&](const std::string& name, const DnsQuery& q) {
    query_value(name, q, q.duration_seconds);
  });
  family("gomodprobe_dns_query_answers", "Records of the type in the last answer (dns targets).",
         MetricType::Gauge);
  each_query([&](const std::string& name, const DnsQuery& q) {
    query_value(name, q, static_cast<double>(q.answers.size()));
  });
  family("gomodprobe_proxy_info",
         "The HTTP(S) proxy the target's last run went through (always 1; no credentials). "
         "dns=\"proxy\": the proxy resolved the target's name, so there is no resolve phase "
         "nor DNS series.",
         MetricType::Gauge);
  each_last([&](const std::string& name, const TargetState& /*state*/, const ProbeResult& last) {
    if (!last.proxy.empty()) {
      sink.value({{"target", name}, {"proxy", last.proxy}, {"dns", "proxy"}}, 1);
    }
  });
  family("gomodprobe_probe_last_run_timestamp_seconds",
         "Start of the last finished run, Unix seconds.", MetricType::Gauge);
  each_last([&](const std::string& name, const TargetState& /*state*/, const ProbeResult& last) {
    sink.value({{"target", name}}, last.started_at);
  });
  family("gomodprobe_module_fetch_duration_seconds",
         "Duration of each step of module fetches (list, latest, info, mod, zip; zip includes "
         "hashing).",
         MetricType::Histogram);
  each_last([&](const std::string& name, const TargetState& state, const ProbeResult& /*last*/) {
    for (const auto& [step, data] : state.module_steps) {
      sink.histogram({{"target", name}, {"step", toLabel(step)}}, data);
    }
  });
  const auto each_module = [&](auto&& fn) {
    each_last([&](const std::string& name, const TargetState& state, const ProbeResult& last) {
      for (const auto& module : last.modules) fn(name, state, module);
    });
  };
  family("gomodprobe_module_zip_size_bytes", "Size of the module zip last fetched.",
         MetricType::Gauge);
  each_module([&](const std::string& name, const TargetState& state, const ModuleCheck& module) {
    if (state.kind == TargetKind::GoProxy && module.zip_bytes > 0) {
      sink.value({{"target", name}, {"module", module.module}},
                 static_cast<double>(module.zip_bytes));
    }
  });
  family("gomodprobe_module_hash_match",
         "1 if the zip and go.mod h1 hashes matched go_sum / the sumdb.", MetricType::Gauge);
  each_module(
      [&](const std::string& name, const TargetState& /*state*/, const ModuleCheck& module) {
        if (module.hash_match) {
          sink.value({{"target", name}, {"module", module.module}}, *module.hash_match ? 1 : 0);
        }
      });
  const auto is_latest = [](const ModuleCheck& module) {
    return module.requested == "latest" && !module.version.empty();
  };
  family("gomodprobe_module_latest_timestamp_seconds",
         "The .info Time of the version served as latest, Unix seconds.", MetricType::Gauge);
  each_module(
      [&](const std::string& name, const TargetState& /*state*/, const ModuleCheck& module) {
        if (is_latest(module) && module.info_time) {
          sink.value({{"target", name}, {"module", module.module}}, *module.info_time);
        }
      });
  family("gomodprobe_module_latest_info", "The version served as latest (always 1).",
         MetricType::Gauge);
  each_module(
      [&](const std::string& name, const TargetState& /*state*/, const ModuleCheck& module) {
        if (is_latest(module)) {
          sink.value({{"target", name}, {"module", module.module}, {"version", module.version}}, 1);
        }
      });
  const auto each_sumdb = [&](auto&& fn) {
    each_last([&](const std::string& name, const TargetState& /*state*/, const ProbeResult& last) {
      if (last.sumdb) fn(name, *last.sumdb);
    });
  };
  family("gomodprobe_sumdb_tree_size", "Size of the last verified signed tree head.",
         MetricType::Gauge);
  each_sumdb([&](const std::string& name, const SumdbCheck& sumdb) {
    sink.value({{"target", name}}, static_cast<double>(sumdb.tree_size));
  });
  family("gomodprobe_sumdb_signature_valid", "1 if the signed tree head verified with the key.",
         MetricType::Gauge);
  each_sumdb([&](const std::string& name, const SumdbCheck& sumdb) {
    sink.value({{"target", name}}, sumdb.signature_valid ? 1 : 0);
  });
  family("gomodprobe_sumdb_inclusion_verified",
         "1 if every looked-up record was proven included in the tree.", MetricType::Gauge);
  each_sumdb([&](const std::string& name, const SumdbCheck& sumdb) {
    if (sumdb.inclusion_verified) sink.value({{"target", name}}, *sumdb.inclusion_verified ? 1 : 0);
  });
  family("gomodprobe_sumdb_consistency_verified",
         "1 if the tree was proven to extend the largest tree seen before.", MetricType::Gauge);
  each_sumdb([&](const std::string& name, const SumdbCheck& sumdb) {
    if (sumdb.consistency_verified) {
      sink.value({{"target", name}}, *sumdb.consistency_verified ? 1 : 0);
    }
  });
  family("gomodprobe_chain_lint_problems",
         "Lint findings about a chain's GOPROXY and privacy variables.", MetricType::Gauge);
  each_last([&](const std::string& name, const TargetState& state, const ProbeResult& last) {
    if (state.kind != TargetKind::Chain) return;
    double errors = 0;
    double warnings = 0;
    for (const auto& finding : last.lint) (finding.rfind("error", 0) == 0 ? errors : warnings) += 1;
    sink.value({{"chain", name}, {"severity", "error"}}, errors);
    sink.value({{"chain", name}, {"severity", "warning"}}, warnings);
  });
  family("gomodprobe_goproxy_chain_entry",
         "Index of the GOPROXY entry that serves the module (-1: none).", MetricType::Gauge);
  each_last([&](const std::string& name, const TargetState& state, const ProbeResult& last) {
    if (state.kind != TargetKind::Chain) return;
    for (std::size_t i = 0; i < last.chain_entries.size() && i < last.modules.size(); ++i) {
      sink.value({{"chain", name}, {"module", last.modules[i].module}}, last.chain_entries[i]);
    }
  });
  family("gomodprobe_vcs_step_duration_seconds",
         "Duration of each step of vcs runs (discovery: the go-import page; info_refs: the git "
         "smart-HTTP advertisement; ssh_banner: TCP connect and SSH identification).",
         MetricType::Histogram);
  each_last([&](const std::string& name, const TargetState& state, const ProbeResult& /*last*/) {
    for (const auto& [step, data] : state.vcs_steps) {
      sink.histogram({{"target", name}, {"step", toLabel(step)}}, data);
    }
  });
  family("gomodprobe_vcs_info",
         "The VCS and repository root found by go-import discovery in the last run (always 1; "
         "absent when discovery failed).",
         MetricType::Gauge);
  each_last([&](const std::string& name, const TargetState& /*state*/, const ProbeResult& last) {
    if (last.vcs && !last.vcs->vcs.empty()) {
      sink.value({{"target", name}, {"vcs", last.vcs->vcs}, {"repo", last.vcs->repo}}, 1);
    }
  });

  // (module, version) → zip hashes served by each goproxy target, for mirrors_agree.
  std::map<std::pair<std::string, std::string>, std::set<std::string>> served;
  std::map<std::pair<std::string, std::string>, int> served_by;
  each_module(
      [&](const std::string& /*name*/, const TargetState& state, const ModuleCheck& module) {
        if (state.kind == TargetKind::GoProxy && !module.zip_hash.empty()) {
          const auto key = std::make_pair(module.module, module.version);
          served[key].insert(module.zip_hash + " " + module.mod_hash);
          ++served_by[key];
        }
      });
  family("gomodprobe_mirrors_agree",
         "1 if every goproxy target that served this module version served the same zip and "
         "go.mod h1 hashes.",
         MetricType::Gauge);
  for (const auto& [key, hashes] : served) {
    if (served_by[key] < 2) continue;
    sink.value({{"module", key.first}, {"version", key.second}}, hashes.size() == 1 ? 1 : 0);
  }

  family("gomodprobe_build_info", "Build and library versions of the running agent (always 1).",
         MetricType::Gauge);
  sink.value({{"version", build_info_.version},
              {"revision", build_info_.revision},
              {"curl", build_info_.curl},
              {"cares", build_info_.cares},
              {"openssl", build_info_.openssl}},
             1);
  family("gomodprobe_probes_in_flight", "Runs in flight now.", MetricType::Gauge);
  sink.value({}, in_flight_);
  family("gomodprobe_scheduler_lag_seconds",
         "Actual minus planned start of runs (waiting for a concurrency slot).",
         MetricType::Histogram);
  sink.histogram({}, scheduler_lag_);
  family("gomodprobe_scheduler_skipped_runs_total",
         "Slots skipped because the target's previous run was still going.", MetricType::Counter);
  sink.value({}, static_cast<double>(skipped_runs_));
  family("gomodprobe_config_last_reload_successful",
         "1 if the last configuration (re)load succeeded.", MetricType::Gauge);
  sink.value({}, reload_ok_ ? 1 : 0);
  family("gomodprobe_config_last_reload_success_timestamp_seconds",
         "Time of the last successful configuration load, Unix seconds.", MetricType::Gauge);
  sink.value({}, reload_timestamp_);
  if (go_env_lint_) {
    family("gomodprobe_go_env_lint_problems",
           "Problems `gomodprobe lint-env` finds in the agent's own Go environment (GOPROXY, "
           "GOSUMDB, GOPRIVATE, …), by severity.",
           MetricType::Gauge);
    sink.value({{"severity", "error"}}, static_cast<double>(go_env_lint_->first));
    sink.value({{"severity", "warning"}}, static_cast<double>(go_env_lint_->second));
  }
}

}  // namespace gomodprobe::metrics
