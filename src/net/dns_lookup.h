#pragma once

#include <functional>
#include <string>

#include "gomodprobe/config.h"
#include "gomodprobe/probe.h"
#include "net/event_loop.h"

namespace gomodprobe::net {

/// Resolves `host` with one resolver on the loop's c-ares channel for it: an A query (ip4, any)
/// and an AAAA query (ip6, any), sent together and timed from send to the last answer. Exact name
/// only (ares_query: no search domains, no /etc/hosts). `done` runs exactly once on the loop
/// thread — possibly before lookup() returns when c-ares fails immediately. Never throws.
///
/// The combined reason for `any`: success if either family has an address; otherwise the A
/// query's reason, or the AAAA one's when A only said "no answer".
void lookup(EventLoop& loop, const ResolverSpec& resolver, const std::string& host,
            IpProtocol protocol, std::function<void(DnsLookup)> done);

/// One query of the dns kind: `type` for `name` with one resolver (ares_query: exact name, no
/// search domains, no /etc/hosts), timed from send to answer. The result carries the response
/// code from the answer's header (also for NXDOMAIN/SERVFAIL/REFUSED answers), the records of
/// the type in the answer section (A/AAAA via ares_parse_a_reply/ares_parse_aaaa_reply with
/// their TTLs; CNAME by walking the answer section with ares_expand_name) and their minimum TTL.
/// Reason: the c-ares status's (reasonFromAresStatus), dns_no_answer for NOERROR without a record
/// of the type, dns_error for an answer that cannot be parsed. `done` runs exactly once on the
/// loop thread, possibly before queryDns() returns. Never throws.
void queryDns(EventLoop& loop, const ResolverSpec& resolver, const std::string& name,
              DnsRecordType type, std::function<void(DnsQuery)> done);

}  // namespace gomodprobe::net
