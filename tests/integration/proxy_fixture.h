#pragma once

// tinyproxy instances for integration tests, supervised by a NetFixture (startChild: own process
// group, watchdog, stopped by the fixture's destructor).
//
// tinyproxy cannot inherit a listening socket, so its port is chosen like dnsmasq's: bind TCP
// 127.0.0.1:0, close, pass the number in the config; if tinyproxy then exits (it lost the port,
// EADDRINUSE) it is restarted on a fresh port. Ready once a TCP connect to the port succeeds.
//
// `connect_ports` become "ConnectPort N" directives: CONNECT is allowed to those ports only
// (tinyproxy answers 403 "Access violation" otherwise). An empty list allows port 1 only, i.e.
// refuses every CONNECT the tests make. Plain-HTTP (absolute-form) requests are forwarded to any
// port either way.

#include <cstdint>
#include <string>
#include <vector>

#include "integration/fixture.h"

namespace gomodprobe::testing {

struct Tinyproxy {
  uint16_t port = 0;
  pid_t pid = -1;
  std::string log_file;
  /// "http://127.0.0.1:PORT"
  [[nodiscard]] std::string url() const { return "http://127.0.0.1:" + std::to_string(port); }
};

/// Starts tinyproxy (after net.start()); throws std::runtime_error with its log on failure.
Tinyproxy startTinyproxy(NetFixture& net, const std::string& name,
                         const std::vector<uint16_t>& connect_ports);

}  // namespace gomodprobe::testing
