#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace gomodprobe {

/// What a target probes. `goproxy` and `sumdb` are HTTP probes with Go-specific defaults in this
/// version (goproxy: path `/`; sumdb: path `/latest`); later versions add the Go protocol checks.
enum class TargetKind { GoProxy, SumDb, Http };

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

struct GlobalConfig {
  std::chrono::milliseconds interval{30'000};
  std::chrono::milliseconds timeout{10'000};  ///< must be < interval
  std::vector<ResolverSpec> resolvers{ResolverSpec{}};
  std::string ca_file;                        ///< extra trust anchors (PEM); empty = system store
  std::map<std::string, std::string> labels;  ///< constant labels for push mode
  int max_concurrent_probes = 64;             ///< cap on runs in flight at once (1..10000)
};

/// A target with every global default already applied: the probe reads only this struct.
struct TargetConfig {
  std::string name;  ///< unique, [a-zA-Z0-9_.-]+; the `target` label
  TargetKind kind = TargetKind::Http;
  std::string url;   ///< base URL, scheme http or https, no trailing slash
  std::string path;  ///< request path, starts with '/'
  std::vector<HttpVersion> http_versions{HttpVersion::Http11, HttpVersion::Http2};
  std::vector<ResolverSpec> resolvers;  ///< first one feeds the connection; never empty
  IpProtocol ip_protocol = IpProtocol::Any;
  std::chrono::milliseconds interval{30'000};
  std::chrono::milliseconds timeout{10'000};
  std::string ca_file;
  std::map<std::string, std::string> headers;

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

}  // namespace gomodprobe
