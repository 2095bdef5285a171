#include "probe/probe_run.h"

#include <fmt/format.h>

#include <algorithm>
#include <set>
#include <utility>

#include "config/secret_file.h"
#include "net/dns_lookup.h"
#include "net/proxy.h"

namespace gomodprobe::probe {

namespace {

HttpAttempt toAttempt(HttpVersion requested, const net::FetchResponse& response) {
  HttpAttempt attempt;
  attempt.requested = requested;
  attempt.success = response.ok;
  attempt.reason = response.reason;
  attempt.detail = response.detail;
  attempt.status_code = response.status_code;
  attempt.negotiated_version = response.negotiated_version;
  attempt.phases = response.phases;
  attempt.tls = response.tls;
  attempt.body_bytes = response.body_bytes;
  return attempt;
}

}  // namespace

ProbeRun::ProbeRun(TargetConfig target, net::EventLoop& loop, ProbeCallback done)
    : RunFrame(std::move(target), loop, std::move(done)) {}

void ProbeRun::start() {
  beginRun([self = shared_from_this()] { self->onDeadline(); });
  // Credentials are read at every run, so that a rotated token is picked up without a reload.
  std::string error;
  if (!target().netrc_file.empty()) {
    if (!config::checkReadable(target().netrc_file, &error)) {
      fail(FailureReason::VcsAuth, "netrc_file: " + error);
      finish();
      return;
    }
    auth_.netrc_file = target().netrc_file;
  } else if (!target().bearer_token_file.empty()) {
    auto token = config::readSecretFile(target().bearer_token_file, &error);
    if (!token) {
      fail(FailureReason::VcsAuth, "bearer_token_file: " + error);
      finish();
      return;
    }
    auth_.bearer_token = std::move(*token);
  } else if (!target().basic_auth.username.empty()) {
    auto password = config::readSecretFile(target().basic_auth.password_file, &error);
    if (!password) {
      fail(FailureReason::VcsAuth, "basic_auth password_file: " + error);
      finish();
      return;
    }
    auth_.username = target().basic_auth.username;
    auth_.password = std::move(*password);
  }

  std::weak_ptr<ProbeRun> weak = weak_from_this();
  prepare([weak](std::string request_url) {
    auto self = weak.lock();
    if (self && !self->finished()) self->begin(std::move(request_url));
  });
}

// By value: overrides keep `proceed` past the call (SumdbRun does).
// NOLINTNEXTLINE(performance-unnecessary-value-param)
void ProbeRun::prepare(std::function<void(std::string request_url)> proceed) {
  proceed(target().requestUrl());
}

void ProbeRun::begin(std::string request_url) {
  request_url_ = std::move(request_url);
  auto parts = net::splitUrl(request_url_);
  if (!parts) {
    fail(FailureReason::HttpProtocol, "invalid URL " + request_url_);
    finish();
    return;
  }
  url_ = *parts;
  // Through an HTTP(S) proxy the proxy resolves the target's name: no lookup of our own.
  if (const std::string proxy = net::proxyFor(target(), target().requestUrl()); !proxy.empty()) {
    result().proxy = net::redactProxyUrl(proxy);
    startAttempts();
    return;
  }
  if (net::isIpLiteral(url_.host)) {
    address_ = url_.host;
    result().address = address_;
    startAttempts();
    return;
  }
  result().dns.resize(target().resolvers.size());
  lookups_pending_ = target().resolvers.size();
  for (std::size_t i = 0; i < target().resolvers.size(); ++i) {
    result().dns[i].resolver = target().resolvers[i].label();
    std::weak_ptr<ProbeRun> weak = weak_from_this();
    net::lookup(loop(), target().resolvers[i], url_.host, target().ip_protocol,
                [weak, i](DnsLookup lookup) {
                  if (auto self = weak.lock()) self->onLookup(i, std::move(lookup));
                });
    if (finished()) return;
  }
}

void ProbeRun::onLookup(std::size_t index, DnsLookup lookup) {
  if (finished() || lookups_pending_ == 0) return;
  result().dns[index] = std::move(lookup);
  --lookups_pending_;
  if (index == 0) {
    if (result().dns[0].reason != FailureReason::None) {
      primary_failed_ = true;
    } else {
      address_ = pickAddress(result().dns[0]);
      result().address = address_;
      startAttempts();
      if (finished()) return;
    }
  }
  if (primary_failed_ && lookups_pending_ == 0) {
    finish();
    return;
  }
  maybeAfterAttempts();
}

std::string ProbeRun::pickAddress(const DnsLookup& lookup) const {
  if (target().ip_protocol == IpProtocol::Ip6) return lookup.ipv6.front();
  if (target().ip_protocol == IpProtocol::Ip4) return lookup.ipv4.front();
  return lookup.ipv4.empty() ? lookup.ipv6.front() : lookup.ipv4.front();
}

net::FetchRequest ProbeRun::requestFor(const std::string& url) const {
  net::FetchRequest request = targetRequest(url);
  request.auth = auth_;
  return request;
}

void ProbeRun::fetch(net::FetchRequest request, net::Fetch::Callback done) {
  if (finished()) return;
  if (request.proxy.empty()) request.proxy = net::proxyFor(target(), request.url);
  if (request.pin.empty() && request.proxy.empty() && !address_.empty() &&
      !net::isIpLiteral(url_.host)) {
    if (auto parts = net::splitUrl(request.url); parts && parts->host == url_.host) {
      request.pin = net::resolvePin(url_.host, parts->port, address_);
    }
  }
  std::weak_ptr<ProbeRun> weak = weak_from_this();
  auto handle = net::startFetch(loop(), std::move(request),
                                [weak, done = std::move(done)](net::FetchResponse response) {
                                  auto self = weak.lock();
                                  if (!self || self->finished()) return;
                                  done(std::move(response));
                                });
  fetches_.erase(std::remove_if(fetches_.begin(), fetches_.end(),
                                [](const std::weak_ptr<net::Fetch>& f) { return f.expired(); }),
                 fetches_.end());
  fetches_.push_back(handle);
}

void ProbeRun::startAttempts() {
  attempts_started_ = true;
  result().http.clear();
  for (const HttpVersion version : target().http_versions) {
    HttpAttempt pending;
    pending.requested = version;
    result().http.push_back(pending);
  }
  attempts_pending_ = target().http_versions.size();
  for (std::size_t i = 0; i < target().http_versions.size(); ++i) {
    net::FetchRequest request = requestFor(request_url_);
    request.version = target().http_versions[i];
    request.follow_redirects = followBaseRedirects();
    std::weak_ptr<ProbeRun> weak = weak_from_this();
    fetch(std::move(request), [weak, i](const net::FetchResponse& response) {
      if (auto self = weak.lock()) self->onAttempt(i, response);
    });
  }
  maybeAfterAttempts();
}

void ProbeRun::onAttempt(std::size_t index, const net::FetchResponse& response) {
  HttpAttempt attempt = toAttempt(target().http_versions[index], response);
  onBaseResponse(index, response, attempt);
  if (attempt.success && target().require_http2 && attempt.requested == HttpVersion::Http2 &&
      attempt.negotiated_version != 2) {
    attempt.success = false;
    attempt.reason = FailureReason::HttpVersionMismatch;
    // negotiated_version is 1.0, 1.1 or 3 here ({} prints 1.0 as "1").
    attempt.detail = fmt::format("HTTP/2 required (require_http2), the server spoke HTTP/{}",
                                 attempt.negotiated_version);
  }
  if (!result().dns.empty()) attempt.phases[0] = result().dns[0].duration_seconds;
  result().http[index] = std::move(attempt);
  --attempts_pending_;
  maybeAfterAttempts();
}

void ProbeRun::maybeAfterAttempts() {
  if (finished() || after_called_ || lookups_pending_ > 0 || !attempts_started_ ||
      attempts_pending_ > 0) {
    return;
  }
  after_called_ = true;
  const bool all_ok = std::all_of(result().http.begin(), result().http.end(),
                                  [](const HttpAttempt& a) { return a.success; });
  if (!all_ok || loop().clock().steadyNow() >= deadline()) {
    finish();
    return;
  }
  afterAttempts();
}

void ProbeRun::onDeadline() {
  for (std::size_t i = 0; i < result().dns.size(); ++i) {
    DnsLookup& lookup = result().dns[i];
    if (lookup.reason == FailureReason::None && lookup.ipv4.empty() && lookup.ipv6.empty()) {
      lookup.reason = FailureReason::DnsTimeout;
      lookup.detail = "no answer before the deadline";
      lookup.duration_seconds = std::chrono::duration<double>(target().timeout).count();
      if (i == 0 && address_.empty()) primary_failed_ = true;
    }
  }
  lookups_pending_ = 0;
  onDeadlineReached();
  if (finished()) return;
  // Aborting calls the callbacks synchronously; a step callback may record its failure.
  auto fetches = fetches_;
  for (auto& weak : fetches) {
    if (auto fetch = weak.lock()) fetch->abort();
  }
  if (!finished()) {
    if (result().reason == FailureReason::None && after_called_) {
      fail(FailureReason::Timeout,
           "deadline of " + std::to_string(target().timeout.count()) + "ms exceeded");
    }
    finish();
  }
}

void ProbeRun::fail(FailureReason reason, std::string detail) {
  if (result().reason != FailureReason::None) return;
  result().reason = reason;
  result().detail = std::move(detail);
}

void ProbeRun::finish() {
  if (!endRun()) return;
  if (primary_failed_) {
    result().reason = result().dns[0].reason;
    result().detail = "resolver " + result().dns[0].resolver + ": " + result().dns[0].detail;
    result().http.clear();
  } else {
    // An attempt's failure comes before any later step's.
    for (const auto& attempt : result().http) {
      if (!attempt.success) {
        result().reason = attempt.reason;
        result().detail =
            std::string("HTTP/") + toString(attempt.requested) + ": " + attempt.detail;
        break;
      }
    }
  }
  if (result().dns.size() >= 2) {
    std::set<std::string> first;
    bool agree = true;
    for (std::size_t i = 0; i < result().dns.size(); ++i) {
      std::set<std::string> set(result().dns[i].ipv4.begin(), result().dns[i].ipv4.end());
      set.insert(result().dns[i].ipv6.begin(), result().dns[i].ipv6.end());
      if (i == 0) {
        first = std::move(set);
      } else if (set != first) {
        agree = false;
      }
    }
    result().resolvers_agree = agree;
  }
  result().success = result().reason == FailureReason::None && !result().http.empty() &&
                     std::all_of(result().http.begin(), result().http.end(),
                                 [](const HttpAttempt& a) { return a.success; });
  auto keep = shared_from_this();
  deliver();
}

}  // namespace gomodprobe::probe
