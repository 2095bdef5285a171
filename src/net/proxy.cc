#include "net/proxy.h"

#include <arpa/inet.h>

#include <algorithm>
#include <array>
#include <charconv>
#include <cstdint>
#include <vector>

#include "net/http_fetch.h"

namespace gomodprobe::net {

namespace {

char lower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

bool equalsIgnoreCase(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(),
                                            [](char x, char y) { return lower(x) == lower(y); });
}

// Address bytes of an IP literal (4 or 16 bytes); empty when not one.
std::vector<unsigned char> addressBytes(std::string_view text) {
  const std::string s(text);
  std::array<unsigned char, 16> buf{};
  if (inet_pton(AF_INET, s.c_str(), buf.data()) == 1) return {buf.begin(), buf.begin() + 4};
  if (inet_pton(AF_INET6, s.c_str(), buf.data()) == 1) return {buf.begin(), buf.end()};
  return {};
}

bool ipMatches(std::string_view entry, const std::vector<unsigned char>& host) {
  std::string_view address = entry;
  std::size_t bits = host.size() * 8;
  if (const auto slash = entry.find('/'); slash != std::string_view::npos) {
    address = entry.substr(0, slash);
    const std::string_view prefix = entry.substr(slash + 1);
    unsigned value = 0;
    const auto [end, ec] = std::from_chars(prefix.data(), prefix.data() + prefix.size(), value);
    if (ec != std::errc{} || end != prefix.data() + prefix.size()) return false;
    bits = value;
  }
  if (address.size() > 2 && address.front() == '[' && address.back() == ']') {
    address = address.substr(1, address.size() - 2);
  }
  const auto net = addressBytes(address);
  if (net.size() != host.size() || bits > host.size() * 8) return false;
  for (std::size_t i = 0; i < bits / 8; ++i) {
    if (net[i] != host[i]) return false;
  }
  if (const std::size_t rest = bits % 8; rest != 0) {
    const auto mask = static_cast<unsigned char>(0xFFU << (8 - rest));
    if ((net[bits / 8] & mask) != (host[bits / 8] & mask)) return false;
  }
  return true;
}

}  // namespace

bool noProxyMatches(std::string_view no_proxy, std::string_view host) {
  if (host.empty()) return false;
  while (!host.empty() && host.back() == '.') host.remove_suffix(1);
  const auto host_ip = addressBytes(host);
  const std::size_t first_char = no_proxy.find_first_not_of(" \t");
  const std::size_t last_char = no_proxy.find_last_not_of(" \t");
  if (first_char != std::string_view::npos &&
      no_proxy.substr(first_char, last_char - first_char + 1) == "*") {
    return true;  // curl: "*" matches every host only as the whole list
  }
  std::size_t pos = 0;
  while (pos <= no_proxy.size()) {
    const std::size_t end = no_proxy.find_first_of(", \t", pos);
    std::string_view entry = no_proxy.substr(pos, end == std::string_view::npos ? end : end - pos);
    pos = end == std::string_view::npos ? no_proxy.size() + 1 : end + 1;
    if (entry.empty()) continue;
    if (!host_ip.empty()) {
      if (ipMatches(entry, host_ip)) return true;
      continue;
    }
    while (!entry.empty() && entry.front() == '.') entry.remove_prefix(1);
    while (!entry.empty() && entry.back() == '.') entry.remove_suffix(1);
    if (entry.empty()) continue;
    if (equalsIgnoreCase(entry, host)) return true;
    if (host.size() > entry.size() && host[host.size() - entry.size() - 1] == '.' &&
        equalsIgnoreCase(host.substr(host.size() - entry.size()), entry)) {
      return true;
    }
  }
  return false;
}

std::string proxyFor(const TargetConfig& target, const std::string& url) {
  if (!target.proxy_url.empty()) return target.proxy_url;
  if (!target.proxy_from_environment) return {};
  const auto parts = splitUrl(url);
  if (!parts) return {};
  const std::string& proxy =
      parts->scheme == "https" ? target.proxy_env.https_proxy : target.proxy_env.http_proxy;
  if (proxy.empty() || noProxyMatches(target.proxy_env.no_proxy, parts->host)) return {};
  return proxy;
}

std::string redactProxyUrl(std::string_view proxy_url) {
  const std::size_t scheme_end = proxy_url.find("://");
  const std::size_t start = scheme_end == std::string_view::npos ? 0 : scheme_end + 3;
  const std::size_t end = proxy_url.find_first_of("/?#", start);
  const std::size_t at = proxy_url.substr(0, end).rfind('@');
  if (at == std::string_view::npos || at < start) return std::string(proxy_url);
  return std::string(proxy_url.substr(0, start)) + std::string(proxy_url.substr(at + 1));
}

std::string scrubProxyCredentials(std::string text, std::string_view proxy_url) {
  const std::size_t scheme_end = proxy_url.find("://");
  const std::size_t start = scheme_end == std::string_view::npos ? 0 : scheme_end + 3;
  const std::size_t end = proxy_url.find_first_of("/?#", start);
  const std::size_t at = proxy_url.substr(0, end).rfind('@');
  if (at == std::string_view::npos || at < start) return text;
  const std::string_view userinfo = proxy_url.substr(start, at - start);
  std::vector<std::string_view> secrets{userinfo};
  if (const auto colon = userinfo.find(':'); colon != std::string_view::npos) {
    if (colon + 1 < userinfo.size()) secrets.push_back(userinfo.substr(colon + 1));
  }
  for (const std::string_view secret : secrets) {
    if (secret.empty()) continue;
    for (std::size_t found = text.find(secret); found != std::string::npos;
         found = text.find(secret, found)) {
      text.replace(found, secret.size(), "***");
    }
  }
  return text;
}

}  // namespace gomodprobe::net
