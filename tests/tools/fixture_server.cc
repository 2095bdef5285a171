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
#include "integration/go_fixture.h"

namespace {

std::string target(const std::string& name, const std::string& url, const std::string& resolvers,
                   const std::string& extra = "") {
  return "  - name: " + name + "\n    kind: http\n    url: " + url + "\n    resolvers: [" +
         resolvers + "]\n    ip_protocol: ip4\n" + extra;
}

}  // namespace

/// --go: the Go module proxy + sumdb fixture, with goproxy, sumdb and chain targets.
int runGo(const std::string& out_path, const sigset_t& signals) {
  gomodprobe::testing::GoModFixture go;
  go.start();
  using gomodprobe::testing::ProxyVariant;
  const std::string ca = go.net().caFile();
  const std::string list = "    path: /rsc.io/quote/@v/list\n";
  const std::string modules =
      "    modules: [rsc.io/quote@v1.5.2, rsc.io/sampler@latest, golang.org/x/text@v0.3.0]\n";
  std::string yaml = "global:\n  interval: 15s\n  timeout: 10s\n  ca_file: " + ca + "\ntargets:\n";
  yaml += "  - name: goproxy-good\n    kind: goproxy\n    url: " + go.proxyUrl() + "\n" + list +
          modules + "    sumdb: \"" + go.sumdbKey() + "\"\n";
  yaml += "  - name: goproxy-tampered\n    kind: goproxy\n    url: " +
          go.proxyUrl(ProxyVariant::kTamperedZip) + "\n" + list +
          "    modules: [rsc.io/quote@v1.5.2]\n    sumdb: \"" + go.sumdbKey() + "\"\n";
  yaml += "  - name: sumdb\n    kind: sumdb\n    url: " + go.sumdbDirectUrl() + "\n    key: \"" +
          go.sumdbKey() + "\"\n    modules: [rsc.io/quote@v1.5.2]\n";
  yaml += "  - name: chain-comma\n    kind: chain\n    goproxy: \"" +
          go.proxyUrl(ProxyVariant::k502) + "," + go.proxyUrl() +
          "\"\n    modules: [rsc.io/quote@v1.5.2]\n";
  yaml += "  - name: chain-pipe\n    kind: chain\n    goproxy: \"" +
          go.proxyUrl(ProxyVariant::k502) + "|" + go.proxyUrl() +
          "\"\n    modules: [rsc.io/quote@v1.5.2]\n    go_env: {GONOPROXY: corp.example.com}\n";
  {
    std::ofstream out(out_path, std::ios::trunc);
    out << yaml;
  }
  std::cout << "go fixture up in " << go.dir() << "; config written to " << out_path << std::endl;
  int sig = 0;
  sigwait(&signals, &sig);
  return 0;
}

int main(int argc, char** argv) {
  const bool go_mode = argc == 3 && std::string(argv[1]) == "--go";
  if (argc != 2 && !go_mode) {
    std::cerr << "usage: gomodprobe_fixture [--go] CONFIG_OUT\n";
    return 2;
  }
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  if (go_mode) return runGo(argv[2], signals);

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
