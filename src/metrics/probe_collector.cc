#include "metrics/probe_collector.h"

#include <ares.h>
#include <curl/curl.h>
#include <openssl/crypto.h>
#include <openssl/opensslv.h>

#include <algorithm>
#include <deque>
#include <limits>
#include <set>
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
using Labels = std::vector<ClientMetric::Label>;

/// Builds the families in a fixed order, so the exposition is stable. A deque keeps references
/// to earlier families valid while later ones are added.
class FamilyBuilder {
 public:
  MetricFamily& family(std::string name, std::string help, MetricType type) {
    families_.push_back(MetricFamily{std::move(name), std::move(help), type, {}});
    return families_.back();
  }
  /// The non-empty families, in creation order.
  std::vector<MetricFamily> take() {
    std::vector<MetricFamily> out;
    for (auto& family : families_) {
      if (!family.metric.empty()) out.push_back(std::move(family));
    }
    return out;
  }
  static void gauge(MetricFamily& family, Labels labels, double value) {
    ClientMetric metric;
    metric.label = std::move(labels);
    metric.gauge.value = value;
    family.metric.push_back(std::move(metric));
  }
  static void counter(MetricFamily& family, Labels labels, double value) {
    ClientMetric metric;
    metric.label = std::move(labels);
    metric.counter.value = value;
    family.metric.push_back(std::move(metric));
  }
  static void histogram(MetricFamily& family, Labels labels, const HistogramData& data) {
    ClientMetric metric;
    metric.label = std::move(labels);
    metric.histogram = data.toClientMetric();
    family.metric.push_back(std::move(metric));
  }

 private:
  std::deque<MetricFamily> families_;
};

}  // namespace

HistogramData::HistogramData(std::span<const double> bounds)
    : bounds_(bounds.begin(), bounds.end()), counts_(bounds.size() + 1, 0) {}

void HistogramData::observe(double value) {
  const auto it = std::lower_bound(bounds_.begin(), bounds_.end(), value);
  ++counts_[static_cast<std::size_t>(it - bounds_.begin())];
  ++count_;
  sum_ += value;
}

