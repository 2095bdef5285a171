#pragma once

#include <prometheus/collectable.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <string>

class CivetServer;

namespace gomodprobe::web {

/// Parses a Prometheus-style listen address (":9817", "0.0.0.0:9817", "127.0.0.1:0",
/// "[::1]:9817") into civetweb's `listening_ports` syntax. nullopt-like empty string when bad.
[[nodiscard]] std::string toCivetListen(const std::string& address);

struct WebHandlers {
  /// POST /-/reload: reloads the configuration; returns "" on success or the error text.
  std::function<std::string()> reload;
  /// GET /: the landing page body (HTML).
  std::function<std::string()> landing_page;
};

/// The HTTP endpoints: /metrics (text exposition of `collectable`), /-/healthy, /-/reload (POST),
/// and /. Serves on civetweb's worker threads; the handlers must be thread-safe.
class WebServer {
 public:
  /// Binds at once; throws std::runtime_error when the address is bad or taken.
  WebServer(const std::string& listen_address, std::shared_ptr<prometheus::Collectable> collectable,
            WebHandlers handlers);
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
