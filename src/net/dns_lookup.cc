#include "net/dns_lookup.h"

#include <arpa/inet.h>
#include <arpa/nameser.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>

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

const void* addressOf(const ares_addrttl& entry) { return &entry.ipaddr; }
const void* addressOf(const ares_addr6ttl& entry) { return &entry.ip6addr; }

/// The A (AddrTtl = ares_addrttl, AF_INET, ares_parse_a_reply) or AAAA (ares_addr6ttl, AF_INET6,
/// ares_parse_aaaa_reply) records of a response: addresses as text appended to `addresses`, the
/// minimum TTL kept in `*min_ttl` (when not null). Returns the parse status.
template <typename AddrTtl, typename ParseReply>
int parseAddresses(ParseReply parse_reply, int family, const unsigned char* abuf, int alen,
                   std::vector<std::string>& addresses, std::optional<std::uint32_t>* min_ttl) {
  std::array<AddrTtl, kMaxAddresses> ttls{};
  int count = kMaxAddresses;
  const int status = parse_reply(abuf, alen, nullptr, ttls.data(), &count);
  if (status != ARES_SUCCESS) return status;
  char text[INET6_ADDRSTRLEN] = {};
  for (int i = 0; i < count; ++i) {
    const AddrTtl& entry = ttls[static_cast<std::size_t>(i)];
    if (inet_ntop(family, addressOf(entry), text, sizeof text)) addresses.emplace_back(text);
    if (min_ttl != nullptr) {
      const auto ttl = static_cast<std::uint32_t>(std::max(entry.ttl, 0));
      *min_ttl = *min_ttl ? std::min(**min_ttl, ttl) : ttl;
    }
  }
  return ARES_SUCCESS;
}

