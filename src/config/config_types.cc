#include <string>

#include "gomodprobe/config.h"

namespace gomodprobe {

const char* toString(TargetKind kind) {
  switch (kind) {
    case TargetKind::GoProxy:
      return "goproxy";
    case TargetKind::SumDb:
      return "sumdb";
    case TargetKind::Http:
      return "http";
    case TargetKind::Chain:
      return "chain";
    case TargetKind::Dns:
      return "dns";
    case TargetKind::Vcs:
      return "vcs";
  }
  return "unknown";
}

const char* toString(IpProtocol protocol) {
  switch (protocol) {
    case IpProtocol::Ip4:
      return "ip4";
    case IpProtocol::Ip6:
      return "ip6";
    case IpProtocol::Any:
      return "any";
  }
  return "unknown";
}

const char* toString(HttpVersion version) {
  switch (version) {
    case HttpVersion::Http11:
      return "1.1";
    case HttpVersion::Http2:
      return "2";
  }
  return "unknown";
}

const char* toString(DnsRecordType type) {
  switch (type) {
    case DnsRecordType::A:
      return "A";
    case DnsRecordType::Aaaa:
      return "AAAA";
    case DnsRecordType::Cname:
      return "CNAME";
  }
  return "unknown";
}

const char* toString(HistogramScope scope) {
  switch (scope) {
    case HistogramScope::PerTarget:
      return "per_target";
    case HistogramScope::PerKind:
      return "per_kind";
  }
  return "unknown";
}

std::string ResolverSpec::label() const {
  if (system) {
    return "system";
  }
  if (port == 53) {
    return address;
  }
  const bool is_ipv6 = address.find(':') != std::string::npos;
  if (is_ipv6) {
    return "[" + address + "]:" + std::to_string(port);
  }
  return address + ":" + std::to_string(port);
}

}  // namespace gomodprobe
