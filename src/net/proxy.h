#pragma once

#include <string>
#include <string_view>

#include "gomodprobe/config.h"

namespace gomodprobe::net {

/// The proxy a request of `target` to `url` goes through ("" = direct), credentials included:
/// - proxy_url set: that proxy, for every request (no_proxy does not apply);
/// - proxy_from_environment: the captured https_proxy (https URLs) or http_proxy (http URLs),
///   unless the URL's host matches no_proxy (see noProxyMatches);
/// - otherwise direct.
/// Unlike the go command, loopback hosts ("localhost", 127.0.0.1, ::1) are proxied like any other
/// host (curl's behaviour); list them in NO_PROXY to reach them directly.
[[nodiscard]] std::string proxyFor(const TargetConfig& target, const std::string& url);

/// curl's NO_PROXY matching (lib/noproxy.c, curl 7.88): the list is separated by commas (and
/// blanks); "*" alone matches every host; an entry matches a host name equal to it or ending in
/// "." + entry (a leading "." of the entry and a trailing "." of the host are ignored; case
/// insensitive); for IP-literal hosts an entry is an address or a CIDR block ("10.0.0.0/8",
/// "::1/128").
[[nodiscard]] bool noProxyMatches(std::string_view no_proxy, std::string_view host);

/// A proxy URL without its credentials ("http://user:pw@h:3128" → "http://h:3128"): the only
/// form that may appear in metrics, logs and error details.
[[nodiscard]] std::string redactProxyUrl(std::string_view proxy_url);

/// `text` with every occurrence of the proxy's credentials ("user:password@", "user:password",
/// the password alone) removed.
[[nodiscard]] std::string scrubProxyCredentials(std::string text, std::string_view proxy_url);

}  // namespace gomodprobe::net
