#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>

#include <cstdint>

namespace gomodprobe::testing {

/// The IPv4 socket address 127.0.0.1:`port` (host byte order in, network byte order out; port 0
/// lets bind() choose), for the loopback-only servers and sockets of the tests.
inline sockaddr_in loopback(std::uint16_t port) {
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(port);
  return addr;
}

}  // namespace gomodprobe::testing
