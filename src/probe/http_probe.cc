#include "probe/http_probe.h"

#include <arpa/inet.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>

#include <algorithm>
#include <memory>
#include <set>
#include <utility>

#include "net/dns_lookup.h"
#include "net/handles.h"
#include "probe/failure_mapping.h"

#ifndef GOMODPROBE_VERSION
#define GOMODPROBE_VERSION "dev"
#endif

namespace gomodprobe::probe {

namespace {

using SteadyTime = std::chrono::steady_clock::time_point;

constexpr std::size_t kMaxDetail = 200;
// curl's own timeout is only a backstop: the run's deadline timer ends attempts first.
constexpr long kCurlBackstopMs = 1000;

struct CurlUrlDeleter {
  void operator()(CURLU* url) const noexcept { curl_url_cleanup(url); }
};

struct UrlParts {
  std::string host;  // without brackets
  long port = 0;
  bool https = false;
};

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
  parts.https = std::string_view(value) == "https";
  curl_free(value);
  return parts;
}

bool isIpLiteral(const std::string& host) {
  unsigned char buf[sizeof(in6_addr)];
  return inet_pton(AF_INET, host.c_str(), buf) == 1 || inet_pton(AF_INET6, host.c_str(), buf) == 1;
}

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

class Run;

/// One HTTP attempt: the curl handle and what the callbacks collect.
struct Attempt {
  Run* run = nullptr;
  std::size_t index = 0;
  net::CurlEasy easy;
  net::CurlSlist resolve;
  net::CurlSlist headers;
  HttpAttempt result;
  bool started = false;
  bool finished = false;
  bool tls_captured = false;
  bool body_too_large = false;
  std::array<char, CURL_ERROR_SIZE> error{};
};

/// The state of one run, kept alive by the loop's callbacks (shared_ptr) until it has finished.
class Run : public std::enable_shared_from_this<Run> {
 public:
  Run(TargetConfig target, net::EventLoop& loop, ProbeCallback done)
      : target_(std::move(target)), loop_(loop), done_(std::move(done)) {}

  void start() {
    started_ = loop_.clock().steadyNow();
    result_.target = target_.name;
    result_.kind = target_.kind;
    result_.started_at = toUnixSeconds(loop_.clock().systemNow());
    deadline_timer_ = loop_.addTimer(started_ + target_.timeout,
                                     [self = shared_from_this()] { self->onDeadline(); });

    auto parts = splitUrl(target_.requestUrl());
    if (!parts) {
      fail(FailureReason::HttpProtocol, "invalid URL");
      return;
    }
    url_ = *parts;
    if (isIpLiteral(url_.host)) {
      address_ = url_.host;
      result_.address = address_;
      startAttempts();
      return;
    }
    result_.dns.resize(target_.resolvers.size());
    lookups_pending_ = target_.resolvers.size();
    for (std::size_t i = 0; i < target_.resolvers.size(); ++i) {
      result_.dns[i].resolver = target_.resolvers[i].label();
      std::weak_ptr<Run> weak = weak_from_this();
      net::lookup(loop_, target_.resolvers[i], url_.host, target_.ip_protocol,
                  [weak, i](DnsLookup lookup) {
                    if (auto self = weak.lock()) self->onLookup(i, std::move(lookup));
                  });
      if (finished_) return;
    }
  }

  // Called with the Attempt's raw pointer from curl's C callbacks.
  static std::size_t onHeader(char* /*data*/, std::size_t size, std::size_t count, void* user) {
    auto* attempt = static_cast<Attempt*>(user);
    if (!attempt->tls_captured) {
      attempt->tls_captured = true;
      const curl_tlssessioninfo* info = nullptr;
      if (curl_easy_getinfo(attempt->easy.get(), CURLINFO_TLS_SSL_PTR, &info) == CURLE_OK &&
          info != nullptr && info->backend == CURLSSLBACKEND_OPENSSL &&
          info->internals != nullptr) {
        attempt->result.tls = tlsInfoFrom(static_cast<SSL*>(info->internals));
      }
    }
    return size * count;
  }

