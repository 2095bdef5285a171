#include "web/web_server.h"

#include <CivetServer.h>
#include <prometheus/text_serializer.h>

#include <sstream>
#include <stdexcept>
#include <vector>

#include "agent/logging.h"

namespace gomodprobe::web {

namespace {

void respond(mg_connection* conn, int status, const char* content_type, const std::string& body) {
  mg_printf(conn,
            "HTTP/1.1 %d %s\r\nContent-Type: %s\r\nContent-Length: %zu\r\n"
            "Cache-Control: no-store\r\nConnection: close\r\n\r\n",
            status, mg_get_response_code_text(conn, status), content_type, body.size());
  mg_write(conn, body.data(), body.size());
}

class MetricsHandler final : public CivetHandler {
 public:
  explicit MetricsHandler(std::shared_ptr<prometheus::Collectable> collectable)
      : collectable_(std::move(collectable)) {}
  bool handleGet(CivetServer* /*server*/, mg_connection* conn) override {
    std::ostringstream out;
    prometheus::TextSerializer().Serialize(out, collectable_->Collect());
    respond(conn, 200, "text/plain; version=0.0.4; charset=utf-8", out.str());
    return true;
  }

 private:
  std::shared_ptr<prometheus::Collectable> collectable_;
};

class HealthyHandler final : public CivetHandler {
 public:
  bool handleGet(CivetServer* /*server*/, mg_connection* conn) override {
    respond(conn, 200, "text/plain; charset=utf-8", "Healthy\n");
    return true;
  }
};

class ReloadHandler final : public CivetHandler {
 public:
  explicit ReloadHandler(std::function<std::string()> reload) : reload_(std::move(reload)) {}
  bool handlePost(CivetServer* /*server*/, mg_connection* conn) override {
    const std::string error = reload_ ? reload_() : "reload not supported";
    if (error.empty()) {
      respond(conn, 200, "text/plain; charset=utf-8", "Reloaded\n");
    } else {
      respond(conn, 500, "text/plain; charset=utf-8", "failed to reload config: " + error + "\n");
    }
    return true;
  }
  bool handleGet(CivetServer* /*server*/, mg_connection* conn) override {
    respond(conn, 405, "text/plain; charset=utf-8", "Only POST requests allowed\n");
    return true;
  }

 private:
  std::function<std::string()> reload_;
};

class LandingHandler final : public CivetHandler {
 public:
  explicit LandingHandler(std::function<std::string()> page) : page_(std::move(page)) {}
  bool handleGet(CivetServer* /*server*/, mg_connection* conn) override {
    const mg_request_info* info = mg_get_request_info(conn);
    if (info != nullptr && std::string_view(info->local_uri) != "/") {
      respond(conn, 404, "text/plain; charset=utf-8", "Not Found\n");
      return true;
    }
    respond(conn, 200, "text/html; charset=utf-8",
            page_ ? page_()
                  : "<html><head><title>gomodprobe</title></head><body><h1>gomodprobe</h1>"
                    "<p><a href=\"/metrics\">Metrics</a></p></body></html>");
    return true;
  }

 private:
  std::function<std::string()> page_;
};

}  // namespace

std::string toCivetListen(const std::string& address) {
  const auto colon = address.rfind(':');
  if (colon == std::string::npos) return {};
  std::string host = address.substr(0, colon);
  std::string port = address.substr(colon + 1);
  if (port.empty() || port.find_first_not_of("0123456789") != std::string::npos ||
      port.size() > 5 || std::stoi(port) > 65535) {
    return {};
  }
  if (host.empty() || host == "0.0.0.0") return port;
  if (host.front() == '[' && host.back() == ']')
    return "[" + host.substr(1, host.size() - 2) + "]:" + port;
  if (host.find(':') != std::string::npos) return {};
  return host + ":" + port;
}

class WebServer::Impl {
 public:
  Impl(const std::string& listen, std::shared_ptr<prometheus::Collectable> collectable,
       WebHandlers handlers)
      : metrics_(std::move(collectable)),
        reload_(std::move(handlers.reload)),
        landing_(std::move(handlers.landing_page)) {
    const std::string ports = toCivetListen(listen);
    if (ports.empty()) throw std::runtime_error("invalid listen address: " + listen);
    const std::vector<std::string> options = {
        "listening_ports",    ports,   "num_threads",       "4",
        "request_timeout_ms", "10000", "enable_keep_alive", "no"};
    try {
      server_ = std::make_unique<CivetServer>(options);
    } catch (const CivetException& e) {
      throw std::runtime_error("cannot listen on " + listen + ": " + e.what());
    }
    server_->addHandler("/metrics", metrics_);
    server_->addHandler("/-/healthy", healthy_);
    server_->addHandler("/-/reload", reload_);
    server_->addHandler("/", landing_);
  }
  ~Impl() { server_.reset(); }  // stop the workers before the handlers go
  Impl(const Impl&) = delete;
  Impl& operator=(const Impl&) = delete;

  [[nodiscard]] std::uint16_t port() const {
    const auto ports = server_->getListeningPorts();
    return ports.empty() ? 0 : static_cast<std::uint16_t>(ports.front());
  }

 private:
  MetricsHandler metrics_;
  HealthyHandler healthy_;
  ReloadHandler reload_;
  LandingHandler landing_;
  std::unique_ptr<CivetServer> server_;
};

WebServer::WebServer(const std::string& listen_address,
                     std::shared_ptr<prometheus::Collectable> collectable, WebHandlers handlers)
    : impl_(std::make_unique<Impl>(listen_address, std::move(collectable), std::move(handlers))) {
  logging::get("web")->info("listening on {} (port {})", listen_address, impl_->port());
}

WebServer::~WebServer() = default;

std::uint16_t WebServer::port() const { return impl_->port(); }

}  // namespace gomodprobe::web
