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

}  // namespace gomodprobe::net
