#pragma once

#include <array>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>

#include "gomodprobe/config.h"
#include "gomodprobe/probe.h"
#include "net/event_loop.h"

namespace gomodprobe::net {

/// Credentials of a request. Secrets live only here, for the request's lifetime; they are never
/// logged or copied into a response. At most one kind is set.
struct HttpAuth {
  /// A netrc file, used as curl and git use ~/.netrc: CURLOPT_NETRC_FILE with
  /// CURL_NETRC_OPTIONAL (the login of the request host's `machine` entry, or `default`).
  std::string netrc_file;
  std::string bearer_token;  ///< CURLOPT_XOAUTH2_BEARER with CURLAUTH_BEARER
  std::string username;      ///< with `password`: CURLAUTH_BASIC (sent with the first request)
  std::string password;
  [[nodiscard]] bool empty() const {
    return netrc_file.empty() && bearer_token.empty() && username.empty();
  }
};

/// One HTTP request on the event loop, over a fresh connection (no reuse, no TLS resumption).
struct FetchRequest {
  std::string url;
  /// CURLOPT_RESOLVE entry "host:port:address" pinning the address c-ares found; empty = none
  /// (IP-literal hosts, or hosts curl may resolve itself, e.g. after a redirect).
  std::string pin;
  HttpVersion version = HttpVersion::Http11;
  IpProtocol ip_protocol = IpProtocol::Any;
  std::string ca_file;  ///< extra trust anchors, on top of the system store
  std::map<std::string, std::string> headers;
  std::chrono::steady_clock::time_point deadline;
  bool follow_redirects = false;  ///< the go command follows them for proxy and sumdb requests
  std::uint64_t max_body_bytes = 64ULL << 20;  ///< longer bodies fail with http_protocol
  /// When set, the body is written to this open file instead of memory (not owned).
  std::FILE* body_file = nullptr;
  /// HTTP(S) proxy ("http://[user:pw@]host:port", "https://…"); empty = direct. https URLs go
  /// through a CONNECT tunnel, http URLs are forwarded (absolute-form request), as the go command
  /// does. The proxy's own name is resolved by curl (system resolver); `pin` is then ignored.
  std::string proxy;
  /// Credentials; curl sends them to the request's host only (not after a redirect elsewhere).
  HttpAuth auth;
};

/// What one request gave. Never thrown: every failure is a reason.
struct FetchResponse {
  bool ok = false;  ///< transfer completed and status is 2xx
  FailureReason reason = FailureReason::None;
  std::string detail;  ///< bounded, human-readable
  long status_code = 0;
  double negotiated_version = 0;  ///< 1.0, 1.1, 2, 3; 0 = no response
  /// connect, tls, processing, transfer, proxy_connect in seconds (index as Phase; resolve is
  /// never set here). Through a proxy: connect is the TCP handshake with the proxy,
  /// proxy_connect the CONNECT round trip, tls the TLS handshake(s) after it (with an https
  /// proxy, the proxy's handshake is part of tls too).
  std::array<std::optional<double>, kPhaseCount> phases{};
  double total_seconds = 0;  ///< request start → end (or abort)
  std::optional<TlsInfo> tls;
  std::uint64_t body_bytes = 0;
  std::string body;          ///< empty when FetchRequest::body_file was set
  std::string content_type;  ///< Content-Type of the last response ("" when none)
};

/// A request in flight; abort() ends it at once with reason timeout (or connect_timeout when the
/// TCP handshake never completed), calling the callback synchronously. Loop thread only.
class Fetch {
 public:
  using Callback = std::function<void(FetchResponse)>;
  virtual ~Fetch() = default;
  virtual void abort() = 0;
};

/// Starts `request`; `done` runs exactly once on the loop thread (never inside startFetch).
/// The returned handle may be dropped: the request keeps itself alive until done.
std::shared_ptr<Fetch> startFetch(EventLoop& loop, FetchRequest request, Fetch::Callback done);

/// "host:port:address" for CURLOPT_RESOLVE (IPv6 addresses in brackets).
[[nodiscard]] std::string resolvePin(const std::string& host, long port,
                                     const std::string& address);

/// Host (brackets removed), port (scheme default when absent) and scheme of a URL.
struct UrlParts {
  std::string scheme;
  std::string host;
  long port = 0;
};
[[nodiscard]] std::optional<UrlParts> splitUrl(const std::string& url);
[[nodiscard]] bool isIpLiteral(const std::string& host);

}  // namespace gomodprobe::net
