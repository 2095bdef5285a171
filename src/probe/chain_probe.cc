#include "probe/chain_probe.h"

#include <memory>
#include <utility>

#include "goproxy/goproxy_list.h"
#include "goproxy/module_path.h"
#include "goproxy/private_lint.h"
#include "net/http_fetch.h"
#include "net/proxy.h"

namespace gomodprobe::probe {

namespace {

class ChainRun : public std::enable_shared_from_this<ChainRun> {
 public:
  ChainRun(TargetConfig target, net::EventLoop& loop, ProbeCallback done)
      : target_(std::move(target)), loop_(loop), done_(std::move(done)) {}

  void start() {
    started_ = loop_.clock().steadyNow();
    deadline_ = started_ + target_.timeout;
    result_.target = target_.name;
    result_.kind = target_.kind;
    result_.started_at = toUnixSeconds(loop_.clock().systemNow());
    timer_ = loop_.addTimer(deadline_, [self = shared_from_this()] { self->onDeadline(); });
    lint();
    const auto parsed = goproxy::parseGoProxy(target_.goproxy);
    if (!parsed.ok()) {
      result_.reason = FailureReason::Protocol;
      result_.detail = "GOPROXY: " + parsed.error;
      finish();
      return;
    }
    entries_ = parsed.entries;
    nextModule(0);
  }

 private:
  void lint() {
    const auto env = [this](const char* name) {
      const auto it = target_.go_env.find(name);
      return it == target_.go_env.end() ? std::string() : it->second;
    };
    goproxy::PrivacyEnv privacy{env("GOPRIVATE"), env("GONOPROXY"), env("GONOSUMDB"),
                                env("GOSUMDB")};
    std::vector<std::string> paths;
    for (const auto& m : target_.modules) paths.push_back(m.path);
    auto problems = goproxy::lintGoProxy(target_.goproxy);
    for (auto& p : goproxy::lintPrivacy(privacy, paths)) problems.push_back(std::move(p));
    for (const auto& p : problems) {
      result_.lint.push_back(
          std::string(p.severity == goproxy::LintSeverity::Error ? "error" : "warning") + ": " +
          p.message + " (fix: " + p.suggestion + ")");
    }
  }

  void nextModule(std::size_t index) {
    if (index >= target_.modules.size() || finished_) {
      finish();
      return;
    }
    module_ = index;
    outcomes_.clear();
    current_ = ModuleCheck{};
    current_.module = target_.modules[index].path;
    current_.requested = target_.modules[index].version;
    tryEntry(0);
  }

  void tryEntry(std::size_t entry) {
    if (entry >= entries_.size() || entries_[entry].direct || entries_[entry].off) {
      decide();
      return;
    }
    const auto path = goproxy::escapePath(current_.module);
    const auto version = goproxy::escapeVersion(current_.requested);
    if (!path || (current_.requested != "latest" && !version)) {
      current_.reason = FailureReason::Protocol;
      current_.detail = "invalid module " + current_.module + "@" + current_.requested;
      decide();
      return;
    }
    net::FetchRequest request;
    request.url = entries_[entry].url + "/" + *path +
                  (current_.requested == "latest" ? "/@v/list" : "/@v/" + *version + ".info");
    request.version =
        target_.http_versions.empty() ? HttpVersion::Http11 : target_.http_versions.front();
    request.ip_protocol = target_.ip_protocol;
    request.ca_file = target_.ca_file;
    request.headers = target_.headers;
    request.deadline = deadline_;
    request.follow_redirects = true;
    request.max_body_bytes = 16ULL << 20;
    request.proxy = net::proxyFor(target_, request.url);
    if (!request.proxy.empty() && result_.proxy.empty()) {
      result_.proxy = net::redactProxyUrl(request.proxy);
    }
    std::weak_ptr<ChainRun> weak = weak_from_this();
    fetch_ = net::startFetch(loop_, std::move(request), [weak, entry](const net::FetchResponse& r) {
      auto self = weak.lock();
      if (!self || self->finished_) return;
      self->fetch_.reset();
      self->current_.steps.push_back(ModuleStepResult{
          self->current_.requested == "latest" ? ModuleStep::List : ModuleStep::Info,
          r.total_seconds, r.status_code, r.ok});
      // Outcome as TryProxies sees it: the status when there is one, else a network error.
      const int outcome = r.status_code > 0 && r.reason != FailureReason::Timeout &&
                                  r.reason != FailureReason::HttpProtocol
                              ? static_cast<int>(r.status_code)
                              : goproxy::kNetworkError;
      self->outcomes_.push_back(outcome);
      if (!r.ok) {
        const bool not_found = r.status_code == 404 || r.status_code == 410;
        self->current_.reason = not_found ? FailureReason::NotFound : r.reason;
        self->current_.detail = "entry " + std::to_string(entry) + ": " + r.detail;
      }
      const bool fall_through = !r.ok && (self->entries_[entry].fallback_on_any_error ||
                                          r.status_code == 404 || r.status_code == 410);
      if (fall_through) {
        self->tryEntry(entry + 1);
      } else {
        self->decide();
      }
    });
  }

  void decide() {
    // Entries never asked (after a decision, or direct/off) need no outcome.
    const int serving = goproxy::servingEntry(entries_, outcomes_);
    result_.chain_entries.push_back(serving);
    current_.success = serving >= 0;
    if (current_.success) {
      current_.reason = FailureReason::None;
      current_.detail.clear();
    } else if (current_.reason == FailureReason::None) {
      current_.reason = FailureReason::NotFound;
      current_.detail = "no entry serves it (off, or the list ran out)";
    }
    if (!current_.success && result_.reason == FailureReason::None) {
      result_.reason = current_.reason;
      result_.detail =
          "module " + current_.module + "@" + current_.requested + ": " + current_.detail;
    }
    result_.modules.push_back(std::move(current_));
    nextModule(module_ + 1);
  }

  void onDeadline() {
    timer_ = 0;
    if (finished_) return;
    if (auto fetch = fetch_) fetch->abort();  // calls back: records the timeout and decides
    if (!finished_) {
      if (result_.reason == FailureReason::None) {
        result_.reason = FailureReason::Timeout;
        result_.detail = "deadline exceeded";
      }
      finish();
    }
  }

  void finish() {
    if (finished_) return;
    finished_ = true;
    if (timer_ != 0) loop_.cancelTimer(timer_);
    result_.success = result_.reason == FailureReason::None && !result_.modules.empty();
    if (target_.modules.empty() && result_.reason == FailureReason::None) result_.success = true;
    result_.duration_seconds =
        std::chrono::duration<double>(loop_.clock().steadyNow() - started_).count();
    auto keep = shared_from_this();
    auto done = std::move(done_);
    done(std::move(result_));
  }

  const TargetConfig target_;
  net::EventLoop& loop_;
  ProbeCallback done_;
  ProbeResult result_;
  std::chrono::steady_clock::time_point started_;
  std::chrono::steady_clock::time_point deadline_;
  net::EventLoop::TimerId timer_ = 0;
  std::vector<goproxy::ProxyEntry> entries_;
  std::size_t module_ = 0;
  ModuleCheck current_;
  std::vector<int> outcomes_;
  std::shared_ptr<net::Fetch> fetch_;
  bool finished_ = false;
};

}  // namespace

ChainProbe::ChainProbe(TargetConfig target, net::EventLoop& loop)
    : target_(std::move(target)), loop_(loop) {}

void ChainProbe::run(ProbeCallback done) {
  std::make_shared<ChainRun>(target_, loop_, std::move(done))->start();
}

}  // namespace gomodprobe::probe
