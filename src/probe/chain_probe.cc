#include "probe/chain_probe.h"

#include <memory>
#include <utility>

#include "goproxy/goproxy_list.h"
#include "goproxy/module_path.h"
#include "goproxy/private_lint.h"
#include "net/http_fetch.h"
#include "net/proxy.h"
#include "probe/run_frame.h"

namespace gomodprobe::probe {

namespace {

class ChainRun final : public RunFrame, public std::enable_shared_from_this<ChainRun> {
 public:
  ChainRun(TargetConfig target, net::EventLoop& loop, ProbeCallback done)
      : RunFrame(std::move(target), loop, std::move(done)) {}

  void start() {
    beginRun([self = shared_from_this()] { self->onDeadline(); });
    lint();
    const auto parsed = goproxy::parseGoProxy(target().goproxy);
    if (!parsed.ok()) {
      result().reason = FailureReason::Protocol;
      result().detail = "GOPROXY: " + parsed.error;
      finish();
      return;
    }
    entries_ = parsed.entries;
    nextModule(0);
  }

 private:
  void lint() {
    const auto env = [this](const char* name) {
      const auto it = target().go_env.find(name);
      return it == target().go_env.end() ? std::string() : it->second;
    };
    goproxy::PrivacyEnv privacy{env("GOPRIVATE"), env("GONOPROXY"), env("GONOSUMDB"),
                                env("GOSUMDB")};
    std::vector<std::string> paths;
    for (const auto& m : target().modules) paths.push_back(m.path);
    auto problems = goproxy::lintGoProxy(target().goproxy);
    for (auto& p : goproxy::lintPrivacy(privacy, paths)) problems.push_back(std::move(p));
    for (const auto& p : problems) {
      result().lint.push_back(
          std::string(p.severity == goproxy::LintSeverity::Error ? "error" : "warning") + ": " +
          p.message + " (fix: " + p.suggestion + ")");
    }
  }

  void nextModule(std::size_t index) {
    if (index >= target().modules.size() || finished()) {
      finish();
      return;
    }
    module_ = index;
    outcomes_.clear();
    current_ = ModuleCheck{};
    current_.module = target().modules[index].path;
    current_.requested = target().modules[index].version;
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
    net::FetchRequest request =
        targetRequest(entries_[entry].url + "/" + *path +
                      (current_.requested == "latest" ? "/@v/list" : "/@v/" + *version + ".info"));
    request.follow_redirects = true;
    request.max_body_bytes = 16ULL << 20;
    request.proxy = net::proxyFor(target(), request.url);
    if (!request.proxy.empty() && result().proxy.empty()) {
      result().proxy = net::redactProxyUrl(request.proxy);
    }
    std::weak_ptr<ChainRun> weak = weak_from_this();
    fetch_ =
        net::startFetch(loop(), std::move(request), [weak, entry](const net::FetchResponse& r) {
          auto self = weak.lock();
          if (!self || self->finished()) return;
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
    result().chain_entries.push_back(serving);
    current_.success = serving >= 0;
    if (current_.success) {
      current_.reason = FailureReason::None;
      current_.detail.clear();
    } else if (current_.reason == FailureReason::None) {
      current_.reason = FailureReason::NotFound;
      current_.detail = "no entry serves it (off, or the list ran out)";
    }
    if (!current_.success && result().reason == FailureReason::None) {
      result().reason = current_.reason;
      result().detail =
          "module " + current_.module + "@" + current_.requested + ": " + current_.detail;
    }
    result().modules.push_back(std::move(current_));
    nextModule(module_ + 1);
  }

  void onDeadline() {
    if (auto fetch = fetch_) fetch->abort();  // calls back: records the timeout and decides
    if (!finished()) {
      if (result().reason == FailureReason::None) {
        result().reason = FailureReason::Timeout;
        result().detail = "deadline exceeded";
      }
      finish();
    }
  }

  void finish() {
    if (!endRun()) return;
    result().success = result().reason == FailureReason::None && !result().modules.empty();
    if (target().modules.empty() && result().reason == FailureReason::None) result().success = true;
    auto keep = shared_from_this();
    deliver();
  }

  std::vector<goproxy::ProxyEntry> entries_;
  std::size_t module_ = 0;
  ModuleCheck current_;
  std::vector<int> outcomes_;
  std::shared_ptr<net::Fetch> fetch_;
};

}  // namespace

ChainProbe::ChainProbe(TargetConfig target, net::EventLoop& loop)
    : target_(std::move(target)), loop_(loop) {}

void ChainProbe::run(ProbeCallback done) {
  std::make_shared<ChainRun>(target_, loop_, std::move(done))->start();
}

}  // namespace gomodprobe::probe
