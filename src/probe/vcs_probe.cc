#include "probe/vcs_probe.h"

#include <charconv>
#include <system_error>
#include <utility>

#include "net/dns_lookup.h"
#include "net/tcp_exchange.h"
#include "probe/probe_run.h"
#include "vcs/git_smart_http.h"
#include "vcs/ssh_identification.h"

#ifndef GOMODPROBE_VERSION
#define GOMODPROBE_VERSION "dev"
#endif

namespace gomodprobe::probe {

namespace {

constexpr const char* kSshIdentification = "SSH-2.0-gomodprobe_" GOMODPROBE_VERSION "\r\n";

std::string authDetail(long status, const char* where, bool with_credentials) {
  return "HTTP " + std::to_string(status) + " at " + where + ": credentials " +
         (with_credentials ? "refused" : "missing");
}

// Bound of exported strings that come from the server (label values).
constexpr std::size_t kMaxLabel = 200;

// The repo root as exported: user info ("user:token@") removed, so that a secret embedded in a
// go-import tag never reaches metrics or reports; printable and bounded.
std::string withoutUserInfo(const std::string& url) {
  std::string out = url;
  const auto scheme = out.find("://");
  if (scheme != std::string::npos) {
    const auto authority_end = out.find_first_of("/?#", scheme + 3);
    const auto at = out.rfind('@', authority_end == std::string::npos ? out.size() : authority_end);
    if (at != std::string::npos && at > scheme) out.erase(scheme + 3, at - scheme - 2);
  }
  return vcs::printable(out, kMaxLabel);
}

bool transportFailed(const net::FetchResponse& response) {
  return response.reason != FailureReason::None && response.reason != FailureReason::HttpStatus;
}

// "host:port" (host may be "[v6]"); port 0 when malformed (the config loader refuses those, a
// programmatic TargetConfig may not).
std::pair<std::string, std::uint16_t> splitHostPort(const std::string& text) {
  const auto colon = text.rfind(':');
  if (colon == std::string::npos) return {text, 0};
  std::string host = text.substr(0, colon);
  if (host.size() > 2 && host.front() == '[') host = host.substr(1, host.size() - 2);
  unsigned port = 0;
  const char* first = text.data() + colon + 1;
  const char* last = text.data() + text.size();
  const auto [end, ec] = std::from_chars(first, last, port);
  if (ec != std::errc{} || end != last || port > 65535) port = 0;
  return {host, static_cast<std::uint16_t>(port)};
}

class VcsRun final : public ProbeRun {
 public:
  VcsRun(TargetConfig target, net::EventLoop& loop, ProbeCallback done)
      : ProbeRun(std::move(target), loop, std::move(done)) {
    VcsCheck check;
    check.module = this->target().module;
    result().vcs = std::move(check);
  }

 protected:
  [[nodiscard]] bool followBaseRedirects() const override { return true; }

  void onBaseResponse(std::size_t index, const net::FetchResponse& response,
                      HttpAttempt& attempt) override {
    VcsVerdict verdict = judgeDiscovery(response, target().module, withCredentials());
    attempt.success = verdict.reason == FailureReason::None;
    attempt.reason = verdict.reason;
    attempt.detail = verdict.detail;
    if (index != 0) return;
    VcsCheck& check = *result().vcs;
    VcsStepResult step;
    step.step = VcsStep::Discovery;
    step.success = attempt.success;
    step.reason = verdict.reason;
    step.detail = verdict.detail;
    step.duration_seconds = response.total_seconds;
    step.status_code = response.status_code;
    check.steps.push_back(std::move(step));
    if (verdict.match) {
      check.prefix = vcs::printable(verdict.match->prefix, kMaxLabel);
      check.vcs = vcs::printable(verdict.match->vcs, kMaxLabel);
      check.repo = withoutUserInfo(verdict.match->repo_root);
      repo_url_ = verdict.match->repo_root;
    }
  }

  void afterAttempts() override {
    const VcsCheck& check = *result().vcs;
    const auto parts = net::splitUrl(repo_url_);
    if (check.vcs == "git" && parts && (parts->scheme == "https" || parts->scheme == "http")) {
      startInfoRefs();
      return;
    }
    startSsh();
  }

  void onDeadlineReached() override {
    if (auto ssh = ssh_) ssh->abort();  // records its step and reason synchronously
  }

 private:
  [[nodiscard]] bool withCredentials() const {
    return !target().netrc_file.empty() || !target().bearer_token_file.empty() ||
           !target().basic_auth.username.empty();
  }

