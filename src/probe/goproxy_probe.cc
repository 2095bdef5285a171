#include "probe/goproxy_probe.h"

#include <cstdio>
#include <memory>
#include <sstream>
#include <utility>

#include "goproxy/dirhash.h"
#include "goproxy/gosum.h"
#include "goproxy/module_path.h"
#include "goproxy/retract.h"
#include "goproxy/zip_check.h"
#include "goproxy/zip_hash.h"
#include "probe/goproxy_responses.h"
#include "probe/probe_run.h"
#include "probe/sumdb_session.h"
#include "sumdb/lookup.h"
#include "sumdb/note.h"

namespace gomodprobe::probe {

namespace {

constexpr std::uint64_t kMaxListBytes = 16ULL << 20;
constexpr std::uint64_t kMaxInfoBytes = 1ULL << 20;

struct FileCloser {
  void operator()(std::FILE* f) const noexcept { std::fclose(f); }
};
using TempFile = std::unique_ptr<std::FILE, FileCloser>;

class GoProxyRun final : public ProbeRun {
 public:
  GoProxyRun(TargetConfig target, net::EventLoop& loop, ProbeCallback done,
             std::shared_ptr<sumdb::StateStore> state)
      : ProbeRun(std::move(target), loop, std::move(done)), state_(std::move(state)) {}

 protected:
  void afterAttempts() override {
    for (const auto& text : target().go_sum) {
      const auto parsed = goproxy::parseGoSumLine(text);
      if (parsed.ok()) expected_.push_back(*parsed.line);
    }
    if (target().sumdb.empty() || target().modules.empty()) {
      startModule(0);
      return;
    }
    setUpSumdb();
  }

 private:
  /// Parses the GOSUMDB-style value and, when the lookups go through this proxy, checks that it
  /// proxies the database ($url/sumdb/<name>/supported answers 200).
  void setUpSumdb() {
    std::istringstream fields(target().sumdb);
    std::string name_key;
    std::string url;
    fields >> name_key >> url;
    const std::string key =
        name_key.find('+') == std::string::npos ? std::string(kSumGolangOrgKey) : name_key;
    auto parsed = sumdb::Verifier::parse(key);
    if (!parsed.ok()) {
      fail(FailureReason::Protocol, "sumdb key: " + parsed.error);
      finish();
      return;
    }
    const std::string name = parsed.verifier->name();
    const bool through_proxy = url.empty();
    if (!url.empty() && url.find("://") == std::string::npos) url = "https://" + url;
    while (!url.empty() && url.back() == '/') url.pop_back();
    const std::string base = through_proxy ? target().url + "/sumdb/" + name : url;
    std::weak_ptr<ProbeRun> weak = weak_from_this();
    session_ = std::make_shared<SumdbSession>(
        base, *parsed.verifier,
        [this, weak](net::FetchRequest request, net::Fetch::Callback callback) {
          if (auto self = weak.lock()) fetch(std::move(request), std::move(callback));
        },
        [this](const std::string& u) { return requestFor(u); }, state_, "goproxy-" + target().name);
    if (!through_proxy) {
      startModule(0);
      return;
    }
    net::FetchRequest request = requestFor(base + "/supported");
    request.follow_redirects = true;
    request.max_body_bytes = 1 << 16;
    fetch(std::move(request), [this, weak, name](const net::FetchResponse& r) {
      auto self = weak.lock();
      if (!self) return;
      if (!r.ok) {
        const bool unsupported = r.status_code == 404 || r.status_code == 410;
        fail(unsupported ? FailureReason::SumdbUnsupported : r.reason,
             "sumdb/" + name + "/supported: " + r.detail);
        finish();
        return;
      }
      startModule(0);
    });
  }

  void startModule(std::size_t index) {
    if (index >= target().modules.size() || expired()) {
      if (session_ && looked_up_ && !expired()) {
        session_->verify([this](FailureReason reason, const std::string& detail) {
          result().sumdb = session_->check();
          if (reason != FailureReason::None) fail(reason, "sumdb: " + detail);
          finish();
        });
        return;
      }
      if (session_ && looked_up_) result().sumdb = session_->check();
      finish();
      return;
    }
    index_ = index;
    const ModuleSpec& spec = target().modules[index];
    current_ = ModuleCheck{};
    current_.module = spec.path;
    current_.requested = spec.version;
    const auto escaped = goproxy::escapePath(spec.path);
    if (!escaped) {
      moduleFailed(FailureReason::Protocol, "invalid module path");
      return;
    }
    module_url_ = target().url + "/" + *escaped;
    step(ModuleStep::List, module_url_ + "/@v/list", kMaxListBytes, nullptr,
         [this](const net::FetchResponse& r) { onList(r); });
  }

