#include "net/http_fetch.h"

#include <arpa/inet.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>

#include <algorithm>
#include <cerrno>
#include <ctime>
#include <string_view>
#include <utility>

#include "net/handles.h"
#include "net/proxy.h"
#include "probe/failure_mapping.h"

#ifndef GOMODPROBE_VERSION
#define GOMODPROBE_VERSION "dev"
#endif

namespace gomodprobe::net {

namespace {

constexpr std::size_t kMaxDetail = 200;
// curl's own timeout is only a backstop: the caller's deadline (abort()) ends requests first.
constexpr long kCurlBackstopMs = 1000;
constexpr long kMaxRedirects = 10;

struct CurlUrlDeleter {
  void operator()(CURLU* url) const noexcept { curl_url_cleanup(url); }
};

std::string bounded(std::string text) {
  if (text.size() > kMaxDetail) text.resize(kMaxDetail);
  return text;
}

double seconds(curl_off_t micros) { return static_cast<double>(micros) / 1e6; }

std::optional<double> asn1ToUnix(const ASN1_TIME* time) {
  std::tm tm{};
  if (time == nullptr || ASN1_TIME_to_tm(time, &tm) != 1) return std::nullopt;
  return static_cast<double>(timegm(&tm));
}

TlsInfo tlsInfoFrom(SSL* ssl) {
  TlsInfo info;
  info.version = SSL_get_version(ssl);
  if (const SSL_CIPHER* cipher = SSL_get_current_cipher(ssl)) {
    info.cipher = SSL_CIPHER_get_name(cipher);
  }
  if (STACK_OF(X509)* chain = SSL_get_peer_cert_chain(ssl)) {
    for (int i = 0; i < sk_X509_num(chain); ++i) {
      const auto not_after = asn1ToUnix(X509_get0_notAfter(sk_X509_value(chain, i)));
      if (not_after && (!info.not_after || *not_after < *info.not_after)) {
        info.not_after = not_after;
      }
    }
  }
  return info;
}

class FetchImpl final : public Fetch, public std::enable_shared_from_this<FetchImpl> {
 public:
  FetchImpl(EventLoop& loop, FetchRequest request, Callback done)
      : loop_(loop), request_(std::move(request)), done_(std::move(done)) {}

  void start() {
    if (!configure()) {
      if (response_.reason == FailureReason::None) {
        response_.reason = FailureReason::HttpProtocol;
        response_.detail = "cannot set up the request (out of memory)";
      }
      // Never call back inside startFetch().
      loop_.post([self = shared_from_this()] { self->finish(); });
      return;
    }
    if (!loop_.addTransfer(easy_.get(),
                           [self = shared_from_this()](CURLcode code) { self->onDone(code); })) {
      response_.reason = FailureReason::HttpProtocol;
      response_.detail = "curl refused the transfer";
      loop_.post([self = shared_from_this()] { self->finish(); });
      return;
    }
    started_ = true;
  }

  void abort() override {
    if (finished_ || !started_) return;
    collect(std::nullopt);
    loop_.removeTransfer(easy_.get());  // drops the loop's reference to us: keep one
    auto keep = shared_from_this();
    finish();
  }

  static std::size_t onHeader(char* /*data*/, std::size_t size, std::size_t count, void* user) {
    auto* self = static_cast<FetchImpl*>(user);
    if (!self->tls_captured_) {
      self->tls_captured_ = true;
      const curl_tlssessioninfo* info = nullptr;
      if (curl_easy_getinfo(self->easy_.get(), CURLINFO_TLS_SSL_PTR, &info) == CURLE_OK &&
          info != nullptr && info->backend == CURLSSLBACKEND_OPENSSL &&
          info->internals != nullptr) {
        self->response_.tls = tlsInfoFrom(static_cast<SSL*>(info->internals));
      }
    }
    return size * count;
  }

