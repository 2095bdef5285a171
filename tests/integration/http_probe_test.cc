// The HTTP probe against real servers on loopback: nginx (TLS, h2 and h1-only, bad certificates,
// 502), two dnsmasq that disagree on one name, a refused port and a port that never answers.
// Each case asserts the exact failure reason and the values the metrics are made of.

#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <memory>

#include "agent/agent.h"
#include "config/config_loader.h"
#include "integration/fixture.h"
#include "net/handles.h"

namespace gomodprobe {
namespace {

using std::chrono::milliseconds;

class HttpProbeTest : public testing::ProbeSuiteTest {
 protected:
  /// A target on the fixture: `host` resolved by the primary dnsmasq, trusted test CA.
  static TargetConfig target(const std::string& name, const std::string& scheme,
                             const std::string& host, std::uint16_t port,
                             const std::string& path = "/") {
    TargetConfig t;
    t.name = name;
    t.kind = TargetKind::Http;
    t.url = scheme + "://" + host + ":" + std::to_string(port);
    t.path = path;
    t.resolvers = {*config::parseResolver(net_->dnsPrimary())};
    t.ip_protocol = IpProtocol::Ip4;
    t.timeout = milliseconds(3000);
    t.interval = milliseconds(10000);
    t.ca_file = net_->caFile();
    return t;
  }

  static ProbeResult probe(const TargetConfig& t) { return testing::runOnce(t); }

