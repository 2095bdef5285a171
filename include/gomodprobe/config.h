#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace gomodprobe {

/// What a target probes:
/// - goproxy: a GOPROXY entry: the HTTP check of `path` (default `/`), then a full fetch of each
///   configured module (list → info → mod → zip, go.dev/ref/mod "GOPROXY protocol") with h1
///   hashes checked against `go_sum` lines or the `sumdb`;
/// - sumdb: a checksum database: `/latest` signed tree head, lookups, tiles, inclusion and
///   consistency proofs (go.dev/ref/mod "Checksum database");
/// - http: the HTTP check alone;
/// - chain: a GOPROXY list evaluated as the go command does for each module (no HTTP check of its
///   own; `url` is unused);
/// - dns: a standalone resolver comparison: every name × resolver × record type is queried, and
///   the resolvers must answer (NOERROR) and agree (no HTTP; `url` is unused).
/// - vcs: a private module's VCS host as the go command reaches it with GOPROXY=direct: go-import
///   discovery (`url?go-get=1`, the HTTP check), git smart HTTP (`<repo>/info/refs`), and
///   optionally the SSH identification of `ssh`.
enum class TargetKind { GoProxy, SumDb, Http, Chain, Dns, Vcs };

/// A DNS record type the dns kind queries.
enum class DnsRecordType { A, Aaaa, Cname };

/// The proxy variables of the environment, captured when the config is loaded (so probes never
/// read the process environment). Empty = unset (an empty variable counts as unset, as in curl).
struct ProxyEnv {
  std::string http_proxy;   ///< http_proxy, else HTTP_PROXY: for http:// URLs
  std::string https_proxy;  ///< https_proxy, else HTTPS_PROXY: for https:// URLs
  std::string no_proxy;     ///< no_proxy, else NO_PROXY: hosts reached directly
  bool operator==(const ProxyEnv&) const = default;
};

/// vcs: HTTP Basic credentials; the password is read from `password_file` (first line, trailing
/// CR/LF removed) at every run, never stored in the config.
struct BasicAuthConfig {
  std::string username;
  std::string password_file;
  bool operator==(const BasicAuthConfig&) const = default;
};

/// The sum.golang.org verifier key (the go command's built-in default).
inline constexpr const char* kSumGolangOrgKey =
    "sum.golang.org+033de0ae+Ac4zctda0e5eza+HJyk9SxEdh+s3Ux18htTTAD8OuAn8";

/// A module to fetch: `path@version`, version "latest" meaning the proxy's @latest / newest listed.
struct ModuleSpec {
  std::string path;
  std::string version;
  [[nodiscard]] std::string text() const { return path + "@" + version; }
  bool operator==(const ModuleSpec&) const = default;
};

/// Address family of the connection (blackbox_exporter's `preferred_ip_protocol` idea).
/// `Any` queries A and AAAA and connects to IPv4 when there is an A record, else IPv6.
enum class IpProtocol { Ip4, Ip6, Any };

/// HTTP version requested from the server: "1.1" (CURL_HTTP_VERSION_1_1) or "2" (HTTP/2 offered
/// over ALPN, CURL_HTTP_VERSION_2TLS; a server that declines is spoken to in HTTP/1.1).
enum class HttpVersion { Http11, Http2 };

/// One DNS resolver. `system` uses /etc/resolv.conf (through c-ares); otherwise an IPv4 or IPv6
/// address with an optional port: "8.8.8.8", "127.0.0.1:5353", "[::1]:53".
struct ResolverSpec {
  bool system = true;
  std::string address;  ///< empty for system
  std::uint16_t port = 53;
  /// Label value for metrics: "system", "8.8.8.8", "127.0.0.1:5353", "::1", "[::1]:5353" (port only
  /// when it is not 53).
  [[nodiscard]] std::string label() const;
  bool operator==(const ResolverSpec&) const = default;
};

/// What the run and phase duration histograms (gomodprobe_probe_duration_seconds,
/// gomodprobe_phase_duration_seconds) are labelled by:
/// - PerTarget ("per_target", the default): one histogram per target (label `target`), 16 series
///   each, so ~80 series and ~9 KB of /metrics per HTTP target with one HTTP version: fine for
///   tens to a few hundred targets;
/// - PerKind ("per_kind"): one histogram per target kind (label `kind`, no `target`), for
///   thousands of targets; per target there remain the gauges (success, last duration, status,
///   TLS, …) and counters, about 1 KB per HTTP target. A target's phases stay visible on its
///   /probe?target=… page. The module-fetch and vcs-step histograms stay per target either way
///   (the latency SLO rules use them; those kinds come in small numbers).
enum class HistogramScope { PerTarget, PerKind };