  /// Times the CONNECT tunnel: curl reports the CONNECT request it sends (CURLINFO_HEADER_OUT,
  /// "CONNECT host:port …") and each header line of the proxy's answer (CURLINFO_HEADER_IN) to
  /// the debug callback; the blank line ending that answer marks the tunnel's end. Only installed
  /// when a proxy is used (CURLOPT_VERBOSE is needed for the callback to run).
  static int onDebug(CURL* /*easy*/, curl_infotype type, char* data, std::size_t size, void* user) {
    auto* self = static_cast<FetchImpl*>(user);
    const std::string_view text(data, size);
    if (type == CURLINFO_HEADER_OUT && text.rfind("CONNECT ", 0) == 0) {
      if (!self->connect_sent_) self->connect_sent_ = self->loop_.clock().steadyNow();
      self->in_connect_ = true;
    } else if (type == CURLINFO_HEADER_IN && self->in_connect_ &&
               (text == "\r\n" || text == "\n")) {
      self->connect_answered_ = self->loop_.clock().steadyNow();
      self->in_connect_ = false;
    }
    return 0;
  }

  /// Installs the shared trust store in the SSL_CTX curl made for this connection (curl calls
  /// this after its own, here empty, CA setup and before the handshake).
  static CURLcode onSslContext(CURL* /*easy*/, void* ssl_ctx, void* user) {
    auto* self = static_cast<FetchImpl*>(user);
    if (self->trust_store_) {
      SSL_CTX_set1_cert_store(static_cast<SSL_CTX*>(ssl_ctx), self->trust_store_.get());
    }
    return CURLE_OK;
  }

  static std::size_t onBody(char* data, std::size_t size, std::size_t count, void* user) {
    auto* self = static_cast<FetchImpl*>(user);
    const std::size_t n = size * count;
    self->response_.body_bytes += n;
    if (self->response_.body_bytes > self->request_.max_body_bytes) {
      self->body_too_large_ = true;
      return 0;  // aborts the transfer with CURLE_WRITE_ERROR
    }
    if (self->request_.body_file != nullptr) {
      if (std::fwrite(data, 1, n, self->request_.body_file) != n) {
        self->write_failed_ = true;
        return 0;
      }
    } else {
      self->response_.body.append(data, n);
    }
    return n;
  }

