#include "probe/sumdb_probe.h"

#include <utility>

#include "goproxy/goproxy_list.h"
#include "probe/probe_run.h"
#include "probe/sumdb_session.h"
#include "sumdb/lookup.h"

namespace gomodprobe::probe {

namespace {

class SumdbRun final : public ProbeRun {
 public:
  SumdbRun(TargetConfig target, net::EventLoop& loop, ProbeCallback done,
           std::shared_ptr<sumdb::StateStore> state)
      : ProbeRun(std::move(target), loop, std::move(done)), state_(std::move(state)) {}

 protected:
  /// With a `goproxy` list: cmd/go's initBase, each proxy's /sumdb/<name>/supported in turn.
  void prepare(std::function<void(std::string)> proceed) override {
    base_ = target().url;
    if (target().goproxy.empty()) {
      proceed(target().requestUrl());
      return;
    }
    auto key = sumdb::Verifier::parse(target().key);
    const auto list = goproxy::parseGoProxy(target().goproxy);
    if (!key.ok() || !list.ok()) {
      fail(FailureReason::Protocol, key.ok() ? "goproxy: " + list.error : "key: " + key.error);
      finish();
      return;
    }
    name_ = key.verifier->name();
    entries_ = list.entries;
    proceed_ = std::move(proceed);
    tryProxy(0);
  }

  void afterAttempts() override {
    auto parsed = sumdb::Verifier::parse(target().key);
    if (!parsed.ok()) {
      fail(FailureReason::Protocol, "verifier key: " + parsed.error);
      finish();
      return;
    }
    std::weak_ptr<ProbeRun> weak = weak_from_this();
    session_ = std::make_shared<SumdbSession>(
        base_, *parsed.verifier,
        [this, weak](net::FetchRequest request, net::Fetch::Callback callback) {
          if (auto self = weak.lock()) fetch(std::move(request), std::move(callback));
        },
        [this](const std::string& url) { return requestFor(url); }, state_,
        "target-" + target().name);
    session_->fetchLatest([this](FailureReason reason, std::string detail) {
      if (reason != FailureReason::None) {
        stop(reason, std::move(detail));
        return;
      }
      lookupNext(0);
    });
  }

 private:
  void tryProxy(std::size_t index) {
    const bool exhausted = index >= entries_.size();
    if (exhausted || entries_[index].direct || entries_[index].off ||
        entries_[index].url.rfind("file:", 0) == 0) {
      proceed_(target().requestUrl());  // directly: the list is exhausted or says so
      return;
    }
    const goproxy::ProxyEntry& entry = entries_[index];
    const std::string supported = entry.url + "/sumdb/" + name_ + "/supported";
    net::FetchRequest request = requestFor(supported);
    request.follow_redirects = true;
    request.max_body_bytes = std::size_t{1} << 16U;
    std::weak_ptr<ProbeRun> weak = weak_from_this();
    fetch(std::move(request), [this, weak, index, supported](const net::FetchResponse& r) {
      auto self = weak.lock();
      if (!self) return;
      const goproxy::ProxyEntry& current = entries_[index];
      if (r.ok) {
        base_ = current.url + "/sumdb/" + name_;
        proceed_(base_ + target().path);
        return;
      }
      const bool not_found = r.status_code == 404 || r.status_code == 410;
      if (not_found || current.fallback_on_any_error) {
        tryProxy(index + 1);
        return;
      }
      // "Any other response is treated as the database being unavailable."
      fail(r.reason, supported + ": " + r.detail);
      finish();
    });
  }

  void lookupNext(std::size_t index) {
    if (index >= target().modules.size()) {
      session_->verify(
          [this](FailureReason reason, std::string detail) { stop(reason, std::move(detail)); });
      return;
    }
    const ModuleSpec& spec = target().modules[index];
    ModuleCheck check;
    check.module = spec.path;
    check.requested = spec.version;
    check.version = spec.version;
    if (spec.version == "latest") {
      check.reason = FailureReason::Protocol;
      check.detail = "a checksum database is looked up by exact version, not latest";
      fail(check.reason, "module " + spec.text() + ": " + check.detail);
      result().modules.push_back(std::move(check));
      lookupNext(index + 1);
      return;
    }
    session_->lookup(
        spec.path, spec.version,
        [this, index, check = std::move(check)](FailureReason reason, const std::string& detail,
                                                const SumdbSession::Lookup& found) mutable {
          check.record_id = found.id;
          if (reason == FailureReason::None) {
            for (const auto& line :
                 sumdb::matchingGoSumLines(found.text, check.module, check.version)) {
              check.zip_hash = line.substr(line.rfind(' ') + 1);
            }
            for (const auto& line :
                 sumdb::matchingGoSumLines(found.text, check.module, check.version + "/go.mod")) {
              check.mod_hash = line.substr(line.rfind(' ') + 1);
            }
            check.success = true;
          } else {
            check.reason = reason;
            check.detail = detail;
            fail(reason, "module " + check.module + "@" + check.version + ": " + detail);
          }
          result().modules.push_back(std::move(check));
          lookupNext(index + 1);
        });
  }

  void stop(FailureReason reason, std::string detail) {
    result().sumdb = session_->check();
    result().sumdb->base_url = base_;
    if (reason != FailureReason::None) fail(reason, std::move(detail));
    finish();
  }

  std::shared_ptr<sumdb::StateStore> state_;
  std::shared_ptr<SumdbSession> session_;
  std::string base_;  ///< the database's base URL for this run
  std::string name_;
  std::vector<goproxy::ProxyEntry> entries_;
  std::function<void(std::string)> proceed_;
};

}  // namespace

SumdbProbe::SumdbProbe(TargetConfig target, net::EventLoop& loop,
                       std::shared_ptr<sumdb::StateStore> state)
    : target_(std::move(target)), loop_(loop), state_(std::move(state)) {}

void SumdbProbe::run(ProbeCallback done) {
  std::make_shared<SumdbRun>(target_, loop_, std::move(done), state_)->start();
}

}  // namespace gomodprobe::probe