  void step(ModuleStep which, const std::string& url, std::uint64_t max_bytes, std::FILE* file,
            std::function<void(net::FetchResponse)> next) {
    net::FetchRequest request = requestFor(url);
    request.follow_redirects = true;
    request.max_body_bytes = max_bytes;
    request.body_file = file;
    std::weak_ptr<ProbeRun> weak = weak_from_this();
    fetch(std::move(request), [this, weak, which, next = std::move(next)](net::FetchResponse r) {
      auto self = weak.lock();
      if (!self) return;
      current_.steps.push_back(ModuleStepResult{which, r.total_seconds, r.status_code, r.ok});
      if (!r.ok) {
        const bool not_found = r.status_code == 404 || r.status_code == 410;
        // @v/list answering 404 for a "latest" query still lets the go command try @latest.
        if (!(which == ModuleStep::List && not_found && current_.requested == "latest")) {
          moduleFailed(not_found ? FailureReason::NotFound : r.reason,
                       std::string(toLabel(which)) + ": " + r.detail);
          return;
        }
      }
      next(std::move(r));
    });
  }

  void onList(const net::FetchResponse& r) {
    std::string error;
    std::vector<std::string> versions;
    if (r.ok) {
      auto parsed = parseList(r.body, error);
      if (!parsed) {
        moduleFailed(FailureReason::Protocol, "list: " + error);
        return;
      }
      versions = std::move(*parsed);
    }
    if (current_.requested != "latest") {
      startInfo(current_.requested);
      return;
    }
    if (auto latest = goproxy::latestFromList(versions)) {
      resolveRetractions(*latest, std::move(versions));
      return;
    }
    step(ModuleStep::Latest, module_url_ + "/@latest", kMaxInfoBytes, nullptr,
         [this](const net::FetchResponse& latest) {
           std::string why;
           auto info = parseInfo(latest.body, why);
           if (!info || !goproxy::isValidSemver(info->version)) {
             moduleFailed(FailureReason::Protocol, "@latest: " + (info ? "bad Version" : why));
             return;
           }
           startInfo(info->version);
         });
  }

  /// The go command's "latest" skips retracted versions: it reads the retract directives of the
  /// highest listed version's go.mod (modload queryLatest / loadRetractions) and takes the
  /// highest version left; none left is "no matching versions".
  void resolveRetractions(const std::string& highest, std::vector<std::string> versions) {
    const auto escaped = goproxy::escapeVersion(highest);
    if (!escaped) {
      moduleFailed(FailureReason::Protocol, "invalid version " + highest);
      return;
    }
    step(ModuleStep::Latest, module_url_ + "/@v/" + *escaped + ".mod", goproxy::kMaxGoMod, nullptr,
         [this, versions = std::move(versions)](const net::FetchResponse& r) {
           const auto retractions = goproxy::parseRetractions(r.body);
           std::vector<std::string> allowed;
           for (const auto& v : versions) {
             if (!goproxy::isRetracted(v, retractions)) allowed.push_back(v);
           }
           auto chosen = goproxy::latestFromList(allowed);
           if (!chosen) {
             moduleFailed(FailureReason::NotFound,
                          "no matching versions for query \"latest\" (all retracted)");
             return;
           }
           startInfo(*chosen);
         });
  }

  void startInfo(const std::string& version) {
    current_.version = version;
    const auto escaped = goproxy::escapeVersion(version);
    if (!escaped) {
      moduleFailed(FailureReason::Protocol, "invalid version " + version);
      return;
    }
    version_url_ = module_url_ + "/@v/" + *escaped;
    step(ModuleStep::Info, version_url_ + ".info", kMaxInfoBytes, nullptr,
         [this](const net::FetchResponse& r) {
           std::string why;
           auto info = parseInfo(r.body, why);
           if (!info) {
             moduleFailed(FailureReason::Protocol, "info: " + why);
             return;
           }
           if (info->version != current_.version) {
             moduleFailed(FailureReason::Protocol,
                          "info: Version " + info->version + " does not match " + current_.version);
             return;
           }
           current_.info_time = info->time;
           step(ModuleStep::Mod, version_url_ + ".mod", goproxy::kMaxGoMod, nullptr,
                [this](const net::FetchResponse& mod) { onMod(mod); });
         });
  }

