#include "net/dns_lookup.h"

#include <arpa/inet.h>
#include <arpa/nameser.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <memory>

#include "probe/failure_mapping.h"

namespace gomodprobe::net {

namespace {

constexpr int kMaxAddresses = 64;

struct FamilyResult {
  bool done = false;
  int status = ARES_SUCCESS;
  std::vector<std::string> addresses;
};

struct LookupState {
  std::function<void(DnsLookup)> done;
  DnsLookup result;
  std::chrono::steady_clock::time_point started;
  const Clock* clock = nullptr;
  IpProtocol protocol = IpProtocol::Any;
  int pending = 0;
  FamilyResult v4;
  FamilyResult v6;

  void finishIfComplete() {
    if (pending > 0) return;
    result.duration_seconds = std::chrono::duration<double>(clock->steadyNow() - started).count();
    result.ipv4 = v4.addresses;
    result.ipv6 = v6.addresses;
    std::sort(result.ipv4.begin(), result.ipv4.end());
    std::sort(result.ipv6.begin(), result.ipv6.end());
    const bool any_address = !result.ipv4.empty() || !result.ipv6.empty();
    FailureReason reason = FailureReason::None;
    int status = ARES_SUCCESS;
    switch (protocol) {
      case IpProtocol::Ip4:
        status = v4.status;
        if (result.ipv4.empty() && status == ARES_SUCCESS) status = ARES_ENODATA;
        break;
      case IpProtocol::Ip6:
        status = v6.status;
        if (result.ipv6.empty() && status == ARES_SUCCESS) status = ARES_ENODATA;
        break;
      case IpProtocol::Any:
        if (!any_address) {
          status = (v4.status == ARES_ENODATA || v4.status == ARES_SUCCESS) ? v6.status : v4.status;
          if (status == ARES_SUCCESS) status = ARES_ENODATA;
        }
        break;
    }
    reason = probe::reasonFromAresStatus(status);
    result.reason = reason;
    if (reason != FailureReason::None) result.detail = ares_strerror(status);
    auto callback = std::move(done);
    callback(std::move(result));
  }
};

struct QueryContext {
  std::shared_ptr<LookupState> state;
  bool ipv6 = false;
};

void parseAnswer(bool ipv6, const unsigned char* abuf, int alen, FamilyResult& out) {
  char text[INET6_ADDRSTRLEN] = {};
  if (ipv6) {
    std::array<ares_addr6ttl, kMaxAddresses> ttls{};
    int count = kMaxAddresses;
    out.status = ares_parse_aaaa_reply(abuf, alen, nullptr, ttls.data(), &count);
    if (out.status != ARES_SUCCESS) return;
    for (int i = 0; i < count; ++i) {
      if (inet_ntop(AF_INET6, &ttls[static_cast<std::size_t>(i)].ip6addr, text, sizeof text)) {
        out.addresses.emplace_back(text);
      }
    }
  } else {
    std::array<ares_addrttl, kMaxAddresses> ttls{};
    int count = kMaxAddresses;
    out.status = ares_parse_a_reply(abuf, alen, nullptr, ttls.data(), &count);
    if (out.status != ARES_SUCCESS) return;
    for (int i = 0; i < count; ++i) {
      if (inet_ntop(AF_INET, &ttls[static_cast<std::size_t>(i)].ipaddr, text, sizeof text)) {
        out.addresses.emplace_back(text);
      }
    }
  }
}

void onAnswer(void* arg, int status, int /*timeouts*/, unsigned char* abuf, int alen) {
  std::unique_ptr<QueryContext> ctx(static_cast<QueryContext*>(arg));
  LookupState& state = *ctx->state;
  FamilyResult& family = ctx->ipv6 ? state.v6 : state.v4;
  family.done = true;
  family.status = status;
  if (status == ARES_SUCCESS && abuf != nullptr) parseAnswer(ctx->ipv6, abuf, alen, family);
  --state.pending;
  // ARES_EDESTRUCTION: the loop is going away; nobody waits for the answer any more.
  if (status == ARES_EDESTRUCTION) return;
  state.finishIfComplete();
}

}  // namespace

void lookup(EventLoop& loop, const ResolverSpec& resolver, const std::string& host,
            IpProtocol protocol, std::function<void(DnsLookup)> done) {
  auto state = std::make_shared<LookupState>();
  state->done = std::move(done);
  state->result.resolver = resolver.label();
  state->clock = &loop.clock();
  state->protocol = protocol;
  state->started = loop.clock().steadyNow();

  std::string error;
  ares_channel channel = loop.resolverChannel(resolver, &error);
  if (channel == nullptr) {
    state->result.reason = FailureReason::DnsError;
    state->result.detail = error;
    auto callback = std::move(state->done);
    callback(std::move(state->result));
    return;
  }
  const bool want_v4 = protocol != IpProtocol::Ip6;
  const bool want_v6 = protocol != IpProtocol::Ip4;
  state->pending = (want_v4 ? 1 : 0) + (want_v6 ? 1 : 0);
  if (want_v4) {
    ares_query(channel, host.c_str(), ns_c_in, ns_t_a, onAnswer,
               new QueryContext{state, false});  // NOLINT(cppcoreguidelines-owning-memory)
  }
  if (want_v6) {
    ares_query(channel, host.c_str(), ns_c_in, ns_t_aaaa, onAnswer,
               new QueryContext{state, true});  // NOLINT(cppcoreguidelines-owning-memory)
  }
}

}  // namespace gomodprobe::net