  static std::size_t onBody(char* /*data*/, std::size_t size, std::size_t count, void* user) {
    auto* attempt = static_cast<Attempt*>(user);
    attempt->result.body_bytes += size * count;
    if (attempt->result.body_bytes > HttpProbe::kMaxBodyBytes) {
      attempt->body_too_large = true;
      return 0;  // aborts the transfer with CURLE_WRITE_ERROR
    }
    return size * count;
  }

 private:
  void onLookup(std::size_t index, DnsLookup lookup) {
    if (finished_) return;
    result_.dns[index] = std::move(lookup);
    --lookups_pending_;
    if (index == 0) {
      const DnsLookup& primary = result_.dns[0];
      if (primary.reason != FailureReason::None) {
        primary_failed_ = true;
      } else {
        address_ = pickAddress(primary);
        result_.address = address_;
        startAttempts();
        if (finished_) return;
      }
    }
    maybeFinish();
  }

  std::string pickAddress(const DnsLookup& lookup) const {
    if (target_.ip_protocol == IpProtocol::Ip6) return lookup.ipv6.front();
    if (target_.ip_protocol == IpProtocol::Ip4) return lookup.ipv4.front();
    return lookup.ipv4.empty() ? lookup.ipv6.front() : lookup.ipv4.front();
  }

  void startAttempts() {
    attempts_.reserve(target_.http_versions.size());
    for (std::size_t i = 0; i < target_.http_versions.size(); ++i) {
      attempts_.push_back(std::make_unique<Attempt>());
      Attempt& attempt = *attempts_.back();
      attempt.run = this;
      attempt.index = i;
      attempt.result.requested = target_.http_versions[i];
      if (!result_.dns.empty()) attempt.result.phases[0] = result_.dns[0].duration_seconds;
    }
    for (auto& attempt : attempts_) {
      if (!configure(*attempt)) {
        attempt->finished = true;
        continue;
      }
      std::weak_ptr<Run> weak = weak_from_this();
      Attempt* raw = attempt.get();
      if (!loop_.addTransfer(raw->easy.get(), [weak, raw](CURLcode code) {
            if (auto self = weak.lock()) self->onTransferDone(*raw, code);
          })) {
        raw->finished = true;
        raw->result.reason = FailureReason::HttpProtocol;
        raw->result.detail = "curl refused the transfer";
        continue;
      }
      attempt->started = true;
    }
    maybeFinish();
  }