  static void expectBothAttemptsFailWith(const ProbeResult& r, FailureReason reason) {
    EXPECT_FALSE(r.success);
    EXPECT_EQ(toLabel(r.reason), toLabel(reason)) << r.detail;
    ASSERT_EQ(r.http.size(), 2U);
    for (const auto& h : r.http) {
      EXPECT_FALSE(h.success);
      EXPECT_EQ(toLabel(h.reason), toLabel(reason)) << h.detail;
    }
  }
};

TEST_F(HttpProbeTest, Http2PortNegotiatesBothVersionsWithAllPhases) {
  const auto r = probe(target("good-h2", "https", "good.test", net_->h2Port()));
  ASSERT_TRUE(r.success) << r.detail;
  EXPECT_EQ(r.reason, FailureReason::None);
  EXPECT_EQ(r.address, "127.0.0.1");
  ASSERT_EQ(r.dns.size(), 1U);
  EXPECT_EQ(r.dns[0].ipv4, std::vector<std::string>{"127.0.0.1"});
  EXPECT_GT(r.dns[0].duration_seconds, 0.0);
  ASSERT_EQ(r.http.size(), 2U);
  EXPECT_EQ(r.http[0].requested, HttpVersion::Http11);
  EXPECT_DOUBLE_EQ(r.http[0].negotiated_version, 1.1);
  EXPECT_EQ(r.http[1].requested, HttpVersion::Http2);
  EXPECT_DOUBLE_EQ(r.http[1].negotiated_version, 2.0);
  for (const auto& h : r.http) {
    EXPECT_EQ(h.status_code, 200);
    EXPECT_EQ(h.body_bytes, testing::NetFixture::kRootBody.size());
    for (std::size_t p = 0; p < kPhaseCount; ++p) {
      if (static_cast<Phase>(p) == Phase::ProxyConnect) {
        EXPECT_FALSE(h.phases[p].has_value()) << "direct: no proxy_connect phase";
        continue;
      }
      ASSERT_TRUE(h.phases[p].has_value()) << toLabel(static_cast<Phase>(p));
      EXPECT_GE(*h.phases[p], 0.0);
      EXPECT_LT(*h.phases[p], 3.0);
    }
    EXPECT_GT(*h.phases[2], 0.0) << "a TLS handshake takes time";
    // The resolve phase is the c-ares lookup, shared by both attempts.
    EXPECT_DOUBLE_EQ(*h.phases[0], r.dns[0].duration_seconds);
    ASSERT_TRUE(h.tls.has_value());
    EXPECT_EQ(h.tls->version, "TLSv1.3");
    EXPECT_FALSE(h.tls->cipher.empty());
    ASSERT_TRUE(h.tls->not_after.has_value());
    EXPECT_DOUBLE_EQ(*h.tls->not_after, net_->goodCertNotAfter());
  }
}

TEST_F(HttpProbeTest, Http1OnlyServerAnswersHttp2RequestInHttp11) {
  const auto r = probe(target("good-h1", "https", "good.test", net_->h1OnlyPort()));
  ASSERT_TRUE(r.success) << r.detail;
  ASSERT_EQ(r.http.size(), 2U);
  EXPECT_EQ(r.http[1].requested, HttpVersion::Http2);
  EXPECT_DOUBLE_EQ(r.http[1].negotiated_version, 1.1);
}

TEST_F(HttpProbeTest, PlainHttpHasNoTlsPhase) {
  auto t = target("plain", "http", "good.test", net_->plainPort(), "/big");
  t.http_versions = {HttpVersion::Http11};
  const auto r = probe(t);
  ASSERT_TRUE(r.success) << r.detail;
  ASSERT_EQ(r.http.size(), 1U);
  EXPECT_FALSE(r.http[0].phases[2].has_value());
  EXPECT_FALSE(r.http[0].tls.has_value());
  EXPECT_EQ(r.http[0].body_bytes, testing::NetFixture::bigBody().size());
}

TEST_F(HttpProbeTest, ExpiredCertificate) {
  expectBothAttemptsFailWith(probe(target("expired", "https", "good.test", net_->expiredPort())),
                             FailureReason::TlsCertExpired);
}

TEST_F(HttpProbeTest, CertificateForAnotherHost) {
  expectBothAttemptsFailWith(
      probe(target("wrong-host", "https", "good.test", net_->wrongHostPort())),
      FailureReason::TlsHostnameMismatch);
}

TEST_F(HttpProbeTest, CertificateFromUnknownCa) {
  expectBothAttemptsFailWith(
      probe(target("unknown-ca", "https", "good.test", net_->unknownCaPort())),
      FailureReason::TlsCertUntrusted);
}

TEST_F(HttpProbeTest, WithoutTheTestCaTheGoodServerIsUntrusted) {
  auto t = target("no-ca", "https", "good.test", net_->h2Port());
  t.ca_file.clear();
  expectBothAttemptsFailWith(probe(t), FailureReason::TlsCertUntrusted);
}

TEST_F(HttpProbeTest, RefusedPort) {
  const auto r = probe(target("refused", "https", "good.test", net_->refusedPort()));
  expectBothAttemptsFailWith(r, FailureReason::ConnectRefused);
  for (const auto& h : r.http) EXPECT_FALSE(h.phases[1].has_value());
}

TEST_F(HttpProbeTest, ServerThatNeverAnswersTimesOutWithThePhasesReached) {
  auto t = target("hang", "https", "good.test", net_->hangPort());
  t.timeout = milliseconds(700);
  const auto r = probe(t);
  expectBothAttemptsFailWith(r, FailureReason::Timeout);
  for (const auto& h : r.http) {
    EXPECT_TRUE(h.phases[0].has_value()) << "resolve done";
    // The kernel completed the TCP handshake (reason timeout, not connect_timeout), but curl only
    // reports its time once TLS is up, which never happens here.
    EXPECT_FALSE(h.phases[2].has_value()) << "TLS never completed";
    EXPECT_FALSE(h.phases[3].has_value());
  }
  // The run ends at its deadline, not at curl's backstop.
  EXPECT_GE(r.duration_seconds, 0.7);
  EXPECT_LT(r.duration_seconds, 1.5);
}

TEST_F(HttpProbeTest, BadGatewayIsHttpStatus) {
  const auto r = probe(target("bad-gw", "https", "good.test", net_->h2Port(), "/status/502"));
  expectBothAttemptsFailWith(r, FailureReason::HttpStatus);
  for (const auto& h : r.http) EXPECT_EQ(h.status_code, 502);
  EXPECT_DOUBLE_EQ(r.http[1].negotiated_version, 2.0);
}

TEST_F(HttpProbeTest, NxdomainStopsBeforeConnecting) {
  const auto r = probe(target("nx", "https", "missing.test", net_->h2Port()));
  EXPECT_FALSE(r.success);
  EXPECT_EQ(r.reason, FailureReason::DnsNxdomain) << r.detail;
  EXPECT_TRUE(r.http.empty());
  ASSERT_EQ(r.dns.size(), 1U);
  EXPECT_EQ(r.dns[0].reason, FailureReason::DnsNxdomain);
}

TEST_F(HttpProbeTest, NoAaaaRecordIsDnsNoAnswerForIp6) {
  auto t = target("no-aaaa", "https", "good.test", net_->h2Port());
  t.ip_protocol = IpProtocol::Ip6;
  const auto r = probe(t);
  EXPECT_EQ(r.reason, FailureReason::DnsNoAnswer) << r.detail;
  EXPECT_TRUE(r.http.empty());
}

TEST_F(HttpProbeTest, AnyFallsBackToTheFamilyThatAnswered) {
  auto t = target("any", "https", "good.test", net_->h2Port());
  t.ip_protocol = IpProtocol::Any;
  const auto r = probe(t);
  EXPECT_TRUE(r.success) << r.detail;
  EXPECT_EQ(r.address, "127.0.0.1");
}

TEST_F(HttpProbeTest, ServfailFromTheResolver) {
  const auto r = probe(target("servfail", "https", "servfail.test", net_->h2Port()));
  EXPECT_EQ(r.reason, FailureReason::DnsServfail) << r.detail;
}

TEST_F(HttpProbeTest, SilentResolverIsDnsTimeout) {
  // A UDP socket that is bound but never read: queries vanish.
  const int fd = ::socket(AF_INET, SOCK_DGRAM, 0);
  ASSERT_GE(fd, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  socklen_t len = sizeof addr;
  ASSERT_EQ(::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len), 0);
  auto t = target("silent-dns", "https", "good.test", net_->h2Port());
  t.resolvers = {*config::parseResolver("127.0.0.1:" + std::to_string(ntohs(addr.sin_port)))};
  t.timeout = milliseconds(600);
  const auto r = probe(t);
  ::close(fd);
  EXPECT_EQ(r.reason, FailureReason::DnsTimeout) << r.detail;
  EXPECT_TRUE(r.http.empty());
  EXPECT_LT(r.duration_seconds, 1.5);
}

TEST_F(HttpProbeTest, ResolversThatDisagreeAreReported) {
  auto split = target("split", "https", "split.test", net_->h2Port());
  split.resolvers.push_back(*config::parseResolver(net_->dnsSecondary()));
  const auto r = probe(split);
  EXPECT_TRUE(r.success) << "the primary's answer feeds the connection: " << r.detail;
  ASSERT_EQ(r.dns.size(), 2U);
  EXPECT_EQ(r.dns[0].ipv4, std::vector<std::string>{"127.0.0.1"});
  EXPECT_EQ(r.dns[1].ipv4, std::vector<std::string>{"127.0.0.2"});
  ASSERT_TRUE(r.resolvers_agree.has_value());
  EXPECT_FALSE(*r.resolvers_agree);

  auto good = target("agree", "https", "good.test", net_->h2Port());
  good.resolvers.push_back(*config::parseResolver(net_->dnsSecondary()));
  const auto g = probe(good);
  ASSERT_TRUE(g.resolvers_agree.has_value());
  EXPECT_TRUE(*g.resolvers_agree);
}

TEST_F(HttpProbeTest, ManyTargetsRunConcurrentlyUnderTheCap) {
  Config config;
  config.global.max_concurrent_probes = 3;
  for (int i = 0; i < 12; ++i) {
    config.targets.push_back(target("t" + std::to_string(i), "https", "good.test", net_->h2Port()));
  }
  config.targets.push_back(target("bad", "https", "good.test", net_->expiredPort()));
  SystemClock clock;
  const auto results = agent::runOnce(config, clock);
  ASSERT_EQ(results.size(), 13U);
  for (int i = 0; i < 12; ++i) {
    EXPECT_EQ(results[static_cast<std::size_t>(i)].target, "t" + std::to_string(i));
    EXPECT_TRUE(results[static_cast<std::size_t>(i)].success);
  }
  EXPECT_EQ(results.back().reason, FailureReason::TlsCertExpired);
}

}  // namespace
}  // namespace gomodprobe