 private:
  bool configure() {
    easy_.reset(curl_easy_init());
    CURL* easy = easy_.get();
    if (easy == nullptr) {
      response_.reason = FailureReason::HttpProtocol;
      response_.detail = "curl_easy_init failed";
      return false;
    }
    if (!request_.pin.empty() && !appendSlist(resolve_, request_.pin.c_str())) return false;
    for (const auto& [name, value] : request_.headers) {
      std::string line = name;
      line.append(": ").append(value);
      if (!appendSlist(headers_, line.c_str())) return false;
    }
    const auto remaining = std::chrono::duration_cast<std::chrono::milliseconds>(
        request_.deadline - loop_.clock().steadyNow());
    const long timeout_ms =
        std::max<long>(1, static_cast<long>(remaining.count())) + kCurlBackstopMs;

    curl_easy_setopt(easy, CURLOPT_URL, request_.url.c_str());
    curl_easy_setopt(easy, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(easy, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(easy, CURLOPT_NOSIGNAL, 1L);
    // No proxy unless configured: curl would otherwise pick up HTTPS_PROXY from the environment
    // (the target's proxy_from_environment captured it at config load instead).
    curl_easy_setopt(easy, CURLOPT_PROXY, request_.proxy.c_str());
    if (!request_.proxy.empty()) {
      curl_easy_setopt(easy, CURLOPT_NOPROXY, "");
      // The proxy's CONNECT answer must not reach onHeader (it would take the TLS info early).
      curl_easy_setopt(easy, CURLOPT_SUPPRESS_CONNECT_HEADERS, 1L);
      curl_easy_setopt(easy, CURLOPT_DEBUGFUNCTION, &FetchImpl::onDebug);
      curl_easy_setopt(easy, CURLOPT_DEBUGDATA, this);
      curl_easy_setopt(easy, CURLOPT_VERBOSE, 1L);
      if (!request_.ca_file.empty()) {
        curl_easy_setopt(easy, CURLOPT_PROXY_CAINFO, request_.ca_file.c_str());
        curl_easy_setopt(easy, CURLOPT_PROXY_CAPATH, "/etc/ssl/certs");
      }
    }
    curl_easy_setopt(easy, CURLOPT_ERRORBUFFER, error_.data());
    if (resolve_) curl_easy_setopt(easy, CURLOPT_RESOLVE, resolve_.get());
    if (headers_) curl_easy_setopt(easy, CURLOPT_HTTPHEADER, headers_.get());
    curl_easy_setopt(easy, CURLOPT_USERAGENT, "gomodprobe/" GOMODPROBE_VERSION);
    curl_easy_setopt(
        easy, CURLOPT_HTTP_VERSION,
        request_.version == HttpVersion::Http2 ? CURL_HTTP_VERSION_2TLS : CURL_HTTP_VERSION_1_1);
    curl_easy_setopt(easy, CURLOPT_FRESH_CONNECT, 1L);
    curl_easy_setopt(easy, CURLOPT_FORBID_REUSE, 1L);
    curl_easy_setopt(easy, CURLOPT_SSL_SESSIONID_CACHE, 0L);
    // At least TLS 1.2, as the go command's client (crypto/tls: the client default MinVersion is
    // TLS 1.2 since Go 1.18). Without it curl offers TLS 1.0 and a TLS 1.0-only server fails
    // later and obscurely ("legacy sigalg disallowed": OpenSSL 3 refuses its MD5-SHA1 signature
    // at security level 1 and up); now the handshake stops at the version.
    curl_easy_setopt(easy, CURLOPT_SSLVERSION, static_cast<long>(CURL_SSLVERSION_TLSv1_2));
    curl_easy_setopt(easy, CURLOPT_FOLLOWLOCATION, request_.follow_redirects ? 1L : 0L);
    curl_easy_setopt(easy, CURLOPT_MAXREDIRS, kMaxRedirects);
    curl_easy_setopt(easy, CURLOPT_TIMEOUT_MS, timeout_ms);
    curl_easy_setopt(easy, CURLOPT_CONNECTTIMEOUT_MS, timeout_ms);
    curl_easy_setopt(easy, CURLOPT_IPRESOLVE,
                     request_.ip_protocol == IpProtocol::Ip4   ? CURL_IPRESOLVE_V4
                     : request_.ip_protocol == IpProtocol::Ip6 ? CURL_IPRESOLVE_V6
                                                               : CURL_IPRESOLVE_WHATEVER);
    if (const bool https = request_.url.rfind("https://", 0) == 0 || request_.follow_redirects;
        https && (trust_store_ = loop_.trustStores().get(request_.ca_file))) {
      // The loop's parsed trust anchors (the same curl would load from the files below) instead
      // of curl parsing the CA file again for this connection.
      curl_easy_setopt(easy, CURLOPT_CAINFO, nullptr);
      curl_easy_setopt(easy, CURLOPT_CAPATH, nullptr);
      // Off: curl's own cached store (CURLOPT_CA_CACHE_TIMEOUT, kept per multi handle and keyed
      // by CAINFO, here null for every request) would replace ours after onSslContext, so the
      // first TLS target's anchors would be used for every later one.
      curl_easy_setopt(easy, CURLOPT_CA_CACHE_TIMEOUT, 0L);
      curl_easy_setopt(easy, CURLOPT_SSL_CTX_FUNCTION, &FetchImpl::onSslContext);
      curl_easy_setopt(easy, CURLOPT_SSL_CTX_DATA, this);
    } else if (!request_.ca_file.empty()) {
      curl_easy_setopt(easy, CURLOPT_CAINFO, request_.ca_file.c_str());
      curl_easy_setopt(easy, CURLOPT_CAPATH, "/etc/ssl/certs");
    }
    const HttpAuth& auth = request_.auth;
    if (!auth.netrc_file.empty()) {
      curl_easy_setopt(easy, CURLOPT_NETRC, static_cast<long>(CURL_NETRC_OPTIONAL));
      curl_easy_setopt(easy, CURLOPT_NETRC_FILE, auth.netrc_file.c_str());
    } else if (!auth.bearer_token.empty()) {
      curl_easy_setopt(easy, CURLOPT_HTTPAUTH, static_cast<long>(CURLAUTH_BEARER));
      curl_easy_setopt(easy, CURLOPT_XOAUTH2_BEARER, auth.bearer_token.c_str());
    } else if (!auth.username.empty()) {
      curl_easy_setopt(easy, CURLOPT_HTTPAUTH, static_cast<long>(CURLAUTH_BASIC));
      curl_easy_setopt(easy, CURLOPT_USERNAME, auth.username.c_str());
      curl_easy_setopt(easy, CURLOPT_PASSWORD, auth.password.c_str());
    }
    curl_easy_setopt(easy, CURLOPT_HEADERFUNCTION, &FetchImpl::onHeader);
    curl_easy_setopt(easy, CURLOPT_HEADERDATA, this);
    curl_easy_setopt(easy, CURLOPT_WRITEFUNCTION, &FetchImpl::onBody);
    curl_easy_setopt(easy, CURLOPT_WRITEDATA, this);
    return true;
  }

  void onDone(CURLcode code) {
    if (finished_) return;
    collect(code);
    finish();
  }

  /// Reads phases, status and version from curl; `code` is the transfer's result, or nullopt when
  /// the caller's deadline cut it short.
  void collect(std::optional<CURLcode> code) {
    CURL* easy = easy_.get();
    FetchResponse& out = response_;
    curl_off_t lookup = 0;
    curl_off_t connect = 0;
    curl_off_t appconnect = 0;
    curl_off_t pretransfer = 0;
    curl_off_t starttransfer = 0;
    curl_off_t total = 0;
    curl_easy_getinfo(easy, CURLINFO_NAMELOOKUP_TIME_T, &lookup);
    curl_easy_getinfo(easy, CURLINFO_CONNECT_TIME_T, &connect);
    curl_easy_getinfo(easy, CURLINFO_APPCONNECT_TIME_T, &appconnect);
    curl_easy_getinfo(easy, CURLINFO_PRETRANSFER_TIME_T, &pretransfer);
    curl_easy_getinfo(easy, CURLINFO_STARTTRANSFER_TIME_T, &starttransfer);
    curl_easy_getinfo(easy, CURLINFO_TOTAL_TIME_T, &total);
    const auto idx = [](Phase p) { return static_cast<std::size_t>(p); };
    double tunnel = 0;
    if (connect_sent_ && connect_answered_) {
      tunnel = std::chrono::duration<double>(*connect_answered_ - *connect_sent_).count();
      out.phases[idx(Phase::ProxyConnect)] = tunnel;
    }
    if (connect > 0) out.phases[idx(Phase::Connect)] = seconds(connect - lookup);
    if (appconnect > 0) {
      out.phases[idx(Phase::Tls)] = std::max(0.0, seconds(appconnect - connect) - tunnel);
    }
    if (starttransfer > 0) {
      out.phases[idx(Phase::Processing)] = seconds(starttransfer - pretransfer);
    }
    if (code && *code == CURLE_OK)
      out.phases[idx(Phase::Transfer)] = seconds(total - starttransfer);
    out.total_seconds =
        code ? seconds(total)
             : std::chrono::duration<double>(loop_.clock().steadyNow() - started_at_).count();

    long status = 0;
    curl_easy_getinfo(easy, CURLINFO_RESPONSE_CODE, &status);
    const char* content_type = nullptr;
    if (curl_easy_getinfo(easy, CURLINFO_CONTENT_TYPE, &content_type) == CURLE_OK &&
        content_type != nullptr) {
      out.content_type = bounded(content_type);
    }
    out.status_code = status;
    long version = 0;
    curl_easy_getinfo(easy, CURLINFO_HTTP_VERSION, &version);
    switch (version) {
      case CURL_HTTP_VERSION_1_0:
        out.negotiated_version = 1.0;
        break;
      case CURL_HTTP_VERSION_1_1:
        out.negotiated_version = 1.1;
        break;
      case CURL_HTTP_VERSION_2_0:
        out.negotiated_version = 2;
        break;
      case CURL_HTTP_VERSION_3:
        out.negotiated_version = 3;
        break;
      default:
        out.negotiated_version = 0;
    }

    // curl sets CONNECT_TIME only once the whole connection (TLS included) is up; a bound local
    // port tells that the TCP handshake completed even when TLS then stalled.
    long local_port = 0;
    curl_easy_getinfo(easy, CURLINFO_LOCAL_PORT, &local_port);
    const bool tcp_connected = connect > 0 || local_port > 0;
    const std::string via = request_.proxy.empty()
                                ? std::string()
                                : " (through proxy " + redactProxyUrl(request_.proxy) + ")";
    if (!code) {
      out.reason = tcp_connected ? FailureReason::Timeout : FailureReason::ConnectTimeout;
      out.detail = "deadline exceeded" + via;
      return;
    }
    if (*code != CURLE_OK && !request_.proxy.empty() && proxyFailure(*code, out)) return;
    if (*code != CURLE_OK) {
      probe::CurlFailure failure;
      failure.code = *code;
      curl_easy_getinfo(easy, CURLINFO_OS_ERRNO, &failure.os_errno);
      curl_easy_getinfo(easy, CURLINFO_SSL_VERIFYRESULT, &failure.ssl_verify_result);
      failure.tcp_connected = tcp_connected;
      out.reason = probe::reasonFromCurl(failure);
      if (*code == CURLE_PEER_FAILED_VERIFICATION && failure.ssl_verify_result != 0) {
        out.detail = bounded(std::string(error_.data()) + " (X509 verify result " +
                             std::to_string(failure.ssl_verify_result) + ": " +
                             X509_verify_cert_error_string(failure.ssl_verify_result) + ")");
      } else if (body_too_large_) {
        out.detail = "body larger than " + std::to_string(request_.max_body_bytes) + " bytes";
      } else if (write_failed_) {
        out.detail = "cannot write the body to the spool file";
      } else {
        out.detail = bounded(error_[0] != '\0' ? std::string(error_.data())
                                               : std::string(curl_easy_strerror(*code)));
      }
      return;
    }
    if (status < 200 || status > 299) {
      out.reason = FailureReason::HttpStatus;
      out.detail = "HTTP " + std::to_string(status);
      return;
    }
    out.ok = true;
  }

  /// Failures of the proxy itself (before the tunnel was up): proxy_error with a detail naming
  /// the proxy (without credentials). False when the failure is the target's.
  bool proxyFailure(CURLcode code, FetchResponse& out) {
    CURL* easy = easy_.get();
    const std::string proxy = redactProxyUrl(request_.proxy);
    long connect_code = 0;
    curl_easy_getinfo(easy, CURLINFO_HTTP_CONNECTCODE, &connect_code);
    long os_errno = 0;
    curl_easy_getinfo(easy, CURLINFO_OS_ERRNO, &os_errno);
    const bool tunnel_up = connect_code >= 200 && connect_code <= 299;
    std::string detail;
    if (connect_code != 0 && !tunnel_up) {
      detail = "proxy " + proxy + " refused CONNECT: HTTP " + std::to_string(connect_code);
    } else if (code == CURLE_COULDNT_RESOLVE_PROXY) {
      detail = "cannot resolve proxy " + proxy;
    } else if (code == CURLE_COULDNT_CONNECT) {
      detail = std::string(os_errno == ECONNREFUSED ? "connect refused to proxy "
                                                    : "cannot connect to proxy ") +
               proxy + ": " + error_.data();
    } else if (code == CURLE_PROXY) {
      detail = "proxy " + proxy + " handshake failed: " + error_.data();
    } else if (!tunnel_up && connect_sent_ && !connect_answered_ &&
               probe::reasonFromCurl(probe::CurlFailure{code, os_errno, 0, true}) ==
                   FailureReason::HttpProtocol) {
      detail = "proxy " + proxy + " broke the CONNECT exchange: " + error_.data();
    } else if (!tunnel_up && !connect_sent_ && request_.proxy.rfind("https://", 0) == 0 &&
               isTlsReason(probe::reasonFromCurl(probe::CurlFailure{code, os_errno, 0, true}))) {
      // TLS with an https proxy failed before any CONNECT was sent.
      detail = "TLS with proxy " + proxy + " failed: " + error_.data();
    } else {
      return false;
    }
    out.reason = FailureReason::ProxyError;
    out.detail = bounded(scrubProxyCredentials(detail, request_.proxy));
    return true;
  }

  static bool isTlsReason(FailureReason reason) {
    return reason == FailureReason::TlsHandshake || reason == FailureReason::TlsCertExpired ||
           reason == FailureReason::TlsCertUntrusted ||
           reason == FailureReason::TlsHostnameMismatch;
  }

  void finish() {
    if (finished_) return;
    finished_ = true;
    if (!request_.proxy.empty()) {
      response_.detail = scrubProxyCredentials(std::move(response_.detail), request_.proxy);
    }
    auto done = std::move(done_);
    done(std::move(response_));
  }

  EventLoop& loop_;
  FetchRequest request_;
  Callback done_;
  FetchResponse response_;
  CurlEasy easy_;
  CurlSlist resolve_;
  CurlSlist headers_;
  X509StoreRef trust_store_;  // the loop's trust anchors for this request's TLS connections
  std::array<char, CURL_ERROR_SIZE> error_{};
  std::chrono::steady_clock::time_point started_at_ = loop_.clock().steadyNow();
  bool started_ = false;
  bool finished_ = false;
  bool tls_captured_ = false;
  bool body_too_large_ = false;
  bool write_failed_ = false;
  bool in_connect_ = false;  // between our CONNECT and the end of the proxy's answer
  std::optional<std::chrono::steady_clock::time_point> connect_sent_;
  std::optional<std::chrono::steady_clock::time_point> connect_answered_;
};

}  // namespace

std::shared_ptr<Fetch> startFetch(EventLoop& loop, FetchRequest request, Fetch::Callback done) {
  auto fetch = std::make_shared<FetchImpl>(loop, std::move(request), std::move(done));
  fetch->start();
  return fetch;
}

std::string resolvePin(const std::string& host, long port, const std::string& address) {
  const bool v6 = address.find(':') != std::string::npos;
  return host + ":" + std::to_string(port) + ":" + (v6 ? "[" + address + "]" : address);
}

std::optional<UrlParts> splitUrl(const std::string& url) {
  std::unique_ptr<CURLU, CurlUrlDeleter> handle(curl_url());
  if (!handle || curl_url_set(handle.get(), CURLUPART_URL, url.c_str(), 0) != CURLUE_OK) {
    return std::nullopt;
  }
  UrlParts parts;
  char* value = nullptr;
  if (curl_url_get(handle.get(), CURLUPART_HOST, &value, 0) != CURLUE_OK) return std::nullopt;
  parts.host = value;
  curl_free(value);
  if (parts.host.size() > 2 && parts.host.front() == '[') {
    parts.host = parts.host.substr(1, parts.host.size() - 2);
  }
  if (curl_url_get(handle.get(), CURLUPART_PORT, &value, CURLU_DEFAULT_PORT) != CURLUE_OK) {
    return std::nullopt;
  }
  parts.port = std::strtol(value, nullptr, 10);
  curl_free(value);
  if (curl_url_get(handle.get(), CURLUPART_SCHEME, &value, 0) != CURLUE_OK) return std::nullopt;
  parts.scheme = value;
  curl_free(value);
  return parts;
}

bool isIpLiteral(const std::string& host) {
  unsigned char buf[sizeof(in6_addr)];
  return inet_pton(AF_INET, host.c_str(), buf) == 1 || inet_pton(AF_INET6, host.c_str(), buf) == 1;
}

}  // namespace gomodprobe::net
