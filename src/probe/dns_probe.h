#pragma once

#include "gomodprobe/config.h"
#include "gomodprobe/probe.h"
#include "net/event_loop.h"

namespace gomodprobe::probe {

/// The dns kind: a standalone resolver comparison (split horizon, pollution). Every name ×
/// resolver × record type is queried at once with net::queryDns (c-ares on the loop), timed per
/// query. A run succeeds when
/// - every resolver answered every query with NOERROR (rcode 0), and each name has at least one
///   record of some requested type from each resolver (an IPv4-only name with an empty AAAA
///   answer is fine; a name with no record at all is dns_no_answer), and
/// - for each name, the resolvers agree: the same rcode and the same answer set (TTLs ignored)
///   for every record type.
/// The reason is the first failing query's (in name, resolver, type order): dns_nxdomain,
/// dns_servfail (SERVFAIL or REFUSED), dns_timeout (no answer before the target's timeout),
/// dns_error; then dns_no_answer; then dns_error with "resolvers disagree" for a disagreement.
class DnsProbe final : public Probe {
 public:
  DnsProbe(TargetConfig target, net::EventLoop& loop);
  void run(ProbeCallback done) override;

 private:
  TargetConfig target_;
  net::EventLoop& loop_;
};

}  // namespace gomodprobe::probe
