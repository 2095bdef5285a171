#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "gomodprobe/config.h"
#include "gomodprobe/probe.h"
#include "net/event_loop.h"
#include "net/http_fetch.h"
#include "probe/run_frame.h"

namespace gomodprobe::probe {

/// The run of every probe with an HTTP check: within the RunFrame (one deadline, the target's
/// timeout), the lookup of the URL's
/// host with every configured resolver (the primary's address feeds all requests to that host),
/// the HTTP attempts of the base URL (one per requested version, phases as blackbox_exporter names
/// them), and the assembly of the ProbeResult. Subclasses add steps after the attempts by
/// overriding afterAttempts(), issue requests with fetch() and end with finish(). Loop thread only;
/// the run keeps itself alive (shared_ptr) until it has called back.
class ProbeRun : public RunFrame, public std::enable_shared_from_this<ProbeRun> {
 public:
  ProbeRun(TargetConfig target, net::EventLoop& loop, ProbeCallback done);
  virtual ~ProbeRun() = default;
  ProbeRun(const ProbeRun&) = delete;
  ProbeRun& operator=(const ProbeRun&) = delete;
  ProbeRun(ProbeRun&&) = delete;
  ProbeRun& operator=(ProbeRun&&) = delete;

  /// Starts the run; call once, right after make_shared.
  void start();

 protected:
  /// Called first (after the deadline is armed): decides the URL of the base check and calls
  /// `proceed` with it, possibly after requests of its own (issued with fetch(); no address is
  /// pinned yet). The default proceeds at once with the target's url + path.
  virtual void prepare(std::function<void(std::string request_url)> proceed);

  /// Called once every attempt has finished and the base check succeeded. The default finishes.
  /// Subclasses start their own steps here and call finish() when done.
  virtual void afterAttempts() { finish(); }
  /// Called with each base attempt's response before it is recorded; a subclass may judge the
  /// answer itself (e.g. accept a body whatever the status, or name a 401 differently) by
  /// changing `attempt`'s success, reason and detail. The default keeps the HTTP verdict.
  virtual void onBaseResponse(std::size_t /*index*/, const net::FetchResponse& /*response*/,
                              HttpAttempt& /*attempt*/) {}
  /// Whether the base attempts follow redirects (default: no, a 3xx is http_status).
  [[nodiscard]] virtual bool followBaseRedirects() const { return false; }
  /// Called at the deadline before pending requests are aborted, so that a subclass can end its
  /// own pending steps (those that are not fetch()es) with their own reasons.
  virtual void onDeadlineReached() {}

  /// Issues a request on behalf of the run, with the primary resolver's address pinned when the
  /// URL's host is the target's host. The request is aborted at the run's deadline; `done` is not
  /// called after the run finished.
  void fetch(net::FetchRequest request, net::Fetch::Callback done);
  /// A request template for `url`: targetRequest() (the target's CA file, headers, IP protocol,
  /// deadline, and the version of its first attempt) with the credentials read at the start of
  /// the run.
  [[nodiscard]] net::FetchRequest requestFor(const std::string& url) const;

  /// Records a failure of a step after the attempts (the run's reason unless one is already set).
  void fail(FailureReason reason, std::string detail);
  /// Ends the run and calls back. Idempotent.
  void finish();

  /// The run's deadline has passed: start no new step.
  [[nodiscard]] bool expired() const { return loop().clock().steadyNow() >= deadline(); }

 private:
  void begin(std::string request_url);
  void onLookup(std::size_t index, DnsLookup lookup);
  void startAttempts();
  void onAttempt(std::size_t index, const net::FetchResponse& response);
  void onDeadline();
  void maybeAfterAttempts();
  [[nodiscard]] std::string pickAddress(const DnsLookup& lookup) const;

  std::string request_url_;  ///< of the base check, from prepare()
  net::UrlParts url_;
  std::string address_;
  std::size_t lookups_pending_ = 0;
  std::size_t attempts_pending_ = 0;
  bool attempts_started_ = false;
  bool primary_failed_ = false;
  bool after_called_ = false;
  std::vector<std::weak_ptr<net::Fetch>> fetches_;
  net::HttpAuth auth_;  // secrets of this run: never logged or copied into the result
};

}  // namespace gomodprobe::probe
