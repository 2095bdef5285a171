// The real gomodprobe binary against the fixture: `check` output and exit codes, `--config.check`,
// and the daemon: /metrics (through `promtool check metrics`), /-/healthy, reload by POST and by
// SIGHUP, and a clean exit on SIGTERM.

#include <curl/curl.h>
#include <fcntl.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <map>
#include <memory>
#include <regex>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "integration/fixture.h"

namespace gomodprobe {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

using testing::runCommand;

using testing::httpGet;
using testing::httpPost;
using testing::sample;
using testing::writeFile;

class AgentBinaryTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    net_ = std::make_unique<testing::NetFixture>();
    net_->start();
  }
  static void TearDownTestSuite() { net_.reset(); }

  static std::string targetYaml(const std::string& name, const std::string& url,
                                const std::string& extra = "") {
    return "  - name: " + name + "\n    kind: http\n    url: " + url + "\n    resolvers: [\"" +
           net_->dnsPrimary() + "\"]\n    ip_protocol: ip4\n" + extra;
  }
  static std::string https(const std::string& host, std::uint16_t port) {
    return "https://" + host + ":" + std::to_string(port);
  }
  static std::string configYaml(const std::string& targets, const std::string& interval = "1s",
                                const std::string& timeout = "800ms") {
    return "global:\n  interval: " + interval + "\n  timeout: " + timeout +
           "\n  ca_file: " + net_->caFile() + "\ntargets:\n" + targets;
  }
  /// Eleven targets, one per behaviour the dashboards show.
  static std::string fleetTargets() {
    return targetYaml("h2", https("good.test", net_->h2Port())) +
           targetYaml("h1only", https("good.test", net_->h1OnlyPort())) +
           targetYaml("plain", "http://good.test:" + std::to_string(net_->plainPort()),
                      "    http_versions: [\"1.1\"]\n") +
           targetYaml("list", https("proxy.test", net_->h2Port()),
                      "    path: /golang.org/x/text/@v/list\n") +
           targetYaml("expired", https("good.test", net_->expiredPort())) +
           targetYaml("wronghost", https("good.test", net_->wrongHostPort())) +
           targetYaml("unknownca", https("good.test", net_->unknownCaPort())) +
           targetYaml("refused", https("good.test", net_->refusedPort())) +
           targetYaml("hang", https("good.test", net_->hangPort())) +
           targetYaml("badgw", https("good.test", net_->h2Port()), "    path: /status/502\n") +
           targetYaml("nx", https("nothere.test", net_->h2Port())) +
           "  - name: split\n    kind: http\n    url: " + https("split.test", net_->h2Port()) +
           "\n    resolvers: [\"" + net_->dnsPrimary() + "\", \"" + net_->dnsSecondary() +
           "\"]\n    ip_protocol: ip4\n";
  }

  static inline std::unique_ptr<testing::NetFixture> net_;
};

TEST_F(AgentBinaryTest, CheckPrintsPhasesPerVersionAndExitsOneOnFailure) {
  const std::string good = net_->dir() + "/check-good.yml";
  writeFile(good, configYaml(targetYaml("h2", https("good.test", net_->h2Port())) +
                             targetYaml("h1only", https("good.test", net_->h1OnlyPort()))));
  auto r = runCommand(std::string(GOMODPROBE_BINARY) + " check --config.file " + good);
  EXPECT_EQ(r.exit_code, 0) << r.output;
  EXPECT_THAT(r.output, HasSubstr("http/2   ok   status=200 negotiated=2 "));
  EXPECT_THAT(r.output, HasSubstr("http/1.1 ok   status=200 negotiated=1.1"));
  EXPECT_TRUE(std::regex_search(r.output, std::regex("connect=[0-9.]+ms tls=[0-9.]+ms "
                                                     "processing=[0-9.]+ms transfer=[0-9.]+ms")))
      << r.output;

  const std::string bad = net_->dir() + "/check-bad.yml";
  writeFile(bad, configYaml(targetYaml("h2", https("good.test", net_->h2Port())) +
                            targetYaml("expired", https("good.test", net_->expiredPort()))));
  r = runCommand(std::string(GOMODPROBE_BINARY) + " check --config.file " + bad);
  EXPECT_EQ(r.exit_code, 1) << r.output;
  EXPECT_THAT(r.output, HasSubstr("tls_cert_expired"));

  r = runCommand(std::string(GOMODPROBE_BINARY) + " check --output json --config.file " + bad);
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_THAT(r.output, HasSubstr("\"reason\": \"tls_cert_expired\""));
  EXPECT_THAT(r.output, HasSubstr("\"negotiated_version\": 2.0"));
}

