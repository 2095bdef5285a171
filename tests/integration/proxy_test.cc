// HTTP(S) proxies with real tinyproxy instances: one allowing CONNECT to the fixture's TLS ports,
// one refusing it (403). Each test runs in private namespaces (test_namespace.h) where
// "proxy.test" is 127.0.0.1 in /etc/hosts, so tinyproxy and the go command resolve the target's
// name themselves (the go command never proxies loopback IP literals) while gomodprobe's own
// lookups go to the fixture's dnsmasq (which knows proxy.test too).

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <prometheus/text_serializer.h>

#include <memory>
#include <nlohmann/json.hpp>
#include <sstream>

#include "agent/agent.h"
#include "agent/report.h"
#include "config/config_loader.h"
#include "integration/fixture.h"
#include "integration/go_fixture.h"
#include "integration/proxy_fixture.h"
#include "integration/test_namespace.h"
#include "metrics/probe_collector.h"
#include "net/handles.h"

namespace gomodprobe {
namespace {

using std::chrono::milliseconds;
using ::testing::HasSubstr;
using ::testing::Not;

std::size_t idx(Phase p) { return static_cast<std::size_t>(p); }

std::size_t countConnects(const testing::Tinyproxy& proxy, const std::string& authority) {
  const std::string log = testing::readFile(proxy.log_file);
  std::size_t count = 0;
  for (auto pos = log.find("CONNECT " + authority); pos != std::string::npos;
       pos = log.find("CONNECT " + authority, pos + 1)) {
    ++count;
  }
  return count;
}

class ProxyTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (auto error = testing::enterTestNamespaces({{"127.0.0.1", "proxy.test"}})) {
      GTEST_FAIL() << *error;
    }
    libraries_ = std::make_unique<net::NetLibraries>();
    net_ = std::make_unique<testing::NetFixture>();
    net_->start();
    allow_ = testing::startTinyproxy(*net_, "allow", {net_->h2Port()});
    deny_ = testing::startTinyproxy(*net_, "deny", {});
  }
  void TearDown() override {
    net_.reset();
    libraries_.reset();
  }

  TargetConfig target(const std::string& proxy_url) const {
    TargetConfig t;
    t.name = "proxied";
    t.kind = TargetKind::Http;
    t.url = "https://proxy.test:" + std::to_string(net_->h2Port());
    t.path = "/";
    t.resolvers = {*config::parseResolver(net_->dnsPrimary())};
    t.timeout = milliseconds(5000);
    t.interval = milliseconds(10000);
    t.ca_file = net_->caFile();
    t.proxy_url = proxy_url;
    return t;
  }
  std::string authority() const { return "proxy.test:" + std::to_string(net_->h2Port()); }

  std::unique_ptr<net::NetLibraries> libraries_;
  std::unique_ptr<testing::NetFixture> net_;
  testing::Tinyproxy allow_;
  testing::Tinyproxy deny_;
};

TEST_F(ProxyTest, AllowingProxyGivesProxyConnectPhaseAndNoResolve) {
  const auto t = target(allow_.url());
  const auto r = testing::runOnce(t);
  ASSERT_TRUE(r.success) << r.detail;
  EXPECT_EQ(r.proxy, allow_.url());
  EXPECT_TRUE(r.dns.empty());  // the proxy resolved proxy.test
  ASSERT_EQ(r.http.size(), 2U);
  for (const auto& h : r.http) {
    EXPECT_EQ(h.status_code, 200);
    EXPECT_FALSE(h.phases[idx(Phase::Resolve)].has_value());
    ASSERT_TRUE(h.phases[idx(Phase::ProxyConnect)].has_value());
    EXPECT_GT(*h.phases[idx(Phase::ProxyConnect)], 0);
    EXPECT_TRUE(h.phases[idx(Phase::Connect)].has_value());
    EXPECT_TRUE(h.phases[idx(Phase::Tls)].has_value());
    EXPECT_TRUE(h.tls.has_value());  // the target's TLS, not skipped by the CONNECT answer
  }
  EXPECT_EQ(r.http[1].negotiated_version, 2);  // h2 through the tunnel
  // Both attempts really went through tinyproxy.
  EXPECT_EQ(countConnects(allow_, authority()), 2U);

  const std::string text = testing::metricsText(t, r);
  EXPECT_THAT(text, HasSubstr("gomodprobe_proxy_info{target=\"proxied\",proxy=\"" + allow_.url() +
                              "\",dns=\"proxy\"} 1"));
  EXPECT_THAT(text, HasSubstr("phase=\"proxy_connect\",http_version=\"1.1\""));
  EXPECT_THAT(text, Not(HasSubstr("phase=\"resolve\"")));
  EXPECT_THAT(text, Not(HasSubstr("gomodprobe_dns_lookup_duration_seconds{")));

  // The same target without the proxy: resolve phase, no proxy_connect.
  const auto direct = testing::runOnce(target(""));
  ASSERT_TRUE(direct.success) << direct.detail;
  EXPECT_TRUE(direct.proxy.empty());
  ASSERT_EQ(direct.dns.size(), 1U);
  EXPECT_TRUE(direct.http[0].phases[idx(Phase::Resolve)].has_value());
  EXPECT_FALSE(direct.http[0].phases[idx(Phase::ProxyConnect)].has_value());
  EXPECT_EQ(countConnects(allow_, authority()), 2U);
}

