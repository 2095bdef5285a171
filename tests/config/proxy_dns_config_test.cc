#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "config/config_loader.h"
#include "mocks/fake_env.h"

namespace gomodprobe::config {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Not;

using gomodprobe::testing::fakeEnv;

ConfigError parseError(std::string_view yaml, const EnvLookup& env = fakeEnv({})) {
  try {
    (void)parseConfig(yaml, "test.yml", env);
  } catch (const ConfigError& e) {
    return e;
  }
  ADD_FAILURE() << "no ConfigError for:\n" << yaml;
  return ConfigError("", -1, -1, "");
}

TEST(ProxyConfigTest, TargetProxyOverridesGlobalAndSchemelessMeansHttp) {
  const Config config = parseConfig(R"(global:
  proxy_url: proxy.corp:3128
targets:
  - {name: a, kind: http, url: "https://a.example"}
  - {name: b, kind: goproxy, url: "https://b.example", proxy_url: "https://u:p@p2.corp:8443/"}
  - {name: c, kind: sumdb, url: "https://c.example", proxy_url: ""}
  - {name: d, kind: dns, names: [d.example]}
)",
                                    "test.yml", fakeEnv({}));
  ASSERT_EQ(config.targets.size(), 4U);
  EXPECT_EQ(config.targets[0].proxy_url, "http://proxy.corp:3128");
  EXPECT_EQ(config.targets[1].proxy_url, "https://u:p@p2.corp:8443");
  EXPECT_EQ(config.targets[2].proxy_url, "");  // explicitly direct
  EXPECT_EQ(config.targets[3].proxy_url, "");  // dns kind: no HTTP
}

TEST(ProxyConfigTest, FromEnvironmentCapturesVariablesAtLoadLowerCaseFirst) {
  const Config config = parseConfig(R"(global:
  proxy_from_environment: true
targets:
  - {name: a, kind: http, url: "https://a.example"}
  - {name: b, kind: http, url: "https://b.example", proxy_from_environment: false}
)",
                                    "test.yml",
                                    fakeEnv({{"https_proxy", "http://lower:3128"},
                                             {"HTTPS_PROXY", "http://upper:3128"},
                                             {"HTTP_PROXY", "upper-http:8080"},
                                             {"NO_PROXY", ".corp.example,10.0.0.0/8"}}));
  const TargetConfig& a = config.targets[0];
  EXPECT_TRUE(a.proxy_from_environment);
  EXPECT_EQ(a.proxy_env.https_proxy, "http://lower:3128");
  EXPECT_EQ(a.proxy_env.http_proxy, "http://upper-http:8080");
  EXPECT_EQ(a.proxy_env.no_proxy, ".corp.example,10.0.0.0/8");
  EXPECT_FALSE(config.targets[1].proxy_from_environment);
  EXPECT_EQ(config.targets[1].proxy_env, ProxyEnv{});
}

TEST(ProxyConfigTest, BadProxyUrlsAreLocatedAndNeverShowCredentials) {
  const auto ftp = parseError(R"(targets:
  - name: a
    kind: http
    url: https://a.example
    proxy_url: "ftp://user:hunter2@proxy:21"
)");
  EXPECT_EQ(ftp.line(), 5);
  EXPECT_EQ(ftp.column(), 16);
  EXPECT_THAT(ftp.message(), HasSubstr("proxy scheme must be http or https"));
  EXPECT_THAT(ftp.what(), Not(HasSubstr("hunter2")));
  EXPECT_THAT(ftp.what(), HasSubstr("ftp://proxy:21"));

  const auto socks = parseError(R"(global:
  proxy_url: socks5h://proxy:1080
)");
  EXPECT_EQ(socks.line(), 2);
  EXPECT_THAT(socks.message(), HasSubstr("socks proxies are not supported"));

  const auto path = parseError("global:\n  proxy_url: http://proxy:3128/x\n");
  EXPECT_THAT(path.message(), HasSubstr("must not have a path"));
  const auto port = parseError("global:\n  proxy_url: http://proxy:99999\n");
  EXPECT_THAT(port.message(), HasSubstr("invalid port"));

  const auto both = parseError(R"(global:
  proxy_url: http://proxy:3128
  proxy_from_environment: true
)");
  EXPECT_EQ(both.line(), 3);
  EXPECT_THAT(both.message(), HasSubstr("exclude each other"));

  const auto not_bool = parseError("global:\n  proxy_from_environment: yes please\n");
  EXPECT_THAT(not_bool.message(), HasSubstr("must be true or false"));

  const auto bad_env = parseError(R"(targets:
  - name: a
    kind: http
    url: https://a.example
    proxy_from_environment: true
)",
                                  fakeEnv({{"HTTPS_PROXY", "gopher://me:pw@proxy:70"}}));
  EXPECT_EQ(bad_env.line(), 5);
  EXPECT_THAT(bad_env.message(), HasSubstr("HTTPS_PROXY="));
  EXPECT_THAT(bad_env.what(), Not(HasSubstr("pw@")));

  const auto on_dns = parseError(
      "targets:\n  - {name: d, kind: dns, names: [a.example], proxy_url: \"http://p:1\"}\n");
  EXPECT_THAT(on_dns.message(), HasSubstr("does not apply to kind dns"));
}

TEST(DnsKindConfigTest, ParsesNamesTypesAndResolvers) {
  const Config config = parseConfig(R"(targets:
  - name: dns-split
    kind: dns
    names: [proxy.golang.org, sum.golang.org]
    resolvers: [system, 8.8.8.8, "127.0.0.1:5353"]
    record_types: [A, aaaa, CNAME]
  - {name: defaults, kind: dns, names: [example.org.]}
)",
                                    "test.yml", fakeEnv({}));
  const TargetConfig& t = config.targets[0];
  EXPECT_EQ(t.kind, TargetKind::Dns);
  EXPECT_THAT(t.names, ElementsAre("proxy.golang.org", "sum.golang.org"));
  EXPECT_THAT(t.record_types,
              ElementsAre(DnsRecordType::A, DnsRecordType::Aaaa, DnsRecordType::Cname));
  EXPECT_EQ(t.resolvers.size(), 3U);
  EXPECT_THAT(config.targets[1].record_types, ElementsAre(DnsRecordType::A, DnsRecordType::Aaaa));
}

TEST(DnsKindConfigTest, RejectsBadDnsTargets) {
  EXPECT_THAT(parseError("targets:\n  - {name: d, kind: dns}\n").message(),
              HasSubstr("missing the required key \"names\""));
  const auto type =
      parseError("targets:\n  - {name: d, kind: dns, names: [a.b], record_types: [MX]}\n");
  EXPECT_EQ(type.line(), 2);
  EXPECT_THAT(type.message(), HasSubstr("invalid record type \"MX\""));
  EXPECT_THAT(parseError("targets:\n  - {name: d, kind: dns, names: [\"a b\"]}\n").message(),
              HasSubstr("invalid DNS name"));
  EXPECT_THAT(parseError("targets:\n  - {name: d, kind: dns, names: [a.b, a.b]}\n").message(),
              HasSubstr("duplicate DNS name"));
  EXPECT_THAT(parseError("targets:\n  - {name: d, kind: dns, names: [a.b], url: \"https://x\"}\n")
                  .message(),
              HasSubstr("does not apply to kind dns"));
}

}  // namespace
}  // namespace gomodprobe::config