struct GlobalConfig {
  std::chrono::milliseconds interval{30'000};
  std::chrono::milliseconds timeout{10'000};  ///< must be < interval
  std::vector<ResolverSpec> resolvers{ResolverSpec{}};
  std::string ca_file;                        ///< extra trust anchors (PEM); empty = system store
  std::map<std::string, std::string> labels;  ///< constant labels for push mode
  int max_concurrent_probes = 64;             ///< cap on runs in flight at once (1..10000)
  /// Default proxy of every target (see TargetConfig::proxy_url).
  std::string proxy_url;
  /// Default of every target (see TargetConfig::proxy_from_environment).
  bool proxy_from_environment = false;
  /// `histograms`: how the duration histograms are labelled (see HistogramScope).
  HistogramScope histograms = HistogramScope::PerTarget;
};

/// A target with every global default already applied: the probe reads only this struct.
struct TargetConfig {
  std::string name;  ///< unique, [a-zA-Z0-9_.-]+; the `target` label
  TargetKind kind = TargetKind::Http;
  std::string url;   ///< base URL, scheme http or https, no trailing slash
  std::string path;  ///< request path, starts with '/' (vcs: "?go-get=1", the discovery query)
  std::vector<HttpVersion> http_versions{HttpVersion::Http11, HttpVersion::Http2};
  std::vector<ResolverSpec> resolvers;  ///< first one feeds the connection; never empty
  IpProtocol ip_protocol = IpProtocol::Any;
  std::chrono::milliseconds interval{30'000};
  std::chrono::milliseconds timeout{10'000};
  std::string ca_file;
  std::map<std::string, std::string> headers;

  /// goproxy, sumdb, chain: modules to fetch / look up.
  std::vector<ModuleSpec> modules;
  /// goproxy: pinned go.sum lines ("M V h1:…" and "M V/go.mod h1:…") giving expected hashes.
  std::vector<std::string> go_sum;
  /// goproxy: a GOSUMDB value ("sum.golang.org", "name+hash+key", "name+hash+key URL") whose
  /// lookups give expected hashes; without URL the lookups go through this proxy
  /// ($url/sumdb/<name>/…, after checking $url/sumdb/<name>/supported). Empty: none.
  std::string sumdb;
  /// sumdb: the verifier key "name+hash+base64" (default: sum.golang.org's).
  std::string key;
  /// chain: the GOPROXY value to evaluate ("https://a,https://b|direct").
  /// sumdb: reach the database as the go command does with this GOPROXY (cmd/go modfetch/sumdb.go
  /// initBase): through the first proxy answering 200 to $proxy/sumdb/<name>/supported (404/410,
  /// or any error after '|', tries the next; another error fails the run), else directly at `url`
  /// once the list reaches direct/off or is exhausted. Empty: always directly.
  std::string goproxy;
  /// chain: the rest of the Go environment to lint with it: GOPRIVATE, GONOPROXY, GONOSUMDB,
  /// GOSUMDB.
  std::map<std::string, std::string> go_env;

  /// http, goproxy, sumdb, chain: the HTTP(S) proxy of every request,
  /// "http://[user:pass@]host:port" or "https://…" (a URL without scheme is taken as http://, as
  /// curl and the go command do). Empty: direct, unless proxy_from_environment. Credentials never
  /// appear in metrics or logs.
  std::string proxy_url;
  /// Use the proxy variables of the environment (proxy_env), like curl: https_proxy/HTTPS_PROXY
  /// for https URLs, http_proxy/HTTP_PROXY for http URLs, hosts matching no_proxy/NO_PROXY direct.
  bool proxy_from_environment = false;
  /// The environment's proxy variables, captured at config load (proxy_from_environment only).
  ProxyEnv proxy_env;
  /// dns: the names to query (exact names, no search domains).
  std::vector<std::string> names;
  /// dns: the record types to query for each name (default A and AAAA).
  std::vector<DnsRecordType> record_types{DnsRecordType::A, DnsRecordType::Aaaa};
  /// vcs: the module path matched against go-import prefixes (default: host and path of `url`).
  std::string module;
  /// vcs: "host:port" of an SSH server whose identification line is read; empty = no SSH check.
  std::string ssh;
  /// vcs credentials, at most one kind; only file paths are kept here, the secrets are read at
  /// each run (so rotated tokens are picked up) and never stored, logged or exported.
  /// netrc_file: a netrc file used as curl and git use ~/.netrc (CURLOPT_NETRC_FILE with
  /// CURL_NETRC_OPTIONAL: the entry of the request's host, if any).
  std::string netrc_file;
  /// bearer_token_file: first line sent as "Authorization: Bearer …" (CURLAUTH_BEARER).
  std::string bearer_token_file;
  /// basic_auth: username and password_file (CURLAUTH_BASIC); empty username = none.
  BasicAuthConfig basic_auth;
  /// http, goproxy, sumdb: an attempt that requested HTTP/2 fails with reason http_version unless
  /// the server spoke HTTP/2 (blackbox_exporter's `valid_http_versions: ["HTTP/2.0"]`). False:
  /// a server that declines h2 is spoken to in HTTP/1.1 and that is recorded, not a failure.
  /// Needs "2" in http_versions.
  bool require_http2 = false;

  /// url + path, the address actually requested.
  [[nodiscard]] std::string requestUrl() const { return url + path; }
};

struct Config {
  GlobalConfig global;
  std::vector<TargetConfig> targets;
  std::string source;  ///< file path, or "<embedded default>"
};

[[nodiscard]] const char* toString(TargetKind kind);
[[nodiscard]] const char* toString(IpProtocol protocol);
/// "1.1" or "2": the `http_version` label value.
[[nodiscard]] const char* toString(HttpVersion version);
/// "A", "AAAA" or "CNAME": the `type` label value.
[[nodiscard]] const char* toString(DnsRecordType type);
/// "per_target" or "per_kind": the `histograms` config value.
[[nodiscard]] const char* toString(HistogramScope scope);

}  // namespace gomodprobe