  bool configure(Attempt& attempt) {
    attempt.easy.reset(curl_easy_init());
    CURL* easy = attempt.easy.get();
    if (easy == nullptr) {
      attempt.result.reason = FailureReason::HttpProtocol;
      attempt.result.detail = "curl_easy_init failed";
      return false;
    }
    const std::string url = target_.requestUrl();
    const bool v6 = address_.find(':') != std::string::npos;
    const std::string pin =
        url_.host + ":" + std::to_string(url_.port) + ":" + (v6 ? "[" + address_ + "]" : address_);
    if (!isIpLiteral(url_.host) && !net::appendSlist(attempt.resolve, pin.c_str())) return false;
    for (const auto& [name, value] : target_.headers) {
      std::string line = name;
      line.append(": ").append(value);
      if (!net::appendSlist(attempt.headers, line.c_str())) return false;
    }
    const auto remaining = std::chrono::duration_cast<std::chrono::milliseconds>(
        started_ + target_.timeout - loop_.clock().steadyNow());
    const long timeout_ms =
        std::max<long>(1, static_cast<long>(remaining.count())) + kCurlBackstopMs;

    curl_easy_setopt(easy, CURLOPT_URL, url.c_str());
    curl_easy_setopt(easy, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(easy, CURLOPT_NOSIGNAL, 1L);
    // No proxy unless configured: curl would otherwise pick up HTTPS_PROXY from the environment
    // and the phases would describe the proxy, not the target.
    curl_easy_setopt(easy, CURLOPT_PROXY, "");
    curl_easy_setopt(easy, CURLOPT_ERRORBUFFER, attempt.error.data());
    curl_easy_setopt(easy, CURLOPT_PRIVATE, &attempt);
    if (attempt.resolve) curl_easy_setopt(easy, CURLOPT_RESOLVE, attempt.resolve.get());
    if (attempt.headers) curl_easy_setopt(easy, CURLOPT_HTTPHEADER, attempt.headers.get());
    curl_easy_setopt(easy, CURLOPT_USERAGENT, "gomodprobe/" GOMODPROBE_VERSION);
    curl_easy_setopt(easy, CURLOPT_HTTP_VERSION,
                     attempt.result.requested == HttpVersion::Http2 ? CURL_HTTP_VERSION_2TLS
                                                                    : CURL_HTTP_VERSION_1_1);
    curl_easy_setopt(easy, CURLOPT_FRESH_CONNECT, 1L);
    curl_easy_setopt(easy, CURLOPT_FORBID_REUSE, 1L);
    curl_easy_setopt(easy, CURLOPT_SSL_SESSIONID_CACHE, 0L);
    curl_easy_setopt(easy, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt(easy, CURLOPT_TIMEOUT_MS, timeout_ms);
    curl_easy_setopt(easy, CURLOPT_CONNECTTIMEOUT_MS, timeout_ms);
    curl_easy_setopt(easy, CURLOPT_IPRESOLVE,
                     target_.ip_protocol == IpProtocol::Ip4   ? CURL_IPRESOLVE_V4
                     : target_.ip_protocol == IpProtocol::Ip6 ? CURL_IPRESOLVE_V6
                                                              : CURL_IPRESOLVE_WHATEVER);
    if (!target_.ca_file.empty()) {
      // Extra trust anchors on top of the system store.
      curl_easy_setopt(easy, CURLOPT_CAINFO, target_.ca_file.c_str());
      curl_easy_setopt(easy, CURLOPT_CAPATH, "/etc/ssl/certs");
    }
    curl_easy_setopt(easy, CURLOPT_HEADERFUNCTION, &Run::onHeader);
    curl_easy_setopt(easy, CURLOPT_HEADERDATA, &attempt);
    curl_easy_setopt(easy, CURLOPT_WRITEFUNCTION, &Run::onBody);
    curl_easy_setopt(easy, CURLOPT_WRITEDATA, &attempt);
    return true;
  }

  /// Reads phases, status and version from curl; `code` is the transfer's result, or nullopt when
  /// the run's deadline cut it short.
  void collect(Attempt& attempt, std::optional<CURLcode> code) {
    CURL* easy = attempt.easy.get();
    HttpAttempt& out = attempt.result;
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
    if (connect > 0) out.phases[1] = seconds(connect - lookup);
    if (url_.https && appconnect > 0) out.phases[2] = seconds(appconnect - connect);
    if (starttransfer > 0) out.phases[3] = seconds(starttransfer - pretransfer);
    if (code && *code == CURLE_OK) out.phases[4] = seconds(total - starttransfer);

    long status = 0;
    curl_easy_getinfo(easy, CURLINFO_RESPONSE_CODE, &status);
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
    if (!code) {
      out.reason = tcp_connected ? FailureReason::Timeout : FailureReason::ConnectTimeout;
      out.detail = "deadline of " + std::to_string(target_.timeout.count()) + "ms exceeded";
      return;
    }
    if (*code != CURLE_OK) {
      CurlFailure failure;
      failure.code = *code;
      curl_easy_getinfo(easy, CURLINFO_OS_ERRNO, &failure.os_errno);
      curl_easy_getinfo(easy, CURLINFO_SSL_VERIFYRESULT, &failure.ssl_verify_result);
      failure.tcp_connected = tcp_connected;
      out.reason = reasonFromCurl(failure);
      if (*code == CURLE_PEER_FAILED_VERIFICATION && failure.ssl_verify_result != 0) {
        out.detail = bounded(std::string(attempt.error.data()) + " (X509 verify result " +
                             std::to_string(failure.ssl_verify_result) + ": " +
                             X509_verify_cert_error_string(failure.ssl_verify_result) + ")");
        return;
      }
      out.detail = attempt.body_too_large
                       ? "body larger than " + std::to_string(HttpProbe::kMaxBodyBytes) + " bytes"
                       : bounded(attempt.error[0] != '\0' ? std::string(attempt.error.data())
                                                          : curl_easy_strerror(*code));
      return;
    }
    if (status < 200 || status > 299) {
      out.reason = FailureReason::HttpStatus;
      out.detail = "HTTP " + std::to_string(status);
      return;
    }
    out.success = true;
  }

  void onTransferDone(Attempt& attempt, CURLcode code) {
    if (finished_ || attempt.finished) return;
    collect(attempt, code);
    attempt.finished = true;
    maybeFinish();
  }

  void onDeadline() {
    deadline_timer_ = 0;
    if (finished_) return;
    for (std::size_t i = 0; i < result_.dns.size(); ++i) {
      DnsLookup& lookup = result_.dns[i];
      if (lookup.reason == FailureReason::None && lookup.ipv4.empty() && lookup.ipv6.empty()) {
        lookup.reason = FailureReason::DnsTimeout;
        lookup.detail = "no answer before the deadline";
        lookup.duration_seconds = std::chrono::duration<double>(target_.timeout).count();
        if (i == 0 && address_.empty()) primary_failed_ = true;
      }
    }
    lookups_pending_ = 0;
    for (auto& attempt : attempts_) {
      if (attempt->finished || !attempt->started) continue;
      collect(*attempt, std::nullopt);  // before removal: curl still has the progress times
      loop_.removeTransfer(attempt->easy.get());
      attempt->finished = true;
    }
    maybeFinish();
  }

  void fail(FailureReason reason, std::string detail) {
    result_.reason = reason;
    result_.detail = std::move(detail);
    finish();
  }

  void maybeFinish() {
    if (finished_ || lookups_pending_ > 0) return;
    if (!primary_failed_ && address_.empty()) return;  // attempts not started yet
    for (const auto& attempt : attempts_) {
      if (!attempt->finished) return;
    }
    if (primary_failed_) {
      result_.reason = result_.dns[0].reason;
      result_.detail = "resolver " + result_.dns[0].resolver + ": " + result_.dns[0].detail;
    } else {
      for (const auto& attempt : attempts_) {
        if (!attempt->result.success) {
          result_.reason = attempt->result.reason;
          result_.detail = std::string("HTTP/") + toString(attempt->result.requested) + ": " +
                           attempt->result.detail;
          break;
        }
      }
    }
    finish();
  }

  void finish() {
    if (finished_) return;
    finished_ = true;
    if (deadline_timer_ != 0) loop_.cancelTimer(deadline_timer_);
    for (auto& attempt : attempts_) {
      if (attempt->started && !attempt->finished) loop_.removeTransfer(attempt->easy.get());
      result_.http.push_back(std::move(attempt->result));
    }
    if (result_.dns.size() >= 2) {
      std::set<std::string> first;
      bool agree = true;
      for (std::size_t i = 0; i < result_.dns.size(); ++i) {
        std::set<std::string> set(result_.dns[i].ipv4.begin(), result_.dns[i].ipv4.end());
        set.insert(result_.dns[i].ipv6.begin(), result_.dns[i].ipv6.end());
        if (i == 0) {
          first = std::move(set);
        } else if (set != first) {
          agree = false;
        }
      }
      result_.resolvers_agree = agree;
    }
    result_.success = result_.reason == FailureReason::None && !result_.http.empty() &&
                      std::all_of(result_.http.begin(), result_.http.end(),
                                  [](const HttpAttempt& a) { return a.success; });
    result_.duration_seconds =
        std::chrono::duration<double>(loop_.clock().steadyNow() - started_).count();
    // Keep ourselves alive until the callback returned, then let go of the curl handles.
    auto keep = shared_from_this();
    auto done = std::move(done_);
    done(std::move(result_));
    attempts_.clear();
  }

  const TargetConfig target_;
  net::EventLoop& loop_;
  ProbeCallback done_;
  ProbeResult result_;
  SteadyTime started_;
  UrlParts url_;
  std::string address_;
  std::size_t lookups_pending_ = 0;
  bool primary_failed_ = false;
  bool finished_ = false;
  net::EventLoop::TimerId deadline_timer_ = 0;
  std::vector<std::unique_ptr<Attempt>> attempts_;
};

}  // namespace

HttpProbe::HttpProbe(TargetConfig target, net::EventLoop& loop)
    : target_(std::move(target)), loop_(loop) {}

void HttpProbe::run(ProbeCallback done) {
  // The run holds its own copy of the target so the probe object may go away meanwhile.
  std::make_shared<Run>(target_, loop_, std::move(done))->start();
}

}  // namespace gomodprobe::probe
