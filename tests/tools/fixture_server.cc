// gomodprobe_fixture: starts the integration fixture (nginx, two dnsmasq, refused and hanging
// ports on 127.0.0.1) and writes a gomodprobe config with one target per behaviour, then waits for
// SIGINT/SIGTERM. For running the agent by hand against real servers:
//   build/tests/gomodprobe_fixture /tmp/fixture.yml &
//   build/src/gomodprobe --config.file /tmp/fixture.yml

#include <csignal>
#include <fstream>
#include <iostream>
#include <string>

#include "integration/fixture.h"

namespace {

std::string target(const std::string& name, const std::string& url, const std::string& resolvers,
                   const std::string& extra = "") {
  return "  - name: " + name + "\n    kind: http\n    url: " + url + "\n    resolvers: [" +
         resolvers + "]\n    ip_protocol: ip4\n" + extra;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::cerr << "usage: gomodprobe_fixture CONFIG_OUT\n";
    return 2;
  }
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  gomodprobe::testing::NetFixture net;
  net.start();
  const std::string dns = "\"" + net.dnsPrimary() + "\"";
  const std::string both = dns + ", \"" + net.dnsSecondary() + "\"";
  auto https = [](const std::string& host, std::uint16_t port) {
    return "https://" + host + ":" + std::to_string(port);
  };
  std::string yaml =
      "global:\n  interval: 5s\n  timeout: 2s\n  ca_file: " + net.caFile() + "\ntargets:\n";
  yaml += target("h2", https("good.test", net.h2Port()), dns);
  yaml += target("h1only", https("good.test", net.h1OnlyPort()), dns);
  yaml += target("plain", "http://good.test:" + std::to_string(net.plainPort()), dns,
                 "    http_versions: [\"1.1\"]\n");
  yaml += target("goproxy-list", https("proxy.test", net.h2Port()), dns,
                 "    path: /golang.org/x/text/@v/list\n");
  yaml += target("big", https("good.test", net.h2Port()), dns, "    path: /big\n");
  yaml += target("expired", https("good.test", net.expiredPort()), dns);
  yaml += target("wronghost", https("good.test", net.wrongHostPort()), dns);
  yaml += target("unknownca", https("good.test", net.unknownCaPort()), dns);
  yaml += target("refused", https("good.test", net.refusedPort()), dns);
  yaml += target("hang", https("good.test", net.hangPort()), dns);
  yaml += target("badgw", https("good.test", net.h2Port()), dns, "    path: /status/502\n");
  yaml += target("nx", https("nothere.test", net.h2Port()), dns);
  yaml += target("servfail", https("servfail.test", net.h2Port()), dns);
  yaml += target("split", https("split.test", net.h2Port()), both);
  {
    std::ofstream out(argv[1], std::ios::trunc);
    out << yaml;
  }
  std::cout << "fixture up in " << net.dir() << "; config written to " << argv[1] << std::endl;
  int sig = 0;
  sigwait(&signals, &sig);
  return 0;
}