TEST_F(ProxyTest, RefusedConnectIsProxyError) {
  const auto r = testing::runOnce(target(deny_.url()));
  EXPECT_FALSE(r.success);
  EXPECT_EQ(toLabel(r.reason), "proxy_error") << r.detail;
  EXPECT_THAT(r.detail, HasSubstr("refused CONNECT: HTTP 403"));
  ASSERT_EQ(r.http.size(), 2U);
  for (const auto& h : r.http) {
    EXPECT_EQ(h.reason, FailureReason::ProxyError);
    EXPECT_TRUE(h.phases[idx(Phase::ProxyConnect)].has_value());  // reached, answered 403
    EXPECT_FALSE(h.phases[idx(Phase::Tls)].has_value());
  }
  EXPECT_EQ(countConnects(deny_, authority()), 2U);
}

TEST_F(ProxyTest, UnreachableProxyIsProxyError) {
  const auto r =
      testing::runOnce(target("http://127.0.0.1:" + std::to_string(net_->refusedPort())));
  EXPECT_EQ(toLabel(r.reason), "proxy_error") << r.detail;
  EXPECT_THAT(r.detail, HasSubstr("connect refused to proxy http://127.0.0.1:"));
}

TEST_F(ProxyTest, ProxyCredentialsNeverLeave) {
  const std::string secret = "s3cr3t-pw";
  const std::string with_credentials =
      "http://probe-user:" + secret + "@127.0.0.1:" + std::to_string(deny_.port);
  const auto t = target(with_credentials);
  const auto r = testing::runOnce(t);
  EXPECT_EQ(r.reason, FailureReason::ProxyError) << r.detail;
  EXPECT_EQ(r.proxy, deny_.url());
  const std::string surfaces =
      r.detail + testing::metricsText(t, r) + agent::formatText({r}) + agent::toJson({r}).dump();
  EXPECT_THAT(surfaces, Not(HasSubstr(secret)));
  EXPECT_THAT(surfaces, Not(HasSubstr("probe-user")));
  EXPECT_THAT(surfaces, HasSubstr(deny_.url()));
}

TEST_F(ProxyTest, ProxyFromEnvironmentHonoursNoProxy) {
  const auto load = [this](const std::string& https_proxy, const std::string& no_proxy) {
    const std::string yaml = "targets:\n  - name: env\n    kind: http\n    url: https://" +
                             authority() + "\n    resolvers: [\"" + net_->dnsPrimary() +
                             "\"]\n    ca_file: " + net_->caFile() +
                             "\n    proxy_from_environment: true\n";
    const config::EnvLookup env = [=](std::string_view name) -> std::optional<std::string> {
      if (name == "HTTPS_PROXY") return https_proxy;
      if (name == "NO_PROXY") return no_proxy;
      return std::nullopt;
    };
    return config::parseConfig(yaml, "env.yml", env).targets.at(0);
  };
  // The denying proxy would fail the run: success means NO_PROXY sent it direct.
  const auto direct = testing::runOnce(load(deny_.url(), "example.com, .proxy.test"));
  EXPECT_TRUE(direct.success) << direct.detail;
  EXPECT_TRUE(direct.proxy.empty());
  EXPECT_EQ(direct.dns.size(), 1U);
  EXPECT_EQ(countConnects(deny_, authority()), 0U);

  const auto proxied = testing::runOnce(load(deny_.url(), "example.com,127.0.0.0/8"));
  EXPECT_EQ(toLabel(proxied.reason), "proxy_error") << proxied.detail;
  EXPECT_EQ(proxied.proxy, deny_.url());
  EXPECT_EQ(countConnects(deny_, authority()), 2U);

  const auto allowed = testing::runOnce(load(allow_.url(), ""));
  EXPECT_TRUE(allowed.success) << allowed.detail;
  EXPECT_EQ(allowed.proxy, allow_.url());
}

