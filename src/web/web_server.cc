#include "web/web_server.h"

#include <CivetServer.h>
#include <dlfcn.h>
#include <malloc.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <prometheus/text_serializer.h>

#include <array>
#include <filesystem>
#include <mutex>
#include <sstream>
#include <stdexcept>
#include <string_view>
#include <vector>

#include "agent/logging.h"
#include "metrics/probe_collector.h"
#include "web/basic_auth.h"

namespace gomodprobe::web {

namespace {

void respond(mg_connection* conn, int status, const char* content_type, const std::string& body) {
  mg_printf(conn,
            "HTTP/1.1 %d %s\r\nContent-Type: %s\r\nContent-Length: %zu\r\n"
            "Cache-Control: no-store\r\nConnection: close\r\n\r\n",
            status, mg_get_response_code_text(conn, status), content_type, body.size());
  mg_write(conn, body.data(), body.size());
}

using BodyWriter = WebHandlers::BodyWriter;
using BodyProducer = std::function<void(const BodyWriter& write)>;

/// A 200 whose body `produce` hands over in pieces. To HTTP/1.1 clients it is sent as it comes,
/// in chunks (RFC 9112 §7.1), so the body is never held whole; HTTP/1.0 has no chunked coding, so
/// there the pieces are gathered and sent with a Content-Length.
void respondStreamed(mg_connection* conn, const char* content_type, const BodyProducer& produce) {
  const mg_request_info* info = mg_get_request_info(conn);
  const bool http11 = info != nullptr && info->http_version != nullptr &&
                      std::string_view(info->http_version) == "1.1";
  if (!http11) {
    std::string body;
    produce([&body](std::string_view piece) { body += piece; });
    respond(conn, 200, content_type, body);
    return;
  }
  mg_printf(conn,
            "HTTP/1.1 200 OK\r\nContent-Type: %s\r\nTransfer-Encoding: chunked\r\n"
            "Cache-Control: no-store\r\nConnection: close\r\n\r\n",
            content_type);
  bool ok = true;
  produce([conn, &ok](std::string_view piece) {
    if (!ok || piece.empty()) return;  // an empty chunk would end the body
    ok = mg_send_chunk(conn, piece.data(), static_cast<unsigned int>(piece.size())) > 0;
  });
  if (ok) mg_send_chunk(conn, "", 0);  // the last chunk
}

class MetricsHandler final : public CivetHandler {
 public:
  explicit MetricsHandler(std::shared_ptr<prometheus::Collectable> collectable)
      : collectable_(std::move(collectable)) {}
  bool handleGet(CivetServer* /*server*/, mg_connection* conn) override {
    constexpr const char* kType = "text/plain; version=0.0.4; charset=utf-8";
    if (const auto* collector = dynamic_cast<const metrics::ProbeCollector*>(collectable_.get())) {
      // Straight to text (no MetricFamily copies), in pieces that end after a target: the scrape
      // never holds the whole exposition (6 MB at 10,000 targets), nor a whole family, in memory.
      respondStreamed(conn, kType,
                      [collector](const BodyWriter& write) { collector->renderText(write); });
    } else {
      std::ostringstream out;
      prometheus::TextSerializer().Serialize(out, collectable_->Collect());
      respond(conn, 200, kType, out.str());
    }
    // A scrape of thousands of targets allocates megabytes on this worker thread; hand the freed
    // pages back instead of leaving them resident in its malloc arena until the next scrape.
    malloc_trim(0);
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

class ProbeHandler final : public CivetHandler {
 public:
  using Run = std::function<ProbeReply(const std::string&, bool)>;
  explicit ProbeHandler(Run run) : run_(std::move(run)) {}
  bool handleGet(CivetServer* /*server*/, mg_connection* conn) override {
    if (!run_) {
      respond(conn, 404, "text/plain; charset=utf-8", "Not Found\n");
      return true;
    }
    const mg_request_info* info = mg_get_request_info(conn);
    const ProbeQuery query =
        parseProbeQuery(info != nullptr && info->query_string != nullptr ? info->query_string : "");
    if (!query.error.empty()) {
      respond(conn, 400, "text/plain; charset=utf-8", query.error + "\n");
      return true;
    }
    const ProbeReply reply = run_(query.target, query.debug);
    respond(conn, reply.status, reply.content_type.c_str(), reply.body);
    return true;
  }

 private:
  Run run_;
};

class AuthHandler final : public CivetAuthHandler {
 public:
  explicit AuthHandler(const std::map<std::string, std::string>& users) : auth_(users) {}
  [[nodiscard]] bool enabled() const { return auth_.enabled(); }
  bool authorize(CivetServer* /*server*/, mg_connection* conn) override {
    if (auth_.check(mg_get_header(conn, "Authorization"))) return true;
    const std::string body = "Unauthorized\n";
    mg_printf(conn,
              "HTTP/1.1 401 Unauthorized\r\nWWW-Authenticate: Basic realm=\"gomodprobe\", "
              "charset=\"UTF-8\"\r\nContent-Type: text/plain; charset=utf-8\r\n"
              "Content-Length: %zu\r\nCache-Control: no-store\r\nConnection: close\r\n\r\n",
              body.size());
    mg_write(conn, body.data(), body.size());
    return false;
  }

 private:
  BasicAuth auth_;
};

// What civetweb's start-up callbacks need: the TLS settings, and where to put the reason of a
// failed start (civetweb's own log lines and our OpenSSL errors).
// civetweb hands it back as const void*: the mutable part is what the callbacks report.
struct StartContext {
  std::optional<TlsServerConfig> tls;
  mutable std::mutex mutex;
  mutable bool starting = true;  // guarded by mutex
  mutable std::string error;     // guarded by mutex
  void fail(const std::string& message) const {
    std::lock_guard lock(mutex);
    if (starting) error += (error.empty() ? "" : "; ") + message;
  }
};

const StartContext* startContextOf(const void* civet_server) {
  const auto* server = static_cast<const CivetServer*>(civet_server);
  return static_cast<const StartContext*>(server->getUserContext());
}

std::string opensslError() {
  std::string out;
  while (const unsigned long code = ERR_get_error()) {
    std::array<char, 256> buffer{};
    ERR_error_string_n(code, buffer.data(), buffer.size());
    out += (out.empty() ? "" : "; ") + std::string(buffer.data());
  }
  return out.empty() ? "unknown OpenSSL error" : out;
}

// civetweb's init_ssl callback: configures the SSL_CTX civetweb made (it is OpenSSL's own, as
// civetweb's libssl.so is the libssl this binary links) from exporter-toolkit settings.
int initSsl(void* ssl_ctx, void* user_data) {
  const StartContext* start = startContextOf(user_data);
  if (start == nullptr || !start->tls) return -1;
  const TlsServerConfig& tls = *start->tls;
  auto* ctx = static_cast<SSL_CTX*>(ssl_ctx);
  ERR_clear_error();
  if (SSL_CTX_use_certificate_chain_file(ctx, tls.cert_file.c_str()) != 1) {
    start->fail("cannot load cert_file " + tls.cert_file + ": " + opensslError());
    return -1;
  }
  if (SSL_CTX_use_PrivateKey_file(ctx, tls.key_file.c_str(), SSL_FILETYPE_PEM) != 1) {
    start->fail("cannot load key_file " + tls.key_file + ": " + opensslError());
    return -1;
  }
  if (SSL_CTX_check_private_key(ctx) != 1) {
    start->fail("key_file " + tls.key_file + " does not match cert_file " + tls.cert_file);
    return -1;
  }
  const int min_version = tls.min_version == TlsVersion::Tls13 ? TLS1_3_VERSION : TLS1_2_VERSION;
  if (SSL_CTX_set_min_proto_version(ctx, min_version) != 1) {
    start->fail("cannot set min_version: " + opensslError());
    return -1;
  }
  if (tls.require_client_cert) {
    STACK_OF(X509_NAME)* names = SSL_load_client_CA_file(tls.client_ca_file.c_str());
    if (names == nullptr ||
        SSL_CTX_load_verify_locations(ctx, tls.client_ca_file.c_str(), nullptr) != 1) {
      if (names != nullptr) sk_X509_NAME_pop_free(names, X509_NAME_free);
      start->fail("cannot load client_ca_file " + tls.client_ca_file + ": " + opensslError());
      return -1;
    }
    SSL_CTX_set_client_CA_list(ctx, names);  // takes ownership
    SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, nullptr);
  }
  return 1;  // certificate set up: civetweb must not load its own
}

int logMessage(const mg_connection* conn, const char* message) {
  const mg_context* ctx = conn != nullptr ? mg_get_context(conn) : nullptr;
  const void* server = ctx != nullptr ? mg_get_user_data(ctx) : nullptr;
  if (const StartContext* start = server != nullptr ? startContextOf(server) : nullptr) {
    start->fail(message);
  }
  logging::get("web")->debug("civetweb: {}", message);
  return 1;  // handled: civetweb writes nothing itself
}

// civetweb 1.15 (Debian 12) dlopen()s "libcrypto.so" and "libssl.so" and wants the OpenSSL 1.1
// API; the shims in <binary>/../libexec/gomodprobe (not lib/: private objects, no ldconfig)
// (src/civetweb_tls) carry those SONAMEs, depend on OpenSSL 3 and add the one missing symbol.
// Loading them first makes civetweb's dlopen() find them.
class OpenSslShims {
 public:
  OpenSslShims() {
    std::error_code ec;
    const auto exe = std::filesystem::read_symlink("/proc/self/exe", ec);
    directory_ = (exe.parent_path().parent_path() / "libexec" / "gomodprobe").string();
    for (const char* name : {"libcrypto.so", "libssl.so"}) {
      const std::string path = directory_ + "/" + name;
      if (void* handle = dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL)) {
        handles_.push_back(handle);
      } else {
        const char* error = dlerror();  // NOLINT(concurrency-mt-unsafe): glibc's is per thread
        error_ += (error_.empty() ? "" : "; ") + std::string(error != nullptr ? error : path);
      }
    }
  }
  ~OpenSslShims() {
    while (!handles_.empty()) {  // in reverse order of loading
      dlclose(handles_.back());
      handles_.pop_back();
    }
  }
  OpenSslShims(const OpenSslShims&) = delete;
  OpenSslShims& operator=(const OpenSslShims&) = delete;
  /// Why a shim could not be loaded ("" when both are).
  [[nodiscard]] const std::string& error() const { return error_; }