  void onMod(const net::FetchResponse& r) {
    current_.mod_hash = goproxy::goModHash(r.body);
    zip_.reset(std::tmpfile());
    if (!zip_) {
      moduleFailed(FailureReason::ZipInvalid, "cannot create a temporary file for the zip");
      return;
    }
    step(ModuleStep::Zip, version_url_ + ".zip", goproxy::kMaxZipFile, zip_.get(),
         [this](const net::FetchResponse& zip) { onZip(zip); });
  }

  void onZip(const net::FetchResponse& r) {
    current_.zip_bytes = r.body_bytes;
    const auto started = loop().clock().steadyNow();
    const auto hashed = goproxy::hashModuleZip(zip_.get(), current_.module, current_.version);
    zip_.reset();
    // The zip step's duration includes hashing.
    current_.steps.back().duration_seconds +=
        std::chrono::duration<double>(loop().clock().steadyNow() - started).count();
    if (!hashed.ok) {
      moduleFailed(FailureReason::ZipInvalid, "zip: " + hashed.error);
      return;
    }
    current_.zip_hash = hashed.hash;
    if (!session_) {
      compareHashes({});
      return;
    }
    looked_up_ = true;
    session_->lookup(
        current_.module, current_.version,
        [this](FailureReason reason, const std::string& detail, const SumdbSession::Lookup& found) {
          if (reason != FailureReason::None) {
            moduleFailed(reason, "sumdb lookup: " + detail);
            return;
          }
          current_.record_id = found.id;
          compareHashes(found.text);
        });
  }

  /// Compares with the pinned go_sum lines and the authenticated record text of a lookup.
  void compareHashes(const std::string& record_text) {
    std::optional<std::string> want_zip;
    std::optional<std::string> want_mod;
    for (const auto& line :
         sumdb::matchingGoSumLines(record_text, current_.module, current_.version)) {
      want_zip = line.substr(line.rfind(' ') + 1);
    }
    for (const auto& line :
         sumdb::matchingGoSumLines(record_text, current_.module, current_.version + "/go.mod")) {
      want_mod = line.substr(line.rfind(' ') + 1);
    }
    for (const auto& line : expected_) {
      if (line.module_path != current_.module || line.version != current_.version) continue;
      (line.go_mod ? want_mod : want_zip) = line.hash;
    }
    if (want_zip || want_mod) {
      const bool zip_ok = !want_zip || *want_zip == current_.zip_hash;
      const bool mod_ok = !want_mod || *want_mod == current_.mod_hash;
      current_.hash_match = zip_ok && mod_ok;
      if (!zip_ok) {
        moduleFailed(FailureReason::ChecksumMismatch,
                     "zip " + current_.zip_hash + ", go.sum has " + *want_zip);
        return;
      }
      if (!mod_ok) {
        moduleFailed(FailureReason::ChecksumMismatch,
                     "go.mod " + current_.mod_hash + ", go.sum has " + *want_mod);
        return;
      }
    }
    current_.success = true;
    moduleDone();
  }

  void moduleFailed(FailureReason reason, std::string detail) {
    current_.reason = reason;
    current_.detail = std::move(detail);
    fail(reason, "module " + current_.module + "@" + current_.requested + ": " + current_.detail);
    moduleDone();
  }

  void moduleDone() {
    zip_.reset();
    result().modules.push_back(std::move(current_));
    startModule(index_ + 1);
  }

  std::vector<goproxy::GoSumLine> expected_;
  std::size_t index_ = 0;
  ModuleCheck current_;
  std::string module_url_;
  std::string version_url_;
  TempFile zip_;
  std::shared_ptr<sumdb::StateStore> state_;
  std::shared_ptr<SumdbSession> session_;
  bool looked_up_ = false;
};

}  // namespace

GoProxyProbe::GoProxyProbe(TargetConfig target, net::EventLoop& loop,
                           std::shared_ptr<sumdb::StateStore> state)
    : target_(std::move(target)), loop_(loop), state_(std::move(state)) {}

void GoProxyProbe::run(ProbeCallback done) {
  std::make_shared<GoProxyRun>(target_, loop_, std::move(done), state_)->start();
}

}  // namespace gomodprobe::probe