// The go command and gomodprobe through the same proxies: both succeed through the allowing
// one, both fail through the denying one.
class GoProxyThroughProxyTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (auto error = testing::enterTestNamespaces({{"127.0.0.1", "proxy.test"}})) {
      GTEST_FAIL() << *error;
    }
    libraries_ = std::make_unique<net::NetLibraries>();
    go_ = std::make_unique<testing::GoModFixture>();
    go_->start();
    allow_ = testing::startTinyproxy(go_->net(), "allow", {go_->port()});
    deny_ = testing::startTinyproxy(go_->net(), "deny", {});
  }
  void TearDown() override {
    go_.reset();
    libraries_.reset();
  }

  std::string goproxyUrl() const {
    return "https://proxy.test:" + std::to_string(go_->port()) + "/goproxy";
  }
  TargetConfig goproxyTarget(const std::string& proxy_url) const {
    TargetConfig t;
    t.name = "goproxy-via-proxy";
    t.kind = TargetKind::GoProxy;
    t.url = goproxyUrl();
    t.path = "/rsc.io/quote/@v/list";
    t.http_versions = {HttpVersion::Http11};
    t.resolvers = {*config::parseResolver(go_->net().dnsPrimary())};
    t.modules = {{"rsc.io/quote", "v1.5.2"}};
    t.go_sum = go_->gosumLines();
    t.timeout = milliseconds(15000);
    t.interval = milliseconds(30000);
    t.ca_file = go_->net().caFile();
    t.proxy_url = proxy_url;
    return t;
  }
  testing::GoRunResult goDownload(const testing::Tinyproxy& proxy) const {
    return go_->runGo(
        {"mod", "download", "-json", "rsc.io/quote@v1.5.2"},
        {"GOPROXY=" + goproxyUrl(), "GOSUMDB=off", "HTTPS_PROXY=" + proxy.url(), "NO_PROXY="});
  }
  std::string authority() const { return "proxy.test:" + std::to_string(go_->port()); }

  std::unique_ptr<net::NetLibraries> libraries_;
  std::unique_ptr<testing::GoModFixture> go_;
  testing::Tinyproxy allow_;
  testing::Tinyproxy deny_;
};

TEST_F(GoProxyThroughProxyTest, VerdictAgreesWithTheGoCommand) {
  // Allowing proxy: both succeed, both went through it.
  const auto ok = testing::runOnce(goproxyTarget(allow_.url()));
  EXPECT_TRUE(ok.success) << ok.detail;
  EXPECT_EQ(ok.proxy, allow_.url());
  EXPECT_TRUE(ok.dns.empty());
  ASSERT_EQ(ok.modules.size(), 1U);
  EXPECT_EQ(ok.modules[0].hash_match, std::optional<bool>(true));
  ASSERT_EQ(ok.http.size(), 1U);
  EXPECT_TRUE(ok.http[0].phases[idx(Phase::ProxyConnect)].has_value());
  EXPECT_FALSE(ok.http[0].phases[idx(Phase::Resolve)].has_value());
  const std::size_t probe_connects = countConnects(allow_, authority());
  EXPECT_GE(probe_connects, 5U);  // list check + list, info, mod, zip

  const auto go_ok = goDownload(allow_);
  EXPECT_EQ(go_ok.exit_code, 0) << go_ok.output;
  EXPECT_GT(countConnects(allow_, authority()), probe_connects);  // go used the proxy too

  // Denying proxy: both fail.
  const auto refused = testing::runOnce(goproxyTarget(deny_.url()));
  EXPECT_FALSE(refused.success);
  EXPECT_EQ(toLabel(refused.reason), "proxy_error") << refused.detail;
  const auto go_refused = goDownload(deny_);
  EXPECT_NE(go_refused.exit_code, 0) << go_refused.output;
  EXPECT_GE(countConnects(deny_, authority()), 2U);

  // A chain target through the allowing proxy serves the module from entry 0, as go does.
  TargetConfig chain = goproxyTarget(allow_.url());
  chain.kind = TargetKind::Chain;
  chain.goproxy = goproxyUrl();
  chain.go_sum.clear();
  const auto c = testing::runOnce(chain);
  EXPECT_TRUE(c.success) << c.detail;
  EXPECT_EQ(c.proxy, allow_.url());
  ASSERT_EQ(c.chain_entries.size(), 1U);
  EXPECT_EQ(c.chain_entries[0], 0);
  chain.proxy_url = deny_.url();
  const auto c_refused = testing::runOnce(chain);
  EXPECT_FALSE(c_refused.success);
  EXPECT_EQ(toLabel(c_refused.reason), "proxy_error") << c_refused.detail;
}

}  // namespace
}  // namespace gomodprobe