TEST_F(AgentBinaryTest, ConfigCheckReportsFileLineAndColumn) {
  const std::string bad = net_->dir() + "/bad.yml";
  writeFile(bad, "global:\n  interval: 30s\n  timout: 5s\n");
  auto r = runCommand(std::string(GOMODPROBE_BINARY) + " --config.check --config.file " + bad);
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_THAT(r.output, HasSubstr(bad + ":3:3:"));
  EXPECT_THAT(r.output, HasSubstr("timout"));

  const std::string good = net_->dir() + "/good.yml";
  writeFile(good, configYaml(fleetTargets()));
  r = runCommand(std::string(GOMODPROBE_BINARY) + " --config.check --config.file " + good);
  EXPECT_EQ(r.exit_code, 0) << r.output;
  EXPECT_THAT(r.output, HasSubstr("12 targets"));
}

/// The daemon as a child process; its stderr goes to a file we read for the bound port.
testing::Daemon startDaemon(const std::string& config, const std::string& log) {
  return {GOMODPROBE_BINARY,
          {"--config.file", config, "--web.listen-address", "127.0.0.1:0", "--log.level", "debug"},
          log};
}

/// Scrapes until `done(metrics)` holds (bounded by ~15 s); returns the last scrape.
template <typename Pred>
std::string scrapeUntil(const std::string& url, Pred done) {
  std::string last;
  for (int i = 0; i < 300; ++i) {
    last = httpGet(url).body;
    if (done(last)) return last;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));  // polling, bounded
  }
  return last;
}