  void startInfoRefs() {
    net::FetchRequest request = requestFor(repo_url_ + "/info/refs?service=git-upload-pack");
    request.follow_redirects = true;
    request.headers["Git-Protocol"] = "version=2";
    std::weak_ptr<ProbeRun> weak = weak_from_this();
    fetch(std::move(request), [this, weak](const net::FetchResponse& response) {
      auto self = weak.lock();
      if (!self) return;
      VcsVerdict verdict = judgeInfoRefs(response, withCredentials());
      VcsStepResult step;
      step.step = VcsStep::InfoRefs;
      step.success = verdict.reason == FailureReason::None;
      step.reason = verdict.reason;
      step.detail = verdict.detail;
      step.duration_seconds = response.total_seconds;
      step.status_code = response.status_code;
      result().vcs->protocol = verdict.protocol;
      result().vcs->steps.push_back(step);
      if (!step.success) fail(step.reason, "info/refs: " + step.detail);
      startSsh();
    });
  }

  void startSsh() {
    if (target().ssh.empty() || expired()) {
      finish();
      return;
    }
    auto [host, port] = splitHostPort(target().ssh);
    ssh_port_ = port;
    if (port == 0 || host.empty()) {
      sshFailed(FailureReason::ConnectError, "invalid address (expected host:port)", 0);
      return;
    }
    if (net::isIpLiteral(host)) {
      connectSsh(host);
      return;
    }
    std::weak_ptr<ProbeRun> weak = weak_from_this();
    net::lookup(loop(), target().resolvers.front(), host, target().ip_protocol,
                [this, weak](DnsLookup lookup) {
                  auto self = weak.lock();
                  if (!self || finished()) return;
                  if (lookup.reason != FailureReason::None) {
                    sshFailed(lookup.reason, "resolver " + lookup.resolver + ": " + lookup.detail,
                              lookup.duration_seconds);
                    return;
                  }
                  const bool v4 = target().ip_protocol != IpProtocol::Ip6 && !lookup.ipv4.empty();
                  connectSsh(v4 ? lookup.ipv4.front() : lookup.ipv6.front());
                });
  }

  void connectSsh(const std::string& address) {
    if (finished()) return;
    net::TcpExchangeRequest request;
    request.address = address;
    request.port = ssh_port_;
    request.greeting = kSshIdentification;
    request.complete = [](std::string_view received, bool eof) {
      return vcs::scanSshIdentification(received, eof).status !=
             vcs::SshIdentification::Status::NeedMore;
    };
    request.max_bytes = vcs::kSshMaxPreBytes + vcs::kSshMaxIdentification + 1;
    request.deadline = loop().clock().steadyNow() + target().timeout;  // the run's deadline rules
    std::weak_ptr<ProbeRun> weak = weak_from_this();
    ssh_ = net::startTcpExchange(loop(), std::move(request),
                                 [this, weak](const net::TcpExchangeResult& exchange) {
                                   auto self = weak.lock();
                                   if (!self) return;
                                   onSsh(exchange);
                                 });
  }

  void onSsh(const net::TcpExchangeResult& exchange) {
    ssh_.reset();
    if (finished()) return;
    if (exchange.reason != FailureReason::None) {
      std::string detail = exchange.detail;
      if (exchange.connected && !exchange.received.empty()) {
        detail += " (got \"" + vcs::printable(exchange.received) + "\")";
      }
      sshFailed(exchange.reason, detail, exchange.total_seconds);
      return;
    }
    const auto scan = vcs::scanSshIdentification(exchange.received, true);
    VcsStepResult step;
    step.step = VcsStep::SshBanner;
    step.duration_seconds = exchange.total_seconds;
    if (scan.status == vcs::SshIdentification::Status::Found) {
      step.success = true;
      result().vcs->ssh_identification = scan.line;
      step.detail = std::to_string(scan.pre_lines) + " line(s) before it";
      result().vcs->steps.push_back(std::move(step));
      finish();
      return;
    }
    sshFailed(FailureReason::SshBanner, scan.error, exchange.total_seconds);
  }

  void sshFailed(FailureReason reason, std::string detail, double seconds) {
    VcsStepResult step;
    step.step = VcsStep::SshBanner;
    step.reason = reason;
    step.detail = std::move(detail);
    step.duration_seconds = seconds;
    fail(reason, "ssh " + target().ssh + ": " + step.detail);
    result().vcs->steps.push_back(std::move(step));
    finish();
  }

