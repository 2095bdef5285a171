#include "integration/proxy_fixture.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <stdexcept>
#include <thread>

namespace gomodprobe::testing {

namespace {

constexpr int kAttempts = 5;
constexpr auto kStartupTimeout = std::chrono::seconds(10);
constexpr auto kPollInterval = std::chrono::milliseconds(10);

sockaddr_in loopback(uint16_t port) {
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  return addr;
}

// A TCP port on 127.0.0.1 that was free a moment ago.
uint16_t freeTcpPort() {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) throw std::runtime_error("socket failed");
  sockaddr_in addr = loopback(0);
  socklen_t len = sizeof(addr);
  if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0 ||
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
    ::close(fd);
    throw std::runtime_error("bind 127.0.0.1:0 failed");
  }
  ::close(fd);
  return ntohs(addr.sin_port);
}

bool accepts(uint16_t port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return false;
  sockaddr_in addr = loopback(port);
  const bool ok = ::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0;
  ::close(fd);
  return ok;
}

}  // namespace

Tinyproxy startTinyproxy(NetFixture& net, const std::string& name,
                         const std::vector<uint16_t>& connect_ports) {
  const std::string binary = NetFixture::findExecutable("tinyproxy");
  if (binary.empty()) throw std::runtime_error("tinyproxy not found (apt-get install tinyproxy)");
  Tinyproxy proxy;
  proxy.log_file = net.dir() + "/tinyproxy-" + name + ".log";
  const std::string config_file = net.dir() + "/tinyproxy-" + name + ".conf";
  for (int attempt = 1; attempt <= kAttempts; ++attempt) {
    proxy.port = freeTcpPort();
    {
      std::ofstream config(config_file, std::ios::trunc);
      config << "Port " << proxy.port << "\nListen 127.0.0.1\nTimeout 30\nMaxClients 64\n"
             << "LogLevel Info\nDisableViaHeader Yes\n";
      if (connect_ports.empty()) config << "ConnectPort 1\n";
      for (const uint16_t port : connect_ports) config << "ConnectPort " << port << "\n";
      if (!config) throw std::runtime_error("cannot write " + config_file);
    }
    proxy.pid =
        net.startChild("tinyproxy-" + name, proxy.log_file, {binary, "-d", "-c", config_file});
    const auto deadline = std::chrono::steady_clock::now() + kStartupTimeout;
    while (std::chrono::steady_clock::now() < deadline) {
      if (net.childExited(proxy.pid)) break;  // lost the port: try another one
      if (accepts(proxy.port)) return proxy;
      std::this_thread::sleep_for(kPollInterval);
    }
    if (!net.childExited(proxy.pid)) {
      net.stopChild(proxy.pid);
      throw std::runtime_error("tinyproxy did not listen within 10 s" + logTail(proxy.log_file));
    }
  }
  throw std::runtime_error("tinyproxy failed to start" + logTail(proxy.log_file));
}

}  // namespace gomodprobe::testing