TEST_F(AgentBinaryTest, DaemonExposesCorrectMetricsAndReloads) {
  const std::string config = net_->dir() + "/daemon.yml";
  writeFile(config, configYaml(fleetTargets()));
  testing::Daemon daemon = startDaemon(config, net_->dir() + "/daemon.log");
  const int port = daemon.port();
  ASSERT_GT(port, 0) << "daemon did not report its port";
  const std::string base = "http://127.0.0.1:" + std::to_string(port);

  EXPECT_EQ(httpGet(base + "/-/healthy").status, 200);
  const std::vector<std::string> names = {"h2",      "h1only",    "plain",     "list",
                                          "expired", "wronghost", "unknownca", "refused",
                                          "hang",    "badgw",     "nx",        "split"};
  // Every target has run twice: its counters and gauges are settled.
  auto all_ran_twice = [&](const std::string& m) {
    for (const auto& n : names) {
      const double runs = sample(m, "gomodprobe_probes_total{target=\"" + n + "\",kind=\"http\"}");
      if (!(runs >= 2)) return false;
    }
    return true;
  };
  const std::string metrics = scrapeUntil(base + "/metrics", all_ran_twice);
  ASSERT_TRUE(all_ran_twice(metrics)) << metrics;

  // promtool agrees the exposition is valid.
  const std::string file = net_->dir() + "/metrics.txt";
  writeFile(file, metrics);
  const auto promtool = runCommand("promtool check metrics < " + file);
  EXPECT_EQ(promtool.exit_code, 0) << promtool.output;

  auto success = [&](const std::string& n) {
    return sample(metrics, "gomodprobe_probe_success{target=\"" + n + "\",kind=\"http\"}");
  };
  for (const auto* ok : {"h2", "h1only", "plain", "list", "split"}) EXPECT_EQ(success(ok), 1) << ok;
  for (const auto* bad : {"expired", "wronghost", "unknownca", "refused", "hang", "badgw", "nx"}) {
    EXPECT_EQ(success(bad), 0) << bad;
  }
  const std::map<std::string, std::string> reasons = {{"expired", "tls_cert_expired"},
                                                      {"wronghost", "tls_hostname_mismatch"},
                                                      {"unknownca", "tls_cert_untrusted"},
                                                      {"refused", "connect_refused"},
                                                      {"hang", "timeout"},
                                                      {"badgw", "http_status"},
                                                      {"nx", "dns_nxdomain"}};
  for (const auto& [target, reason] : reasons) {
    const double failures = sample(metrics, "gomodprobe_probe_failures_total{target=\"" + target +
                                                "\",kind=\"http\",reason=\"" + reason + "\"}");
    const double runs =
        sample(metrics, "gomodprobe_probes_total{target=\"" + target + "\",kind=\"http\"}");
    EXPECT_GE(failures, 2) << target;
    EXPECT_EQ(failures, runs) << target << ": every run failed for the same reason";
  }
  EXPECT_EQ(sample(metrics, "gomodprobe_http_negotiated_version{target=\"h2\",http_version=\"2\"}"),
            2);
  EXPECT_EQ(
      sample(metrics, "gomodprobe_http_negotiated_version{target=\"h1only\",http_version=\"2\"}"),
      1.1);
  EXPECT_EQ(sample(metrics, "gomodprobe_http_status_code{target=\"badgw\",http_version=\"2\"}"),
            502);
  EXPECT_EQ(sample(metrics, "gomodprobe_http_success{target=\"badgw\",http_version=\"1.1\"}"), 0);
  EXPECT_EQ(sample(metrics, "gomodprobe_tls_cert_not_after_timestamp_seconds{target=\"h2\"}"),
            net_->goodCertNotAfter());
  EXPECT_EQ(sample(metrics, "gomodprobe_dns_resolvers_agree{target=\"split\",name=\"split.test\"}"),
            0);
  EXPECT_EQ(sample(metrics, "gomodprobe_dns_answers{target=\"split\",resolver=\"" +
                                net_->dnsSecondary() + "\",family=\"ipv4\"}"),
            1);
  EXPECT_THAT(metrics, HasSubstr("gomodprobe_tls_info{target=\"h2\",version=\"TLSv1.3\""));
  EXPECT_GT(sample(metrics,
                   "gomodprobe_phase_duration_seconds_count{target=\"h2\",phase=\"tls\","
                   "http_version=\"2\"}"),
            0);
  EXPECT_GT(sample(metrics, "gomodprobe_scheduler_lag_seconds_count"), 0);
  EXPECT_EQ(sample(metrics, "gomodprobe_config_last_reload_successful"), 1);
  EXPECT_THAT(metrics, HasSubstr("gomodprobe_build_info{version=\""));

  // A broken config is refused and the running one kept.
  writeFile(config, "targets:\n  - name: x\n    kind: nope\n    url: https://x.test\n");
  const auto reload = httpPost(base + "/-/reload");
  EXPECT_EQ(reload.status, 500);
  EXPECT_THAT(reload.body, HasSubstr(config + ":3:11"));
  std::string after = httpGet(base + "/metrics").body;
  EXPECT_EQ(sample(after, "gomodprobe_config_last_reload_successful"), 0);
  EXPECT_THAT(after, HasSubstr("target=\"h2\""));

  // SIGHUP with a good config: new target set, reload_successful back to 1.
  writeFile(config, configYaml(targetYaml("only", https("good.test", net_->h2Port()))));
  daemon.signal(SIGHUP);
  after = scrapeUntil(base + "/metrics", [](const std::string& m) {
    return sample(m, "gomodprobe_config_last_reload_successful") == 1 &&
           m.find("target=\"h2\"") == std::string::npos &&
           sample(m, "gomodprobe_probes_total{target=\"only\",kind=\"http\"}") >= 1;
  });
  EXPECT_EQ(sample(after, "gomodprobe_config_last_reload_successful"), 1) << after;
  EXPECT_THAT(after, Not(HasSubstr("target=\"h2\"")));
  EXPECT_GE(sample(after, "gomodprobe_probes_total{target=\"only\",kind=\"http\"}"), 1);
  EXPECT_EQ(httpGet(base + "/-/reload").status, 405) << "reload is POST only";

  daemon.signal(SIGTERM);
  EXPECT_EQ(daemon.wait(), 0);
}

}  // namespace
}  // namespace gomodprobe
