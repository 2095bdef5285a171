#include "config/config_loader.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <chrono>
#include <optional>
#include <ostream>
#include <string>
#include <string_view>

namespace gomodprobe::config {
namespace {

using std::chrono::milliseconds;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::StartsWith;

const std::string kDataDir = std::string(GOMODPROBE_TEST_DATA_DIR) + "/config";

ResolverSpec ipResolver(std::string address, std::uint16_t port = 53) {
  ResolverSpec spec;
  spec.system = false;
  spec.address = std::move(address);
  spec.port = port;
  return spec;
}

// The ConfigError parseConfig throws for `yaml`; fails the test when it does not throw.
ConfigError parseError(std::string_view yaml) {
  try {
    (void)parseConfig(yaml, "test.yml");
  } catch (const ConfigError& e) {
    return e;
  }
  ADD_FAILURE() << "no ConfigError for:\n" << yaml;
  return ConfigError("", -1, -1, "");
}

// ---------------------------------------------------------------------------------------------
// Good input.

TEST(ConfigLoaderTest, LoadsFullFileWithOverridesAndDefaults) {
  const Config config = loadConfigFile(kDataDir + "/good.yml");
  EXPECT_EQ(config.source, kDataDir + "/good.yml");

  EXPECT_EQ(config.global.interval, milliseconds(60'000));
  EXPECT_EQ(config.global.timeout, milliseconds(15'000));
  EXPECT_THAT(config.global.resolvers, ElementsAre(ResolverSpec{}, ipResolver("8.8.8.8")));
  // Relative to the config file's directory.
  EXPECT_EQ(config.global.ca_file, kDataDir + "/certs/extra.pem");
  EXPECT_EQ(config.global.labels,
            (std::map<std::string, std::string>{{"site", "fra1"}, {"_env", "prod"}}));
  EXPECT_EQ(config.global.max_concurrent_probes, 16);

  ASSERT_EQ(config.targets.size(), 3U);

  const TargetConfig& proxy = config.targets[0];
  EXPECT_EQ(proxy.name, "proxy-golang-org");
  EXPECT_EQ(proxy.kind, TargetKind::GoProxy);
  EXPECT_EQ(proxy.url, "https://proxy.golang.org");  // trailing '/' stripped
  EXPECT_EQ(proxy.path, "/");
  EXPECT_EQ(proxy.requestUrl(), "https://proxy.golang.org/");
  EXPECT_THAT(proxy.http_versions, ElementsAre(HttpVersion::Http11, HttpVersion::Http2));
  EXPECT_THAT(proxy.resolvers, ElementsAre(ResolverSpec{}, ipResolver("8.8.8.8")));
  EXPECT_EQ(proxy.ip_protocol, IpProtocol::Any);
  EXPECT_EQ(proxy.interval, milliseconds(60'000));
  EXPECT_EQ(proxy.timeout, milliseconds(15'000));
  EXPECT_EQ(proxy.ca_file, kDataDir + "/certs/extra.pem");
  EXPECT_TRUE(proxy.headers.empty());

  const TargetConfig& sumdb = config.targets[1];
  EXPECT_EQ(sumdb.name, "sum.golang.org");
  EXPECT_EQ(sumdb.kind, TargetKind::SumDb);
  EXPECT_EQ(sumdb.url, "https://sum.golang.org");
  EXPECT_EQ(sumdb.path, "/latest");
  EXPECT_THAT(sumdb.http_versions, ElementsAre(HttpVersion::Http2));  // unquoted YAML number 2
  EXPECT_EQ(sumdb.ip_protocol, IpProtocol::Ip6);

  const TargetConfig& http = config.targets[2];
  EXPECT_EQ(http.name, "internal_http");
  EXPECT_EQ(http.kind, TargetKind::Http);
  EXPECT_EQ(http.url, "http://[::1]:8080/base");
  EXPECT_EQ(http.path, "/healthz?full=1");
  EXPECT_EQ(http.requestUrl(), "http://[::1]:8080/base/healthz?full=1");
  EXPECT_THAT(http.http_versions, ElementsAre(HttpVersion::Http11));
  EXPECT_THAT(http.resolvers, ElementsAre(ipResolver("::1", 5353), ipResolver("127.0.0.1", 5353)));
  EXPECT_EQ(http.ip_protocol, IpProtocol::Ip4);
  EXPECT_EQ(http.interval, milliseconds(120'000));
  EXPECT_EQ(http.timeout, milliseconds(90'000));
  EXPECT_EQ(http.ca_file, "/etc/ssl/internal.pem");
  EXPECT_EQ(http.headers, (std::map<std::string, std::string>{{"X-Probe", "gomodprobe"},
                                                              {"Authorization", "Bearer token"}}));
}

TEST(ConfigLoaderTest, ParseConfigLeavesRelativeCaFileAlone) {
  const Config config = parseConfig(R"(global:
  ca_file: certs/extra.pem
targets:
  - {name: a, kind: http, url: "https://a.example", ca_file: own.pem}
)",
                                    "inline");
  EXPECT_EQ(config.source, "inline");
  EXPECT_EQ(config.global.ca_file, "certs/extra.pem");
  ASSERT_EQ(config.targets.size(), 1U);
  EXPECT_EQ(config.targets[0].ca_file, "own.pem");
}

TEST(ConfigLoaderTest, EmptyDocumentAndEmptySectionsGiveDefaults) {
  for (std::string_view yaml : {"", "# only a comment\n", "global:\ntargets:\n", "targets: []\n"}) {
    SCOPED_TRACE(yaml);
    const Config config = parseConfig(yaml, "empty.yml");
    EXPECT_EQ(config.source, "empty.yml");
    EXPECT_TRUE(config.targets.empty());
    EXPECT_EQ(config.global.interval, milliseconds(30'000));
    EXPECT_EQ(config.global.timeout, milliseconds(10'000));
    EXPECT_THAT(config.global.resolvers, ElementsAre(ResolverSpec{}));
    EXPECT_EQ(config.global.ca_file, "");
    EXPECT_TRUE(config.global.labels.empty());
    EXPECT_EQ(config.global.max_concurrent_probes, 64);
    EXPECT_EQ(config.global.histograms, HistogramScope::PerTarget);
  }
}

TEST(ConfigLoaderTest, HistogramsSetting) {
  EXPECT_EQ(parseConfig("global:\n  histograms: per_kind\n", "h.yml").global.histograms,
            HistogramScope::PerKind);
  EXPECT_EQ(parseConfig("global:\n  histograms: per_target\n", "h.yml").global.histograms,
            HistogramScope::PerTarget);
  const ConfigError error = parseError("global:\n  histograms: per_host\n");
  EXPECT_EQ(error.line(), 2);
  EXPECT_EQ(error.column(), 15);
  EXPECT_THAT(error.what(), HasSubstr("histograms must be per_target or per_kind"));
}

TEST(ConfigLoaderTest, RequireHttp2IsOffByDefaultAndReadPerTarget) {
  const Config config = parseConfig(R"(targets:
  - {name: plain, kind: http, url: "https://a.test"}
  - {name: strict, kind: http, url: "https://a.test", require_http2: true}
  - {name: only-h2, kind: goproxy, url: "https://p.test", http_versions: [2], require_http2: true}
  - {name: sumdb, kind: sumdb, url: "https://s.test", require_http2: false}
)",
                                    "h2.yml");
  ASSERT_EQ(config.targets.size(), 4U);
  EXPECT_FALSE(config.targets[0].require_http2);
  EXPECT_TRUE(config.targets[1].require_http2);
  EXPECT_THAT(config.targets[1].http_versions,
              ElementsAre(HttpVersion::Http11, HttpVersion::Http2));
  EXPECT_TRUE(config.targets[2].require_http2);
  EXPECT_THAT(config.targets[2].http_versions, ElementsAre(HttpVersion::Http2));
  EXPECT_FALSE(config.targets[3].require_http2);
  // Not a global key: a fleet-wide default would also hit targets without an HTTP/2 attempt.
  const ConfigError error = parseError("global:\n  require_http2: true\n");
  EXPECT_EQ(error.line(), 2);
  EXPECT_EQ(error.column(), 3);
  EXPECT_THAT(error.what(), HasSubstr("unknown key \"require_http2\" in global"));
}

TEST(ConfigLoaderTest, TargetInheritsGlobalsAndGetsKindDefaultPaths) {
  const Config config = parseConfig(R"(global:
  interval: 20s
  timeout: 3s
  resolvers: ["9.9.9.9:5353"]
targets:
  - {name: g, kind: goproxy, url: "https://g.example"}
  - {name: s, kind: sumdb, url: "https://s.example/"}
  - {name: h, kind: http, url: "https://h.example/base", timeout: 4s}
)",
                                    "t.yml");
  ASSERT_EQ(config.targets.size(), 3U);
  EXPECT_EQ(config.targets[0].path, "/");
  EXPECT_EQ(config.targets[1].path, "/latest");
  EXPECT_EQ(config.targets[1].requestUrl(), "https://s.example/latest");
  EXPECT_EQ(config.targets[2].path, "/");
  EXPECT_EQ(config.targets[2].requestUrl(), "https://h.example/base/");
  for (const TargetConfig& target : config.targets) {
    EXPECT_EQ(target.interval, milliseconds(20'000)) << target.name;
    EXPECT_THAT(target.resolvers, ElementsAre(ipResolver("9.9.9.9", 5353))) << target.name;
  }
  EXPECT_EQ(config.targets[0].timeout, milliseconds(3'000));
  EXPECT_EQ(config.targets[2].timeout, milliseconds(4'000));
}

TEST(ConfigLoaderTest, AcceptsUrlsWithIpHostsPortsAndPaths) {
  const struct {
    std::string_view url;
    std::string_view normalized;
  } kCases[] = {
      {"https://proxy.golang.org", "https://proxy.golang.org"},
      {"https://proxy.golang.org/", "https://proxy.golang.org"},
      {"HTTPS://Proxy.Example/base//", "https://Proxy.Example/base"},
      {"http://10.0.0.1:8080", "http://10.0.0.1:8080"},
      {"http://[2001:db8::1]:443/p/", "http://[2001:db8::1]:443/p"},
      {"https://[::1]", "https://[::1]"},
      {"https://goproxy.example./mirror/%40v", "https://goproxy.example./mirror/%40v"},
  };
  for (const auto& c : kCases) {
    const std::string yaml =
        "targets:\n  - name: t\n    kind: http\n    url: \"" + std::string(c.url) + "\"\n";
    const Config config = parseConfig(yaml, "t.yml");
    ASSERT_EQ(config.targets.size(), 1U);
    EXPECT_EQ(config.targets[0].url, c.normalized) << c.url;
  }
}

TEST(ConfigLoaderTest, RejectsMalformedUrlsAtTheUrlValue) {
  for (std::string_view url : {"proxy.golang.org",   "ftp://proxy.golang.org",
                               "https://",           "https:///path",
                               "https://:80",        "https://host:",
                               "https://host:0",     "https://host:65536",
                               "https://host:http",  "https://user@host",
                               "https://999.1.1.1",  "https://1.2.3",
                               "https://[::1",       "https://[::1]x",
                               "https://[1.2.3.4]",  "https://host/a?b=c",
                               "https://host/#frag", "https://ho st",
                               "https://a..b",       "https://host_name!/"}) {
    const std::string yaml =
        "targets:\n  - name: t\n    kind: http\n    url: '" + std::string(url) + "'\n";
    const ConfigError error = parseError(yaml);
    EXPECT_EQ(error.line(), 4) << url;
    EXPECT_EQ(error.column(), 10) << url;
    EXPECT_THAT(error.message(), HasSubstr("invalid url")) << url;
  }
}

// ---------------------------------------------------------------------------------------------
// Bad input: every error names its place.

struct BadConfigCase {
  std::string name;
  std::string yaml;
  int line;
  int column;
  std::string message;  ///< a substring of ConfigError::message()
};

void PrintTo(const BadConfigCase& c, std::ostream* os) { *os << c.name; }

class BadConfigTest : public ::testing::TestWithParam<BadConfigCase> {};

TEST_P(BadConfigTest, ReportsLineColumnAndMessage) {
  const BadConfigCase& c = GetParam();
  const ConfigError error = parseError(c.yaml);
  EXPECT_EQ(error.file(), "test.yml");
  EXPECT_EQ(error.line(), c.line) << error.what();
  EXPECT_EQ(error.column(), c.column) << error.what();
  EXPECT_THAT(error.message(), HasSubstr(c.message)) << error.what();
  EXPECT_EQ(std::string(error.what()), "test.yml:" + std::to_string(c.line) + ":" +
                                           std::to_string(c.column) + ": " + error.message());
}

// Targets used as a prefix: "targets:" at line 1, "- name: a" at line 2 (the target map starts at
// column 5), so a target's own keys start at line 5, column 5.
constexpr std::string_view kTargetPrefix = R"(targets:
  - name: a
    kind: goproxy
    url: https://a.example
)";

std::string withTarget(std::string_view extra) {
  return std::string(kTargetPrefix) + std::string(extra);
}

INSTANTIATE_TEST_SUITE_P(
    ConfigLoaderTest, BadConfigTest,
    ::testing::Values(
        BadConfigCase{"UnknownKeyInTarget", withTarget("    tiemout: 5s\n"), 5, 5,
                      R"(unknown key "tiemout" in target)"},
        BadConfigCase{"UnknownKeyInGlobal", "global:\n  interval: 30s\n  scrape_interval: 5s\n", 3,
                      3, R"(unknown key "scrape_interval" in global)"},
        BadConfigCase{"UnknownTopLevelKey", "global: {}\nmodules: {}\n", 2, 1,
                      R"(unknown key "modules" at the top level)"},
        BadConfigCase{"DuplicateYamlKey", "global:\n  interval: 30s\n  interval: 40s\n", 3, 3,
                      R"(duplicate key "interval")"},
        BadConfigCase{"NonStringKey", "global:\n  [a, b]: 1\n", 2, 3, "must be strings"},
        BadConfigCase{"FractionalDuration", "global:\n  interval: 1.5s\n", 2, 13,
                      R"(invalid duration "1.5s")"},
        BadConfigCase{"DurationWithoutUnit", withTarget("    interval: 30\n"), 5, 15,
                      R"(invalid duration "30")"},
        BadConfigCase{"ZeroDuration", "global:\n  timeout: 0s\n", 2, 12, "invalid duration"},
        BadConfigCase{"DurationAsMap", "global:\n  timeout: {a: 1}\n", 2, 12,
                      R"("timeout" must be a string, got a map)"},
        BadConfigCase{"NullDurationPointsAtKey", "global:\n  timeout:\ntargets: []\n", 2, 3,
                      "got nothing"},
        BadConfigCase{"TargetTimeoutNotLessThanInterval",
                      withTarget("    interval: 10s\n    timeout: 10s\n"), 6, 14,
                      R"(timeout 10s must be less than the interval 10s of target "a")"},
        BadConfigCase{"InheritedTimeoutNotLessThanTargetInterval", withTarget("    interval: 5s\n"),
                      2, 5,
                      "timeout 10s (inherited from global) must be less than the interval 5s"},
        BadConfigCase{"TargetTimeoutAboveInheritedInterval", withTarget("    timeout: 1m\n"), 5, 14,
                      "timeout 1m must be less than the interval 30s"},
        BadConfigCase{"GlobalTimeoutNotLessThanInterval",
                      "global:\n  timeout: 30s\n  interval: 15s\n", 2, 12,
                      "global timeout 30s must be less than the global interval 15s"},
        BadConfigCase{"GlobalIntervalBelowDefaultTimeout", "global:\n  interval: 5s\n", 2, 13,
                      "global timeout 10s must be less than the global interval 5s"},
        BadConfigCase{"DuplicateTargetName",
                      withTarget("  - name: b\n    kind: http\n    url: https://b.example\n"
                                 "  - kind: http\n    url: https://c.example\n    name: a\n"),
                      10, 11, R"(duplicate target name "a" (first defined at line 2))"},
        BadConfigCase{"MissingUrl", "targets:\n  - name: a\n    kind: http\n", 2, 5,
                      R"(missing the required key "url")"},
        BadConfigCase{"MissingName", "targets:\n  - kind: http\n    url: https://a.example\n", 2, 5,
                      R"(missing the required key "name")"},
        BadConfigCase{"BadTargetName",
                      "targets:\n  - name: a/b\n    kind: http\n    url: https://a.example\n", 2,
                      11, R"(invalid target name "a/b")"},
        BadConfigCase{"BadKind",
                      "targets:\n  - name: a\n    kind: git\n    url: https://a.example\n", 3, 11,
                      R"(invalid kind "git")"},
        BadConfigCase{"BadUrlScheme",
                      "targets:\n  - name: a\n    kind: http\n    url: ftp://a.example\n", 4, 10,
                      R"(scheme must be http or https, not "ftp")"},
        BadConfigCase{"UrlWithQuery",
                      "targets:\n  - name: a\n    kind: http\n    url: https://a.example/?x=1\n", 4,
                      10, "must not have a query or fragment"},
        BadConfigCase{"PathWithoutLeadingSlash", withTarget("    path: latest\n"), 5, 11,
                      "must start with '/'"},
        BadConfigCase{"PathWithSpace", withTarget("    path: /a b\n"), 5, 11,
                      "must not contain spaces"},
        BadConfigCase{"BadResolverInTarget", withTarget("    resolvers: [system, 8.8.8.8:99999]\n"),
                      5, 25, R"(invalid resolver "8.8.8.8:99999")"},
        BadConfigCase{"BadResolverInGlobalBlockList",
                      "global:\n  resolvers:\n    - 1.1.1.1\n    - dns.google\n", 4, 7,
                      R"(invalid resolver "dns.google")"},
        BadConfigCase{"EmptyResolvers", "global:\n  resolvers: []\n", 2, 14,
                      R"("resolvers" must not be empty)"},
        BadConfigCase{"ResolversNotAList", "global:\n  resolvers: system\n", 2, 14,
                      R"("resolvers" must be a list, got a scalar)"},
        BadConfigCase{"BadHttpVersion", withTarget("    http_versions: [\"1.1\", \"3\"]\n"), 5, 28,
                      R"(invalid HTTP version "3")"},
        BadConfigCase{"HttpVersionOneZero", withTarget("    http_versions: [1.0]\n"), 5, 21,
                      R"(invalid HTTP version "1.0")"},
        BadConfigCase{"DuplicateHttpVersion", withTarget("    http_versions: [2, \"2\"]\n"), 5, 24,
                      R"(duplicate HTTP version "2")"},
        BadConfigCase{"EmptyHttpVersions", withTarget("    http_versions: []\n"), 5, 20,
                      "must not be empty"},
        BadConfigCase{"BadIpProtocol", withTarget("    ip_protocol: ipv4\n"), 5, 18,
                      R"(invalid ip_protocol "ipv4")"},
        BadConfigCase{"ListWhereMapExpected", withTarget("    headers:\n      - X-Foo: bar\n"), 6,
                      7, R"("headers" must be a map, got a list)"},
        BadConfigCase{"GlobalIsAList", "global: [interval, 30s]\n", 1, 9,
                      R"("global" must be a map, got a list)"},
        BadConfigCase{"TargetsIsAMap", "targets:\n  a: {}\n", 2, 3,
                      R"("targets" must be a list, got a map)"},
        BadConfigCase{"TargetIsAScalar", "targets:\n  - proxy.golang.org\n", 2, 5,
                      "a target must be a map, got a scalar"},
        BadConfigCase{"TopLevelIsAList", "- a\n- b\n", 1, 1, "the top level must be a map"},
        BadConfigCase{"BadHeaderName", withTarget("    headers: {\"X Foo\": bar}\n"), 5, 15,
                      R"(invalid header name "X Foo")"},
        BadConfigCase{"HeaderValueWithNewline", withTarget("    headers: {X-Foo: \"a\\r\\nb\"}\n"),
                      5, 22, "must not contain CR, LF or NUL"},
        BadConfigCase{"HeaderRepeatedInOtherCase",
                      withTarget("    headers:\n      X-Foo: a\n      x-foo: b\n"), 7, 7,
                      R"(header "x-foo" repeats "X-Foo")"},
        BadConfigCase{"BadLabelName", "global:\n  labels:\n    ok: 1\n    0bad: 2\n", 4, 5,
                      R"(invalid label name "0bad")"},
        BadConfigCase{"LabelValueNotAString", "global:\n  labels:\n    a: [1]\n", 3, 8,
                      R"("a" must be a string, got a list)"},
        BadConfigCase{"MaxConcurrentProbesTooLarge", "global:\n  max_concurrent_probes: 10001\n", 2,
                      26, "from 1 to 10000"},
        BadConfigCase{"MaxConcurrentProbesZero", "global:\n  max_concurrent_probes: 0\n", 2, 26,
                      "from 1 to 10000"},
        BadConfigCase{"MaxConcurrentProbesNotAnInteger", "global:\n  max_concurrent_probes: 8.5\n",
                      2, 26, "from 1 to 10000"},
        BadConfigCase{"CaFileNotAString", "global:\n  ca_file: [a.pem]\n", 2, 12,
                      R"("ca_file" must be a string, got a list)"},
        BadConfigCase{"YamlSyntaxErrorUnclosedFlowList", "global:\n  resolvers: [system\n", 3, 1,
                      "end of sequence flow not found"},
        // yaml-cpp reports a tab-indented key at its ':'.
        BadConfigCase{"YamlSyntaxErrorTab", "global:\n\tinterval: 30s\n", 2, 10,
                      "illegal map value"},
        BadConfigCase{"YamlUndefinedAlias", "global:\n  interval: *nope\n", 2, 13,
                      "anchor is not defined"},
        BadConfigCase{"SeveralDocuments", "global: {}\n---\ntargets: []\n", 3, 1,
                      "expected a single YAML document"},
        // yaml-cpp 0.7's LoadAll loops forever on these (jbeder/yaml-cpp#1040; found by fuzzing).
        BadConfigCase{"LoneCommaDoesNotHang", ",", 1, 1, "unexpected token"},
        BadConfigCase{"CommaAfterCommentDoesNotHang", "# Every key\n,\n", 2, 1, "unexpected token"},
        BadConfigCase{"CommaDocumentAfterAValidOneDoesNotHang", "global: {}\n---\n,\n", 3, 1,
                      "expected a single YAML document"}),
    [](const ::testing::TestParamInfo<BadConfigCase>& param_info) {
      return param_info.param.name;
    });

TEST(ConfigLoaderTest, ErrorsInAFileNameThatFile) {
  const std::string path = kDataDir + "/bad_unknown_key.yml";
  try {
    (void)loadConfigFile(path);
    FAIL() << "no ConfigError";
  } catch (const ConfigError& e) {
    EXPECT_EQ(e.file(), path);
    EXPECT_EQ(e.line(), 5);
    EXPECT_EQ(e.column(), 5);
    EXPECT_THAT(e.what(), StartsWith(path + ":5:5: unknown key \"intervall\" in target"));
  }
}

TEST(ConfigLoaderTest, UnreadableFileHasNoPosition) {
  const std::string path = kDataDir + "/does-not-exist.yml";
  try {
    (void)loadConfigFile(path);
    FAIL() << "no ConfigError";
  } catch (const ConfigError& e) {
    EXPECT_EQ(e.file(), path);
    EXPECT_EQ(e.line(), 0);
    EXPECT_EQ(e.column(), 0);
    EXPECT_EQ(e.message(), "cannot read: No such file or directory");
    EXPECT_EQ(std::string(e.what()), path + ": cannot read: No such file or directory");
  }
}

TEST(ConfigLoaderTest, DirectoryIsUnreadable) {
  try {
    (void)loadConfigFile(kDataDir);
    FAIL() << "no ConfigError";
  } catch (const ConfigError& e) {
    EXPECT_EQ(e.line(), 0);
    EXPECT_EQ(e.message(), "cannot read: Is a directory");
  }
}

// ---------------------------------------------------------------------------------------------
// parseDuration, parseResolver, labels and names.

TEST(ParseDurationTest, AcceptsPrometheusDurations) {
  const struct {
    std::string_view text;
    std::int64_t ms;
  } kCases[] = {
      {"30s", 30'000},
      {"250ms", 250},
      {"1m30s", 90'000},
      {"90s", 90'000},
      {"1m0s", 60'000},
      {"0s5ms", 5},
      {"1h", 3'600'000},
      {"1d", 86'400'000},
      {"1w", 604'800'000},
      {"1y", 31'536'000'000},
      {"1y2w3d4h5m6s7ms",
       31'536'000'000 + 2 * 604'800'000 + 3 * 86'400'000 + 4 * 3'600'000 + 5 * 60'000 + 6'000 + 7},
      {"007s", 7'000},
  };
  for (const auto& c : kCases) {
    EXPECT_EQ(parseDuration(c.text), std::optional(milliseconds(c.ms))) << c.text;
  }
}

TEST(ParseDurationTest, RejectsMalformedZeroAndHugeDurations) {
  for (std::string_view text : {"",      "0",        "0s",  "0ms",   "0h0m",
                                "1.5s",  ".5s",      "30",  "s",     "ms",
                                "1S",    "1sec",     "1us", "30s1m", "1s1s",
                                "1ms1s", "1m30",     "-1s", "+1s",   " 1s",
                                "1s ",   "1 s",      "1s,", "1e3s",  "99999999999999999999s",
                                "300y",  "292y1000w"}) {
    EXPECT_EQ(parseDuration(text), std::nullopt) << '"' << text << '"';
  }
}

TEST(ParseDurationTest, AcceptsUpToPrometheusMaximum) {
  EXPECT_EQ(parseDuration("292y"), std::optional(milliseconds(292 * 31'536'000'000LL)));
}

TEST(ParseResolverTest, AcceptsSystemIpv4AndIpv6Forms) {
  const struct {
    std::string_view text;
    ResolverSpec expected;
  } kCases[] = {
      {"system", ResolverSpec{}},
      {"8.8.8.8", ipResolver("8.8.8.8")},
      {"127.0.0.1:5353", ipResolver("127.0.0.1", 5353)},
      {"1.1.1.1:53", ipResolver("1.1.1.1")},
      {"10.0.0.1:65535", ipResolver("10.0.0.1", 65535)},
      {"::1", ipResolver("::1")},
      {"2001:db8::53", ipResolver("2001:db8::53")},
      {"::ffff:192.0.2.1", ipResolver("::ffff:192.0.2.1")},
      {"[::1]", ipResolver("::1")},
      {"[::1]:5353", ipResolver("::1", 5353)},
      {"[2001:db8::53]:53", ipResolver("2001:db8::53")},
  };
  for (const auto& c : kCases) {
    EXPECT_EQ(parseResolver(c.text), std::optional(c.expected)) << c.text;
  }
}

TEST(ParseResolverTest, RejectsMalformedResolvers) {
  for (std::string_view text : {"",
                                "System",
                                "system:53",
                                "dns.google",
                                "8.8.8",
                                "256.1.1.1",
                                "01.2.3.4",
                                "8.8.8.8:",
                                "8.8.8.8:0",
                                "8.8.8.8:65536",
                                "8.8.8.8:53x",
                                "8.8.8.8:-1",
                                "8.8.8.8: 53",
                                " 8.8.8.8",
                                "[::1",
                                "[::1]5353",
                                "[::1]:",
                                "[::1]:0",
                                "[8.8.8.8]:53",
                                "[]",
                                "fe80::1%eth0",
                                "1.2.3.4:53:53",
                                ":::1",
                                "[[::1]]"}) {
    EXPECT_EQ(parseResolver(text), std::nullopt) << '"' << text << '"';
  }
}

TEST(ResolverSpecTest, LabelShowsPortOnlyWhenNot53) {
  EXPECT_EQ(ResolverSpec{}.label(), "system");
  EXPECT_EQ(ipResolver("8.8.8.8").label(), "8.8.8.8");
  EXPECT_EQ(ipResolver("127.0.0.1", 5353).label(), "127.0.0.1:5353");
  EXPECT_EQ(ipResolver("::1", 5353).label(), "[::1]:5353");
  EXPECT_EQ(ipResolver("::1").label(), "::1");
  EXPECT_EQ(ipResolver("2001:db8::53", 853).label(), "[2001:db8::53]:853");
}

TEST(ResolverSpecTest, LabelRoundTripsThroughParseResolver) {
  for (std::string_view text : {"system", "8.8.8.8", "127.0.0.1:5353", "::1", "[::1]:5353"}) {
    const auto spec = parseResolver(text);
    ASSERT_TRUE(spec.has_value()) << text;
    EXPECT_EQ(spec->label(), text);
  }
}

TEST(ConfigTypesTest, ToStringGivesLabelValues) {
  EXPECT_STREQ(toString(TargetKind::GoProxy), "goproxy");
  EXPECT_STREQ(toString(TargetKind::SumDb), "sumdb");
  EXPECT_STREQ(toString(TargetKind::Http), "http");
  EXPECT_STREQ(toString(IpProtocol::Ip4), "ip4");
  EXPECT_STREQ(toString(IpProtocol::Ip6), "ip6");
  EXPECT_STREQ(toString(IpProtocol::Any), "any");
  EXPECT_STREQ(toString(HttpVersion::Http11), "1.1");
  EXPECT_STREQ(toString(HttpVersion::Http2), "2");
}

}  // namespace
}  // namespace gomodprobe::config
