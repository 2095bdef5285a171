#pragma once

#include <prometheus/collectable.h>
#include <prometheus/labels.h>

#include <chrono>
#include <map>
#include <memory>
#include <optional>
#include <string>

namespace gomodprobe::metrics {

/// Where `gomodprobe check --push.gateway URL` sends a run's metrics: a Prometheus Pushgateway
/// group `/metrics/job/<job>/instance/<instance>` (github.com/prometheus/pushgateway README,
/// "URL").
struct PushTarget {
  std::string gateway_url;  ///< http(s)://[user:password@]host[:port][/]; no other path
  std::string job = "gomodprobe";
  std::string instance;  ///< the runner; main() defaults it to the host name
  /// Further grouping labels (the config's `global.labels`, e.g. site, pool); keys "job" and
  /// "instance" are ignored here (the flags set those).
  std::map<std::string, std::string> labels;
  /// Upper bound of the whole push (prometheus::Gateway sets no timeout of its own).
  std::chrono::milliseconds timeout{30'000};
};

/// The pieces prometheus::Gateway is built from.
struct GatewayAddress {
  std::string host;  ///< "scheme://host" (IPv6 in brackets)
  std::string port;  ///< explicit or the scheme's default
  std::string username;
  std::string password;  ///< never logged
};

/// Splits a gateway URL with libcurl's URL parser. nullopt and `error` set when it is not an
/// absolute http(s) URL without query, fragment or a path other than "/".
[[nodiscard]] std::optional<GatewayAddress> parseGatewayUrl(const std::string& url,
                                                            std::string* error);

/// The grouping labels after the job: instance and `labels` (minus job/instance), each as
/// NAME: VALUE, or NAME@base64: base64url(VALUE) (the Pushgateway's encoding) when VALUE is empty
/// or holds characters outside [A-Za-z0-9._~-], which prometheus::Gateway would put into the
/// path unescaped. (The Pushgateway takes the pairs in any order.)
[[nodiscard]] prometheus::Labels groupingLabels(
    const std::string& instance, const std::map<std::string, std::string>& labels = {});

/// Whether `job` can go into the path as is (prometheus::Gateway cannot base64-encode it):
/// non-empty, only [A-Za-z0-9._~-].
[[nodiscard]] bool validJobName(const std::string& job);

/// PUTs `collectable`'s current metrics to the group (prometheus::Gateway::PushAdd(), which sends
/// PUT in prometheus-cpp 1.0.1): PUT replaces everything the group held, so the gateway keeps each
/// runner's last run and no series of a target dropped from the config. Returns "" on a 2xx
/// answer, else why it failed (HTTP status, curl error or timeout; never the password). Blocks at
/// most `target.timeout`; a push still running then is abandoned on a detached thread (it ends
/// with the process — meant for one-shot `check`).
[[nodiscard]] std::string pushMetrics(const PushTarget& target,
                                      const std::shared_ptr<prometheus::Collectable>& collectable);

}  // namespace gomodprobe::metrics
