#pragma once

#include <prometheus/collectable.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "web/web_config.h"

class CivetServer;

namespace gomodprobe::web {

/// Parses a Prometheus-style listen address (":9817", "0.0.0.0:9817", "127.0.0.1:0",
/// "[::1]:9817") into civetweb's `listening_ports` syntax. nullopt-like empty string when bad.
[[nodiscard]] std::string toCivetListen(const std::string& address);

/// The answer of GET /probe.
struct ProbeReply {
  int status = 200;
  std::string content_type = "text/plain; charset=utf-8";
  std::string body;
};

/// The parameters of GET /probe: `target` (required, once) and `debug` ("true" or "false").
/// Any other parameter is an error: /probe never takes a URL, module or address from the request.
struct ProbeQuery {
  std::string target;
  bool debug = false;
  std::string error;  ///< non-empty: the request is malformed (400)
};
[[nodiscard]] ProbeQuery parseProbeQuery(std::string_view query);

struct WebHandlers {
  /// POST /-/reload: reloads the configuration; returns "" on success or the error text.
  std::function<std::string()> reload;
  /// Receives a response body in pieces, in order (see `landing_page`).
  using BodyWriter = std::function<void(std::string_view)>;
  /// GET /: hands the landing page (HTML) to the writer in pieces, which the server streams
  /// chunked to HTTP/1.1 clients (a page of 10,000 targets is ~5 MB) and gathers for HTTP/1.0.
  std::function<void(const BodyWriter& write)> landing_page;
  /// GET /probe?target=NAME[&debug=true]: runs the configured target NAME now (blocking the
  /// worker thread for at most the run's bounded wait). Without it /probe is 404.
  std::function<ProbeReply(const std::string& target, bool debug)> probe;
};

/// The HTTP endpoints: /metrics (text exposition of `collectable`), /-/healthy, /-/reload (POST),
/// /probe and /. Serves on civetweb's worker threads; the handlers must be thread-safe.
/// With `web_config.tls` the listener speaks only TLS (cert and key loaded with OpenSSL into the
/// SSL_CTX civetweb creates; civetweb loads libssl.so at run time); with
/// `web_config.basic_auth_users` every request, on every path, needs valid basic credentials
/// (else 401 with `WWW-Authenticate: Basic realm="gomodprobe"`).
class WebServer {
 public:
  /// Binds at once; throws std::runtime_error when the address is bad or taken, or TLS cannot be
  /// set up (the message says why: unreadable certificate, key mismatch, no libssl.so, ...).
  WebServer(const std::string& listen_address, std::shared_ptr<prometheus::Collectable> collectable,
            WebHandlers handlers, const WebConfig& web_config = {});
  ~WebServer();
  WebServer(const WebServer&) = delete;
  WebServer& operator=(const WebServer&) = delete;

  /// The bound port (useful with port 0).
  [[nodiscard]] std::uint16_t port() const;

 private:
  class Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace gomodprobe::web