 private:
  std::string directory_;
  std::string error_;
  std::vector<void*> handles_;
};

class LandingHandler final : public CivetHandler {
 public:
  explicit LandingHandler(BodyProducer page) : page_(std::move(page)) {}
  bool handleGet(CivetServer* /*server*/, mg_connection* conn) override {
    const mg_request_info* info = mg_get_request_info(conn);
    if (info != nullptr && std::string_view(info->local_uri) != "/") {
      respond(conn, 404, "text/plain; charset=utf-8", "Not Found\n");
      return true;
    }
    if (!page_) {
      respond(conn, 200, "text/html; charset=utf-8",
              "<html><head><title>gomodprobe</title></head><body><h1>gomodprobe</h1>"
              "<p><a href=\"/metrics\">Metrics</a></p></body></html>");
      return true;
    }
    respondStreamed(conn, "text/html; charset=utf-8", page_);
    malloc_trim(0);  // as after a scrape: the page of thousands of targets was megabytes
    return true;
  }

 private:
  BodyProducer page_;
};

}  // namespace

ProbeQuery parseProbeQuery(std::string_view query) {
  ProbeQuery out;
  bool has_target = false;
  bool has_debug = false;
  auto decode = [](std::string_view text) -> std::optional<std::string> {
    std::string buffer(text.size() + 1, '\0');
    const int n = mg_url_decode(text.data(), static_cast<int>(text.size()), buffer.data(),
                                static_cast<int>(buffer.size()), /*is_form_url_encoded=*/1);
    if (n < 0) return std::nullopt;
    buffer.resize(static_cast<std::size_t>(n));
    return buffer;
  };
  auto shorten = [](const std::string& text) {
    return text.size() > 64 ? text.substr(0, 64) + "..." : text;
  };
  while (!query.empty()) {
    const std::size_t amp = query.find('&');
    const std::string_view pair = query.substr(0, amp);
    query = amp == std::string_view::npos ? std::string_view() : query.substr(amp + 1);
    if (pair.empty()) continue;
    const std::size_t eq = pair.find('=');
    const auto key = decode(pair.substr(0, eq));
    const auto value =
        decode(eq == std::string_view::npos ? std::string_view() : pair.substr(eq + 1));
    if (!key || !value) {
      out.error = "malformed query string";
      return out;
    }
    if (*key == "target") {
      if (has_target) {
        out.error = "the target parameter may be given only once";
        return out;
      }
      has_target = true;
      out.target = *value;
    } else if (*key == "debug") {
      if (has_debug || (*value != "true" && *value != "false")) {
        out.error = "debug must be given at most once, as true or false";
        return out;
      }
      has_debug = true;
      out.debug = *value == "true";
    } else {
      out.error = "unknown parameter \"" + shorten(*key) +
                  "\": /probe takes only target (a configured target's name) and debug";
      return out;
    }
  }
  if (out.target.empty()) out.error = "target parameter is missing";
  return out;
}

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
       WebHandlers handlers, const WebConfig& web_config)
      : metrics_(std::move(collectable)),
        reload_(std::move(handlers.reload)),
        landing_(std::move(handlers.landing_page)),
        probe_(std::move(handlers.probe)),
        auth_(web_config.basic_auth_users) {
    std::string ports = toCivetListen(listen);
    if (ports.empty()) throw std::runtime_error("invalid listen address: " + listen);
    start_.tls = web_config.tls;
    std::vector<std::string> options = {"num_threads",       "4", "request_timeout_ms", "10000",
                                        "enable_keep_alive", "no"};
    CivetCallbacks callbacks{};
    callbacks.log_message = &logMessage;
    if (web_config.tls) {
      shims_ = std::make_unique<OpenSslShims>();
      if (!shims_->error().empty()) {
        logging::get("web")->warn("civetweb OpenSSL shims not loaded, TLS may fail: {}",
                                  shims_->error());
      }
      ports += "s";  // civetweb: an 's' suffix makes the port TLS-only
      callbacks.init_ssl = &initSsl;
      options.insert(options.end(), {"ssl_protocol_version", "4"});  // no SSLv2/3, TLS 1.0/1.1
    }
    options.insert(options.end(), {"listening_ports", ports});
    try {
      server_ = std::make_unique<CivetServer>(options, &callbacks, &start_);
    } catch (const CivetException& e) {
      std::lock_guard lock(start_.mutex);
      std::string hint;
      if (shims_ && !shims_->error().empty()) {
        hint = " (civetweb's OpenSSL shims were not loaded: " + shims_->error() + ")";
      }
      throw std::runtime_error("cannot listen on " + listen + ": " +
                               (start_.error.empty() ? e.what() : start_.error) + hint);
    }
    {
      std::lock_guard lock(start_.mutex);
      start_.starting = false;
    }
    if (auth_.enabled()) server_->addAuthHandler("/", auth_);
    server_->addHandler("/metrics", metrics_);
    server_->addHandler("/probe", probe_);
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
  ProbeHandler probe_;
  AuthHandler auth_;
  StartContext start_;
  std::unique_ptr<OpenSslShims> shims_;  // outlives server_
  std::unique_ptr<CivetServer> server_;
};

WebServer::WebServer(const std::string& listen_address,
                     std::shared_ptr<prometheus::Collectable> collectable, WebHandlers handlers,
                     const WebConfig& web_config)
    : impl_(std::make_unique<Impl>(listen_address, std::move(collectable), std::move(handlers),
                                   web_config)) {
  logging::get("web")->info("listening on {} (port {}) with {}{}", listen_address, impl_->port(),
                            web_config.tls ? "TLS" : "plain HTTP",
                            web_config.basic_auth_users.empty() ? "" : ", basic auth");
}

WebServer::~WebServer() = default;

std::uint16_t WebServer::port() const { return impl_->port(); }

}  // namespace gomodprobe::web