  std::string repo_url_;  // as discovered (the exported one has no user info)
  std::uint16_t ssh_port_ = 0;
  std::shared_ptr<net::TcpExchange> ssh_;
};

}  // namespace

VcsVerdict judgeDiscovery(const net::FetchResponse& response, const std::string& module,
                          bool with_credentials) {
  VcsVerdict out;
  if (transportFailed(response)) {
    out.reason = response.reason;
    out.detail = response.detail;
    return out;
  }
  const auto parsed = vcs::parseMetaGoImports(response.body, vcs::ModuleMode::PreferMod);
  const bool status_ok = response.status_code >= 200 && response.status_code <= 299;
  if (parsed.imports.empty() && !status_ok) {
    if (response.status_code == 401 || response.status_code == 403) {
      out.reason = FailureReason::VcsAuth;
      out.detail = authDetail(response.status_code, "go-import discovery", with_credentials);
    } else {
      out.reason = FailureReason::HttpStatus;
      out.detail = "HTTP " + std::to_string(response.status_code) + " at go-import discovery";
    }
    return out;
  }
  if (!parsed.error.empty()) {
    out.reason = FailureReason::VcsProtocol;
    out.detail = "parsing " + module + ": " + vcs::printable(parsed.error, 160);
    return out;
  }
  const auto match = vcs::matchGoImport(parsed.imports, module);
  if (!match.match) {
    out.reason = FailureReason::VcsProtocol;
    out.detail = vcs::printable(match.error, 160);
    return out;
  }
  if (const std::string problem = vcs::checkMetaImport(*match.match); !problem.empty()) {
    out.reason = FailureReason::VcsProtocol;
    out.detail = vcs::printable(problem, 160);
    return out;
  }
  out.match = match.match;
  out.detail = match.match->vcs + " " + vcs::printable(match.match->repo_root, 160);
  if (!status_ok) {
    out.detail += " (HTTP " + std::to_string(response.status_code) +
                  ", accepted for its go-import tag as the go command does)";
  }
  return out;
}

VcsVerdict judgeInfoRefs(const net::FetchResponse& response, bool with_credentials) {
  VcsVerdict out;
  if (transportFailed(response)) {
    out.reason = response.reason;
    out.detail = response.detail;
    return out;
  }
  const long status = response.status_code;
  if (status == 401 || status == 403) {
    out.reason = FailureReason::VcsAuth;
    out.detail = authDetail(status, "info/refs", with_credentials);
    return out;
  }
  if (status < 200 || status > 299) {
    out.reason = FailureReason::HttpStatus;
    out.detail = "HTTP " + std::to_string(status) + (status == 404 ? " (no such repository)" : "");
    return out;
  }
  if (!vcs::isUploadPackAdvertisementType(response.content_type)) {
    // git then speaks the dumb protocol; the go command's shallow fetch fails on it, and it falls
    // back to fetching every ref in full, which works (tested against `go mod download`).
    const auto dumb = vcs::parseDumbInfoRefs(response.body);
    out.protocol = "dumb";
    if (!dumb.valid) {
      out.reason = FailureReason::VcsProtocol;
      out.detail = "neither smart (Content-Type \"" + vcs::printable(response.content_type) +
                   "\") nor a dumb ref list: " + dumb.error;
      return out;
    }
    out.detail = "dumb HTTP server (Content-Type \"" + vcs::printable(response.content_type) +
                 "\"), " + std::to_string(dumb.refs) +
                 " ref(s): works, but git downloads the whole history (no shallow fetch)";
    return out;
  }
  const auto advertisement = vcs::parseUploadPackAdvertisement(response.body);
  if (!advertisement.valid) {
    out.reason = FailureReason::VcsProtocol;
    out.detail = "malformed advertisement: " + advertisement.error;
    return out;
  }
  out.protocol = advertisement.protocol;
  out.detail =
      advertisement.protocol + (advertisement.protocol == "smart-v2"
                                    ? std::string()
                                    : ", " + std::to_string(advertisement.refs) + " ref(s)");
  return out;
}

VcsProbe::VcsProbe(TargetConfig target, net::EventLoop& loop)
    : target_(std::move(target)), loop_(loop) {}

void VcsProbe::run(ProbeCallback done) {
  std::make_shared<VcsRun>(target_, loop_, std::move(done))->start();
}

}  // namespace gomodprobe::probe