void parseAnswer(bool ipv6, const unsigned char* abuf, int alen, FamilyResult& out) {
  out.status = ipv6 ? parseAddresses<ares_addr6ttl>(ares_parse_aaaa_reply, AF_INET6, abuf, alen,
                                                    out.addresses, nullptr)
                    : parseAddresses<ares_addrttl>(ares_parse_a_reply, AF_INET, abuf, alen,
                                                   out.addresses, nullptr);
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

constexpr int kHeaderSize = 12;
constexpr int kRrFixedSize = 10;  // type, class, TTL, RDLENGTH

std::uint16_t read16(const unsigned char* p) {
  return static_cast<std::uint16_t>((static_cast<unsigned>(p[0]) << 8U) | p[1]);
}
std::uint32_t read32(const unsigned char* p) {
  return (static_cast<std::uint32_t>(p[0]) << 24U) | (static_cast<std::uint32_t>(p[1]) << 16U) |
         (static_cast<std::uint32_t>(p[2]) << 8U) | p[3];
}

/// Skips one (possibly compressed) name at `p`; false when it runs past the message.
bool skipName(const unsigned char* abuf, int alen, const unsigned char*& p) {
  char* name = nullptr;
  long length = 0;
  if (ares_expand_name(p, abuf, alen, &name, &length) != ARES_SUCCESS) return false;
  ares_free_string(name);
  p += length;
  return p <= abuf + alen;
}

/// The CNAME records of the answer section (targets and TTLs); false when malformed.
bool parseCnames(const unsigned char* abuf, int alen, std::vector<std::string>& targets,
                 std::optional<std::uint32_t>& ttl) {
  if (alen < kHeaderSize) return false;
  const int questions = read16(abuf + 4);
  const int answers = read16(abuf + 6);
  const unsigned char* p = abuf + kHeaderSize;
  const unsigned char* end = abuf + alen;
  for (int i = 0; i < questions; ++i) {
    if (!skipName(abuf, alen, p) || end - p < 4) return false;
    p += 4;
  }
  for (int i = 0; i < answers; ++i) {
    if (!skipName(abuf, alen, p) || end - p < kRrFixedSize) return false;
    const std::uint16_t type = read16(p);
    const std::uint32_t record_ttl = read32(p + 4);
    const std::uint16_t rdlength = read16(p + 8);
    p += kRrFixedSize;
    if (end - p < rdlength) return false;
    if (type == ns_t_cname) {
      char* target = nullptr;
      long length = 0;
      if (ares_expand_name(p, abuf, alen, &target, &length) != ARES_SUCCESS) return false;
      targets.emplace_back(target);
      ares_free_string(target);
      ttl = ttl ? std::min(*ttl, record_ttl) : record_ttl;
    }
    p += rdlength;
  }
  return true;
}

struct QueryState {
  std::function<void(DnsQuery)> done;
  DnsQuery result;
  std::chrono::steady_clock::time_point started;
  const Clock* clock = nullptr;
};

/// Fills answers and TTL from a response; the parse status (ARES_SUCCESS, ARES_ENODATA, …).
int parseRecords(DnsRecordType type, const unsigned char* abuf, int alen, DnsQuery& out) {
  switch (type) {
    case DnsRecordType::A:
      return parseAddresses<ares_addrttl>(ares_parse_a_reply, AF_INET, abuf, alen, out.answers,
                                          &out.ttl_seconds);
    case DnsRecordType::Aaaa:
      return parseAddresses<ares_addr6ttl>(ares_parse_aaaa_reply, AF_INET6, abuf, alen, out.answers,
                                           &out.ttl_seconds);
    case DnsRecordType::Cname:
      if (!parseCnames(abuf, alen, out.answers, out.ttl_seconds)) return ARES_EBADRESP;
      return ARES_SUCCESS;
  }
  return ARES_EBADRESP;
}

void onQueryAnswer(void* arg, int status, int /*timeouts*/, unsigned char* abuf, int alen) {
  std::unique_ptr<std::shared_ptr<QueryState>> holder(
      static_cast<std::shared_ptr<QueryState>*>(arg));
  QueryState& state = **holder;
  if (status == ARES_EDESTRUCTION) return;
  DnsQuery& out = state.result;
  out.duration_seconds =
      std::chrono::duration<double>(state.clock->steadyNow() - state.started).count();
  if (abuf != nullptr && alen >= kHeaderSize) {
    out.rcode = abuf[3] & 0x0F;
    if (status == ARES_SUCCESS || status == ARES_ENODATA) {
      const int parsed = parseRecords(out.type, abuf, alen, out);
      if (parsed != ARES_SUCCESS && parsed != ARES_ENODATA) status = parsed;
    }
  }
  std::sort(out.answers.begin(), out.answers.end());
  if (status == ARES_SUCCESS && out.answers.empty()) status = ARES_ENODATA;
  out.reason = probe::reasonFromAresStatus(status);
  if (out.reason != FailureReason::None) {
    out.detail = ares_strerror(status);
    if (out.reason == FailureReason::DnsNoAnswer) out.answers.clear();
  }
  auto callback = std::move(state.done);
  callback(std::move(out));
}

/// The loop's channel for `resolver`, or nullptr after ending the lookup or query in `state`
/// (QueryState or LookupState) with dns_error and the reason the channel could not be created.
template <typename State>
ares_channel channelOrFail(EventLoop& loop, const ResolverSpec& resolver, State& state) {
  std::string error;
  ares_channel channel = loop.resolverChannel(resolver, &error);
  if (channel == nullptr) {
    state.result.reason = FailureReason::DnsError;
    state.result.detail = error;
    auto callback = std::move(state.done);
    callback(std::move(state.result));
  }
  return channel;
}

}  // namespace

void queryDns(EventLoop& loop, const ResolverSpec& resolver, const std::string& name,
              DnsRecordType type, std::function<void(DnsQuery)> done) {
  auto state = std::make_shared<QueryState>();
  state->done = std::move(done);
  state->result.name = name;
  state->result.resolver = resolver.label();
  state->result.type = type;
  state->clock = &loop.clock();
  state->started = loop.clock().steadyNow();
  ares_channel channel = channelOrFail(loop, resolver, *state);
  if (channel == nullptr) return;
  const int rr_type = type == DnsRecordType::A      ? ns_t_a
                      : type == DnsRecordType::Aaaa ? ns_t_aaaa
                                                    : ns_t_cname;
  ares_query(channel, name.c_str(), ns_c_in, rr_type, onQueryAnswer,
             new std::shared_ptr<QueryState>(state));  // NOLINT(cppcoreguidelines-owning-memory)
}

void lookup(EventLoop& loop, const ResolverSpec& resolver, const std::string& host,
            IpProtocol protocol, std::function<void(DnsLookup)> done) {
  auto state = std::make_shared<LookupState>();
  state->done = std::move(done);
  state->result.resolver = resolver.label();
  state->clock = &loop.clock();
  state->protocol = protocol;
  state->started = loop.clock().steadyNow();

  ares_channel channel = channelOrFail(loop, resolver, *state);
  if (channel == nullptr) return;
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
