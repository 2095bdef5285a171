#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <chrono>
#include <cstdlib>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "config/config_loader.h"
#include "mocks/fake_env.h"

namespace gomodprobe::config {
namespace {

using std::chrono::milliseconds;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

using gomodprobe::testing::fakeEnv;

// (name, url) of every target, in order.
std::vector<std::pair<std::string, std::string>> namesAndUrls(const Config& config) {
  std::vector<std::pair<std::string, std::string>> out;
  for (const TargetConfig& target : config.targets) {
    out.emplace_back(target.name, target.url);
  }
  return out;
}

using NameUrl = std::pair<std::string, std::string>;

TEST(DefaultConfigTest, UnsetEnvironmentGivesProxyGolangOrgAndSumGolangOrg) {
  const Config config = defaultConfig(fakeEnv({}));
  EXPECT_EQ(config.source, "<embedded default>");
  EXPECT_EQ(config.global.interval, milliseconds(30'000));
  EXPECT_EQ(config.global.timeout, milliseconds(10'000));
  EXPECT_THAT(config.global.resolvers, ElementsAre(ResolverSpec{}));
  EXPECT_EQ(config.global.ca_file, "");
  EXPECT_EQ(config.global.max_concurrent_probes, 64);

  ASSERT_EQ(config.targets.size(), 2U);
  const TargetConfig& proxy = config.targets[0];
  EXPECT_EQ(proxy.name, "proxy-golang-org");
  EXPECT_EQ(proxy.kind, TargetKind::GoProxy);
  EXPECT_EQ(proxy.url, "https://proxy.golang.org");
  EXPECT_EQ(proxy.path, "/");
  EXPECT_EQ(proxy.requestUrl(), "https://proxy.golang.org/");
  EXPECT_THAT(proxy.http_versions, ElementsAre(HttpVersion::Http11, HttpVersion::Http2));
  EXPECT_THAT(proxy.resolvers, ElementsAre(ResolverSpec{}));
  EXPECT_EQ(proxy.ip_protocol, IpProtocol::Any);
  EXPECT_EQ(proxy.interval, milliseconds(30'000));
  EXPECT_EQ(proxy.timeout, milliseconds(10'000));
  EXPECT_EQ(proxy.ca_file, "");
  EXPECT_TRUE(proxy.headers.empty());

  const TargetConfig& sumdb = config.targets[1];
  EXPECT_EQ(sumdb.name, "sumdb-sum-golang-org");
  EXPECT_EQ(sumdb.kind, TargetKind::SumDb);
  EXPECT_EQ(sumdb.url, "https://sum.golang.org");
  EXPECT_EQ(sumdb.path, "/latest");
  EXPECT_EQ(sumdb.requestUrl(), "https://sum.golang.org/latest");
  EXPECT_THAT(sumdb.resolvers, ElementsAre(ResolverSpec{}));
  EXPECT_EQ(sumdb.interval, milliseconds(30'000));
  EXPECT_EQ(sumdb.timeout, milliseconds(10'000));
}

TEST(DefaultConfigTest, EmptyVariablesMeanTheGoDefaults) {
  const Config config = defaultConfig(fakeEnv({{"GOPROXY", ""}, {"GOSUMDB", ""}}));
  EXPECT_THAT(namesAndUrls(config),
              ElementsAre(NameUrl{"proxy-golang-org", "https://proxy.golang.org"},
                          NameUrl{"sumdb-sum-golang-org", "https://sum.golang.org"}));
}

TEST(DefaultConfigTest, ReadsTheGoVariablesAndTheProxyVariablesInBothCases) {
  std::vector<std::string> asked;
  const EnvLookup recording = [&asked](std::string_view name) -> std::optional<std::string> {
    asked.emplace_back(name);
    return std::nullopt;
  };
  (void)defaultConfig(recording);
  EXPECT_THAT(asked, ElementsAre("GOPROXY", "GOSUMDB", "GONOPROXY", "GONOSUMDB", "GOPRIVATE",
                                 "GOINSECURE", "GOVCS", "HTTPS_PROXY", "https_proxy", "HTTP_PROXY",
                                 "http_proxy", "NO_PROXY", "no_proxy", "SSL_CERT_FILE"));
}

TEST(DefaultConfigTest, CommaAndPipeBothSeparateProxies) {
  const Config config =
      defaultConfig(fakeEnv({{"GOPROXY", "https://goproxy.cn,https://proxy.golang.org|direct"}}));
  EXPECT_THAT(namesAndUrls(config),
              ElementsAre(NameUrl{"goproxy-cn", "https://goproxy.cn"},
                          NameUrl{"proxy-golang-org", "https://proxy.golang.org"},
                          NameUrl{"sumdb-sum-golang-org", "https://sum.golang.org"}));
  EXPECT_EQ(config.targets[0].kind, TargetKind::GoProxy);
  EXPECT_EQ(config.targets[1].kind, TargetKind::GoProxy);
}

TEST(DefaultConfigTest, EntryWithoutSchemeGetsHttpsAndLosesTrailingSlash) {
  const Config config = defaultConfig(fakeEnv(
      {{"GOPROXY", "goproxy.io/,http://athens.internal:3000/mirror/"}, {"GOSUMDB", "off"}}));
  EXPECT_THAT(namesAndUrls(config),
              ElementsAre(NameUrl{"goproxy-io", "https://goproxy.io"},
                          NameUrl{"athens-internal", "http://athens.internal:3000/mirror"}));
  EXPECT_EQ(config.targets[1].requestUrl(), "http://athens.internal:3000/mirror/");
}

TEST(DefaultConfigTest, SkipsDirectOffAndEmptyEntries) {
  EXPECT_THAT(namesAndUrls(defaultConfig(fakeEnv({{"GOPROXY", "direct"}, {"GOSUMDB", "off"}}))),
              ElementsAre());
  EXPECT_THAT(namesAndUrls(defaultConfig(fakeEnv({{"GOPROXY", "off"}, {"GOSUMDB", "off"}}))),
              ElementsAre());
  EXPECT_THAT(namesAndUrls(defaultConfig(
                  fakeEnv({{"GOPROXY", ",,https://a.example,|direct|,off"}, {"GOSUMDB", "off"}}))),
              ElementsAre(NameUrl{"a-example", "https://a.example"}));
}

TEST(DefaultConfigTest, TrimsSpacesAroundEntriesLikeTheGoCommand) {
  // proxy.go's proxyList trims each entry (lint-env still warns: not every tool does).
  const Config config = defaultConfig(
      fakeEnv({{"GOPROXY", "https://b.example, https://a.example"}, {"GOSUMDB", "off"}}));
  EXPECT_THAT(namesAndUrls(config), ElementsAre(NameUrl{"b-example", "https://b.example"},
                                                NameUrl{"a-example", "https://a.example"}));
}

TEST(DefaultConfigTest, EntriesAfterDirectAreNeverConsulted) {
  const Config config = defaultConfig(
      fakeEnv({{"GOPROXY", "https://a.example,direct,https://b.example"}, {"GOSUMDB", "off"}}));
  EXPECT_THAT(namesAndUrls(config), ElementsAre(NameUrl{"a-example", "https://a.example"}));
}

TEST(DefaultConfigTest, SumDbGoesThroughTheProxiesUnlessGoSumDbNamesAUrl) {
  const Config through = defaultConfig(fakeEnv({{"GOPROXY", "https://a.example|direct"}}));
  ASSERT_EQ(through.targets.size(), 2U);
  EXPECT_EQ(through.targets[1].kind, TargetKind::SumDb);
  EXPECT_EQ(through.targets[1].goproxy, "https://a.example|direct");
  EXPECT_EQ(through.targets[1].key, kSumGolangOrgKey);

  const Config explicit_url = defaultConfig(fakeEnv(
      {{"GOPROXY", "https://a.example"}, {"GOSUMDB", "sum.golang.org https://sum.example"}}));
  ASSERT_EQ(explicit_url.targets.size(), 2U);
  EXPECT_EQ(explicit_url.targets[1].url, "https://sum.example");
  EXPECT_EQ(explicit_url.targets[1].goproxy, "");

  const Config no_proxy = defaultConfig(fakeEnv({{"GOPROXY", "direct"}}));
  ASSERT_EQ(no_proxy.targets.size(), 1U);
  EXPECT_EQ(no_proxy.targets[0].goproxy, "");
}

TEST(DefaultConfigTest, SkipsFileUrls) {
  const Config config = defaultConfig(
      fakeEnv({{"GOPROXY", "file:///srv/goproxy,https://proxy.golang.org"}, {"GOSUMDB", "off"}}));
  EXPECT_THAT(namesAndUrls(config),
              ElementsAre(NameUrl{"proxy-golang-org", "https://proxy.golang.org"}));
}

TEST(DefaultConfigTest, SameHostTwiceGetsNumberedNames) {
  const Config config = defaultConfig(fakeEnv(
      {{"GOPROXY", "https://proxy.example/a,https://proxy.example/b|http://proxy.example:8080"},
       {"GOSUMDB", "off"}}));
  EXPECT_THAT(namesAndUrls(config),
              ElementsAre(NameUrl{"proxy-example", "https://proxy.example/a"},
                          NameUrl{"proxy-example-2", "https://proxy.example/b"},
                          NameUrl{"proxy-example-3", "http://proxy.example:8080"}));
}

TEST(DefaultConfigTest, Ipv6ProxyHostMakesAValidName) {
  const Config config =
      defaultConfig(fakeEnv({{"GOPROXY", "http://[::1]:3000"}, {"GOSUMDB", "off"}}));
  ASSERT_EQ(config.targets.size(), 1U);
  EXPECT_EQ(config.targets[0].url, "http://[::1]:3000");
  EXPECT_EQ(config.targets[0].name, "--1");
}

TEST(DefaultConfigTest, InvalidProxyUrlIsAConfigErrorNamingTheEntry) {
  try {
    (void)defaultConfig(fakeEnv({{"GOPROXY", "https://:443,direct"}}));
    FAIL() << "no ConfigError";
  } catch (const ConfigError& e) {
    EXPECT_EQ(e.file(), "<embedded default>");
    EXPECT_EQ(e.line(), 0);
    EXPECT_THAT(e.message(), HasSubstr("GOPROXY entry \"https://:443\""));
    EXPECT_THAT(e.message(), HasSubstr("must have a host"));
  }
}

TEST(DefaultConfigTest, GoSumDbOffMeansNoSumDbTarget) {
  const Config config = defaultConfig(fakeEnv({{"GOSUMDB", "off"}}));
  EXPECT_THAT(namesAndUrls(config),
              ElementsAre(NameUrl{"proxy-golang-org", "https://proxy.golang.org"}));
}

TEST(DefaultConfigTest, GoSumDbForms) {
  const struct {
    std::string_view gosumdb;
    std::string_view name;
    std::string_view url;
  } kCases[] = {
      {"sum.golang.org", "sumdb-sum-golang-org", "https://sum.golang.org"},
      {"sum.golang.google.cn", "sumdb-sum-golang-google-cn", "https://sum.golang.google.cn"},
      {"sum.golang.org+033de0ae+Ac4zctda0e5eza+HJyk9SxEdh+s3Ux18htTTAD8OuAn8",
       "sumdb-sum-golang-org", "https://sum.golang.org"},
      {"sum.golang.org https://sum.example.com/sumdb/", "sumdb-sum-example-com",
       "https://sum.example.com/sumdb"},
      {"sum.golang.org+033de0ae+Ac4zctda0e5eza+HJyk9SxEdh+s3Ux18htTTAD8OuAn8 "
       "http://sum.internal:8080",
       "sumdb-sum-internal", "http://sum.internal:8080"},
      {"sum.example.org+a765d4f1+ASAhIiMkJSYnKCkqKywtLi8wMTIzNDU2Nzg5Ojs8PT4/ "
       "proxy.example/sumdb/sum.example.org",
       "sumdb-proxy-example", "https://proxy.example/sumdb/sum.example.org"},
  };
  for (const auto& c : kCases) {
    const Config config =
        defaultConfig(fakeEnv({{"GOPROXY", "off"}, {"GOSUMDB", std::string(c.gosumdb)}}));
    ASSERT_EQ(config.targets.size(), 1U) << c.gosumdb;
    const TargetConfig& target = config.targets[0];
    EXPECT_EQ(target.name, c.name) << c.gosumdb;
    EXPECT_EQ(target.url, c.url) << c.gosumdb;
    EXPECT_EQ(target.kind, TargetKind::SumDb) << c.gosumdb;
    EXPECT_EQ(target.path, "/latest") << c.gosumdb;
  }
}

TEST(DefaultConfigTest, VerifierKeyComesFromGoSumDb) {
  const std::string key = "sum.example.org+a765d4f1+ASAhIiMkJSYnKCkqKywtLi8wMTIzNDU2Nzg5Ojs8PT4/";
  const Config custom = defaultConfig(fakeEnv({{"GOPROXY", "off"}, {"GOSUMDB", key}}));
  ASSERT_EQ(custom.targets.size(), 1U);
  EXPECT_EQ(custom.targets[0].key, key);
  EXPECT_EQ(custom.targets[0].url, "https://sum.example.org");
  const Config known = defaultConfig(fakeEnv({{"GOPROXY", "off"}}));
  ASSERT_EQ(known.targets.size(), 1U);
  EXPECT_EQ(known.targets[0].key, kSumGolangOrgKey);
}

TEST(DefaultConfigTest, SumDbNameDoesNotCollideWithProxyNames) {
  const Config config = defaultConfig(
      fakeEnv({{"GOPROXY", "https://sumdb.sum.golang.org"}, {"GOSUMDB", "sum.golang.org"}}));
  EXPECT_THAT(namesAndUrls(config),
              ElementsAre(NameUrl{"sumdb-sum-golang-org", "https://sumdb.sum.golang.org"},
                          NameUrl{"sumdb-sum-golang-org-2", "https://sum.golang.org"}));
}

TEST(DefaultConfigTest, MalformedGoSumDbIsAConfigError) {
  for (std::string_view gosumdb :
       {"a b c", "   ", "+hash+key", "sum.golang.org ftp://sum.golang.org",
        // A mistyped key: its hash no longer matches (note.NewVerifier, so cmd/go, refuses it).
        "sum.golang.org+033de0ae+Ac4zctda0e5eza+HJyk9SxEdh+s3Ux18htTTAD8OuAn9",
        // cmd/go knows only sum.golang.org's key by name; another bare name is malformed.
        "sum.example.org"}) {
    try {
      (void)defaultConfig(fakeEnv({{"GOSUMDB", std::string(gosumdb)}}));
      ADD_FAILURE() << "no ConfigError for \"" << gosumdb << '"';
    } catch (const ConfigError& e) {
      EXPECT_EQ(e.file(), "<embedded default>") << gosumdb;
      EXPECT_THAT(e.message(), HasSubstr("GOSUMDB")) << gosumdb;
    }
  }
}

TEST(ProcessEnvTest, ReadsTheProcessEnvironment) {
  const EnvLookup env = processEnv();
  EXPECT_EQ(env("GOMODPROBE_TEST_SURELY_UNSET_VARIABLE_8c1f"), std::nullopt);
  const char* path = std::getenv("PATH");  // NOLINT(concurrency-mt-unsafe)
  if (path != nullptr) {
    EXPECT_EQ(env("PATH"), std::optional<std::string>(path));
  }
}

}  // namespace
}  // namespace gomodprobe::config