ClientMetric::Histogram HistogramData::toClientMetric() const {
  ClientMetric::Histogram out;
  out.sample_count = count_;
  out.sample_sum = sum_;
  std::uint64_t cumulative = 0;
  for (std::size_t i = 0; i < counts_.size(); ++i) {
    cumulative += counts_[i];
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
  std::map<std::string, TargetState> next;
  for (const auto& target : targets) {
    auto old = targets_.find(target.name);
    TargetState state;
    if (old != targets_.end() && old->second.kind == target.kind) state = std::move(old->second);
    state.kind = target.kind;
    state.versions = target.http_versions;
    state.host.clear();
    if (const auto parts = net::splitUrl(target.requestUrl()); parts && !target.url.empty()) {
      state.host = parts->host;
    }
    next.emplace(target.name, std::move(state));
  }
  targets_ = std::move(next);
}

void ProbeCollector::record(const ProbeResult& result) {
  std::lock_guard lock(mutex_);
  auto it = targets_.find(result.target);
  if (it == targets_.end()) return;
  TargetState& state = it->second;
  ++state.probes;
  if (!result.success) ++state.failures[result.reason];
  state.duration.observe(result.duration_seconds);
  for (const auto& attempt : result.http) {
    for (std::size_t p = 0; p < kPhaseCount; ++p) {
      if (!attempt.phases[p]) continue;
      state.phases[{static_cast<Phase>(p), attempt.requested}].observe(*attempt.phases[p]);
    }
    if (attempt.tls) state.tls = attempt.tls;
  }
  for (const auto& module : result.modules) {
    for (const auto& step : module.steps)
      state.module_steps[step.step].observe(step.duration_seconds);
  }
  if (result.vcs) {
    for (const auto& step : result.vcs->steps) {
      state.vcs_steps[step.step].observe(step.duration_seconds);
    }
  }
  state.last = result;
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
  std::lock_guard lock(mutex_);
  FamilyBuilder b;

  auto& success = b.family("gomodprobe_probe_success",
                           "1 if the last run of the target succeeded (every requested HTTP "
                           "version), else 0.",
                           MetricType::Gauge);
  auto& probes = b.family("gomodprobe_probes_total", "Runs of the target.", MetricType::Counter);
  auto& failures = b.family("gomodprobe_probe_failures_total",
                            "Failed runs of the target by failure reason.", MetricType::Counter);
  auto& duration =
      b.family("gomodprobe_probe_duration_seconds",
               "Duration of whole runs (DNS and every HTTP attempt).", MetricType::Histogram);
  auto& phase = b.family("gomodprobe_phase_duration_seconds",
                         "Duration of each phase of the HTTP attempts, per requested version.",
                         MetricType::Histogram);
  auto& http_success = b.family("gomodprobe_http_success",
                                "1 if the last attempt with this requested HTTP version got a 2xx.",
                                MetricType::Gauge);
  auto& status_code =
      b.family("gomodprobe_http_status_code",
               "HTTP status code of the last attempt (0: no response).", MetricType::Gauge);
  auto& negotiated = b.family("gomodprobe_http_negotiated_version",
                              "HTTP version the server spoke when this version was requested "
                              "(1.1 or 2; 0: no response).",
                              MetricType::Gauge);
  auto& not_after = b.family("gomodprobe_tls_cert_not_after_timestamp_seconds",
                             "Earliest notAfter of the certificate chain last presented, Unix "
                             "seconds.",
                             MetricType::Gauge);
  auto& tls_info =
      b.family("gomodprobe_tls_info", "TLS version and cipher last negotiated.", MetricType::Gauge);
  auto& dns_duration =
      b.family("gomodprobe_dns_lookup_duration_seconds",
               "Duration of the last lookup of the target's host per resolver.", MetricType::Gauge);
  auto& dns_answers =
      b.family("gomodprobe_dns_answers", "Addresses in the last answer per resolver and family.",
               MetricType::Gauge);
  auto& agree = b.family("gomodprobe_dns_resolvers_agree",
                         "1 if every resolver returned the same answers for the name in the last "
                         "run (name: the URL's host, or each name of a dns target).",
                         MetricType::Gauge);
  auto& dns_rcode = b.family("gomodprobe_dns_rcode",
                             "Response code of the last answer (dns targets; 0 NOERROR, 2 "
                             "SERVFAIL, 3 NXDOMAIN, 5 REFUSED; absent when no answer came).",
                             MetricType::Gauge);
  auto& dns_ttl = b.family("gomodprobe_dns_ttl_seconds",
                           "Minimum TTL of the records of the type in the last answer (dns "
                           "targets; absent when there were none).",
                           MetricType::Gauge);
  auto& dns_query_duration = b.family(
      "gomodprobe_dns_query_duration_seconds",
      "Duration of the last query (dns targets; the timeout when none came).", MetricType::Gauge);
  auto& dns_query_answers =
      b.family("gomodprobe_dns_query_answers",
               "Records of the type in the last answer (dns targets).", MetricType::Gauge);
  auto& proxy_info = b.family("gomodprobe_proxy_info",
                              "The HTTP(S) proxy the target's last run went through (always 1; "
                              "no credentials). dns=\"proxy\": the proxy resolved the target's "
                              "name, so there is no resolve phase nor DNS series.",
                              MetricType::Gauge);
  auto& last_run = b.family("gomodprobe_probe_last_run_timestamp_seconds",
                            "Start of the last finished run, Unix seconds.", MetricType::Gauge);
  auto& step_duration = b.family("gomodprobe_module_fetch_duration_seconds",
                                 "Duration of each step of module fetches (list, latest, info, "
                                 "mod, zip; zip includes hashing).",
                                 MetricType::Histogram);
  auto& zip_size = b.family("gomodprobe_module_zip_size_bytes",
                            "Size of the module zip last fetched.", MetricType::Gauge);
  auto& hash_match =
      b.family("gomodprobe_module_hash_match",
               "1 if the zip and go.mod h1 hashes matched go_sum / the sumdb.", MetricType::Gauge);
  auto& latest_ts =
      b.family("gomodprobe_module_latest_timestamp_seconds",
               "The .info Time of the version served as latest, Unix seconds.", MetricType::Gauge);
  auto& latest_info = b.family("gomodprobe_module_latest_info",
                               "The version served as latest (always 1).", MetricType::Gauge);
  auto& tree_size = b.family("gomodprobe_sumdb_tree_size",
                             "Size of the last verified signed tree head.", MetricType::Gauge);
  auto& signature_valid =
      b.family("gomodprobe_sumdb_signature_valid",
               "1 if the signed tree head verified with the key.", MetricType::Gauge);
  auto& inclusion =
      b.family("gomodprobe_sumdb_inclusion_verified",
               "1 if every looked-up record was proven included in the tree.", MetricType::Gauge);
  auto& consistency = b.family("gomodprobe_sumdb_consistency_verified",
                               "1 if the tree was proven to extend the largest tree seen before.",
                               MetricType::Gauge);
  auto& chain_lint =
      b.family("gomodprobe_chain_lint_problems",
               "Lint findings about a chain's GOPROXY and privacy variables.", MetricType::Gauge);
  auto& chain_entry =
      b.family("gomodprobe_goproxy_chain_entry",
               "Index of the GOPROXY entry that serves the module (-1: none).", MetricType::Gauge);
  auto& vcs_step = b.family("gomodprobe_vcs_step_duration_seconds",
                            "Duration of each step of vcs runs (discovery: the go-import page; "
                            "info_refs: the git smart-HTTP advertisement; ssh_banner: TCP connect "
                            "and SSH identification).",
                            MetricType::Histogram);
  auto& vcs_info = b.family("gomodprobe_vcs_info",
                            "The VCS and repository root found by go-import discovery in the last "
                            "run (always 1; absent when discovery failed).",
                            MetricType::Gauge);
  // (module, version) → zip hashes served by each goproxy target, for mirrors_agree.
  std::map<std::pair<std::string, std::string>, std::set<std::string>> served;
  std::map<std::pair<std::string, std::string>, int> served_by;

  for (const auto& [name, state] : targets_) {
    const std::string kind = toString(state.kind);
    FamilyBuilder::counter(probes, {{"target", name}, {"kind", kind}},
                           static_cast<double>(state.probes));
    for (const auto& [reason, count] : state.failures) {
      FamilyBuilder::counter(
          failures, {{"target", name}, {"kind", kind}, {"reason", std::string(toLabel(reason))}},
          static_cast<double>(count));
    }
    FamilyBuilder::histogram(duration, {{"target", name}, {"kind", kind}}, state.duration);
    for (const auto& [key, data] : state.phases) {
      FamilyBuilder::histogram(phase,
                               {{"target", name},
                                {"phase", std::string(toLabel(std::get<0>(key)))},
                                {"http_version", toString(std::get<1>(key))}},
                               data);
    }
    if (state.tls) {
      if (state.tls->not_after) {
        FamilyBuilder::gauge(not_after, {{"target", name}}, *state.tls->not_after);
      }
      FamilyBuilder::gauge(
          tls_info,
          {{"target", name}, {"version", state.tls->version}, {"cipher", state.tls->cipher}}, 1);
    }
    if (!state.last) continue;
    const ProbeResult& last = *state.last;
    FamilyBuilder::gauge(success, {{"target", name}, {"kind", kind}}, last.success ? 1 : 0);
    FamilyBuilder::gauge(last_run, {{"target", name}}, last.started_at);
    for (const auto& attempt : last.http) {
      Labels labels{{"target", name}, {"http_version", toString(attempt.requested)}};
      FamilyBuilder::gauge(http_success, labels, attempt.success ? 1 : 0);
      FamilyBuilder::gauge(status_code, labels, static_cast<double>(attempt.status_code));
      FamilyBuilder::gauge(negotiated, labels, attempt.negotiated_version);
    }
    for (const auto& lookup : last.dns) {
      FamilyBuilder::gauge(dns_duration, {{"target", name}, {"resolver", lookup.resolver}},
                           lookup.duration_seconds);
      FamilyBuilder::gauge(dns_answers,
                           {{"target", name}, {"resolver", lookup.resolver}, {"family", "ipv4"}},
                           static_cast<double>(lookup.ipv4.size()));
      FamilyBuilder::gauge(dns_answers,
                           {{"target", name}, {"resolver", lookup.resolver}, {"family", "ipv6"}},
                           static_cast<double>(lookup.ipv6.size()));
    }
    if (last.resolvers_agree) {
      FamilyBuilder::gauge(agree, {{"target", name}, {"name", state.host}},
                           *last.resolvers_agree ? 1 : 0);
    }
    for (const auto& a : last.names_agree) {
      FamilyBuilder::gauge(agree, {{"target", name}, {"name", a.name}}, a.agree ? 1 : 0);
    }
    for (const auto& q : last.dns_queries) {
      const Labels labels{
          {"target", name}, {"resolver", q.resolver}, {"name", q.name}, {"type", toString(q.type)}};
      if (q.rcode) FamilyBuilder::gauge(dns_rcode, labels, *q.rcode);
      if (q.ttl_seconds) FamilyBuilder::gauge(dns_ttl, labels, *q.ttl_seconds);
      FamilyBuilder::gauge(dns_query_duration, labels, q.duration_seconds);
      FamilyBuilder::gauge(dns_query_answers, labels, static_cast<double>(q.answers.size()));
    }
    if (!last.proxy.empty()) {
      FamilyBuilder::gauge(proxy_info, {{"target", name}, {"proxy", last.proxy}, {"dns", "proxy"}},
                           1);
    }
    for (const auto& [step, data] : state.module_steps) {
      FamilyBuilder::histogram(step_duration,
                               {{"target", name}, {"step", std::string(toLabel(step))}}, data);
    }
    for (const auto& module : last.modules) {
      const Labels labels{{"target", name}, {"module", module.module}};
      if (state.kind == TargetKind::GoProxy && module.zip_bytes > 0) {
        FamilyBuilder::gauge(zip_size, labels, static_cast<double>(module.zip_bytes));
      }
      if (module.hash_match) FamilyBuilder::gauge(hash_match, labels, *module.hash_match ? 1 : 0);
      if (module.requested == "latest" && !module.version.empty()) {
        if (module.info_time) FamilyBuilder::gauge(latest_ts, labels, *module.info_time);
        FamilyBuilder::gauge(
            latest_info, {{"target", name}, {"module", module.module}, {"version", module.version}},
            1);
      }
      if (state.kind == TargetKind::GoProxy && !module.zip_hash.empty()) {
        const auto key = std::make_pair(module.module, module.version);
        served[key].insert(module.zip_hash + " " + module.mod_hash);
        ++served_by[key];
      }
    }
    if (last.sumdb) {
      FamilyBuilder::gauge(tree_size, {{"target", name}},
                           static_cast<double>(last.sumdb->tree_size));
      FamilyBuilder::gauge(signature_valid, {{"target", name}},
                           last.sumdb->signature_valid ? 1 : 0);
      if (last.sumdb->inclusion_verified) {
        FamilyBuilder::gauge(inclusion, {{"target", name}},
                             *last.sumdb->inclusion_verified ? 1 : 0);
      }
      if (last.sumdb->consistency_verified) {
        FamilyBuilder::gauge(consistency, {{"target", name}},
                             *last.sumdb->consistency_verified ? 1 : 0);
      }
    }
    for (const auto& [step, data] : state.vcs_steps) {
      FamilyBuilder::histogram(vcs_step, {{"target", name}, {"step", std::string(toLabel(step))}},
                               data);
    }
    if (last.vcs && !last.vcs->vcs.empty()) {
      FamilyBuilder::gauge(vcs_info,
                           {{"target", name}, {"vcs", last.vcs->vcs}, {"repo", last.vcs->repo}}, 1);
    }
    if (state.kind == TargetKind::Chain) {
      double errors = 0;
      double warnings = 0;
      for (const auto& finding : last.lint)
        (finding.rfind("error", 0) == 0 ? errors : warnings) += 1;
      FamilyBuilder::gauge(chain_lint, {{"chain", name}, {"severity", "error"}}, errors);
      FamilyBuilder::gauge(chain_lint, {{"chain", name}, {"severity", "warning"}}, warnings);
      for (std::size_t i = 0; i < last.chain_entries.size() && i < last.modules.size(); ++i) {
        FamilyBuilder::gauge(chain_entry, {{"chain", name}, {"module", last.modules[i].module}},
                             last.chain_entries[i]);
      }
    }
  }
  auto& mirrors_agree = b.family("gomodprobe_mirrors_agree",
                                 "1 if every goproxy target that served this module version "
                                 "served the same zip and go.mod h1 hashes.",
                                 MetricType::Gauge);
  for (const auto& [key, hashes] : served) {
    if (served_by[key] < 2) continue;
    FamilyBuilder::gauge(mirrors_agree, {{"module", key.first}, {"version", key.second}},
                         hashes.size() == 1 ? 1 : 0);
  }

  auto& build =
      b.family("gomodprobe_build_info",
               "Build and library versions of the running agent (always 1).", MetricType::Gauge);
  FamilyBuilder::gauge(build,
                       {{"version", build_info_.version},
                        {"revision", build_info_.revision},
                        {"curl", build_info_.curl},
                        {"cares", build_info_.cares},
                        {"openssl", build_info_.openssl}},
                       1);
  auto& in_flight =
      b.family("gomodprobe_probes_in_flight", "Runs in flight now.", MetricType::Gauge);
  FamilyBuilder::gauge(in_flight, {}, in_flight_);
  auto& lag = b.family("gomodprobe_scheduler_lag_seconds",
                       "Actual minus planned start of runs (waiting for a concurrency slot).",
                       MetricType::Histogram);
  FamilyBuilder::histogram(lag, {}, scheduler_lag_);
  auto& skipped = b.family("gomodprobe_scheduler_skipped_runs_total",
                           "Slots skipped because the target's previous run was still going.",
                           MetricType::Counter);
  FamilyBuilder::counter(skipped, {}, static_cast<double>(skipped_runs_));
  auto& reload_ok = b.family("gomodprobe_config_last_reload_successful",
                             "1 if the last configuration (re)load succeeded.", MetricType::Gauge);
  FamilyBuilder::gauge(reload_ok, {}, reload_ok_ ? 1 : 0);
  auto& reload_ts =
      b.family("gomodprobe_config_last_reload_success_timestamp_seconds",
               "Time of the last successful configuration load, Unix seconds.", MetricType::Gauge);
  FamilyBuilder::gauge(reload_ts, {}, reload_timestamp_);
  if (go_env_lint_) {
    auto& lint = b.family("gomodprobe_go_env_lint_problems",
                          "Problems `gomodprobe lint-env` finds in the agent's own Go environment "
                          "(GOPROXY, GOSUMDB, GOPRIVATE, …), by severity.",
                          MetricType::Gauge);
    FamilyBuilder::gauge(lint, {{"severity", "error"}}, static_cast<double>(go_env_lint_->first));
    FamilyBuilder::gauge(lint, {{"severity", "warning"}},
                         static_cast<double>(go_env_lint_->second));
  }

  return b.take();
}

}  // namespace gomodprobe::metrics
