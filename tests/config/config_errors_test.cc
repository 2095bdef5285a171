// Malformed configs, one class per row: each gives exactly one error, the whole of it spelled out
// (file:line:column: message), at the place an operator has to edit. The daemon prints these
// verbatim when a reload is refused (tests/integration/reload_storm_test.cc), so they are part of
// its interface.

#include <gtest/gtest.h>

#include <ostream>
#include <string>
#include <string_view>

#include "config/config_loader.h"

namespace gomodprobe::config {
namespace {

struct ErrorCase {
  std::string name;
  std::string yaml;
  std::string what;  ///< the exact ConfigError::what(); for unknown keys, up to the list of
                     ///< allowed keys (that list grows with every new key; it is checked apart)
};

constexpr std::string_view kExpectedKeys = " (expected one of: ";

void PrintTo(const ErrorCase& c, std::ostream* os) { *os << c.name; }

/// Line 1 "targets:", line 2 "  - name: a" (the target map at column 5), lines 3-4 kind and url;
/// extra keys of target a start at line 5, column 5.
std::string target(std::string_view kind, std::string_view url, std::string_view extra = "") {
  return "targets:\n  - name: a\n    kind: " + std::string(kind) +
         "\n    url: " + std::string(url) + "\n" + std::string(extra);
}

/// A sumdb target whose key is `key` (line 5, the value at column 10).
std::string sumdbWithKey(std::string_view key) {
  return target("sumdb", "https://sum.test", "    key: \"" + std::string(key) + "\"\n");
}

// A well-formed Ed25519 verifier key (hash = SHA-256("corp.test\n" || 0x01 || key)[:4]) and
// variants of it that break one property each.
constexpr std::string_view kGoodKey =
    "corp.test+b76173b5+AQABAgMEBQYHCAkKCwwNDg8QERITFBUWFxgZGhscHR4f";

class ConfigErrorTest : public ::testing::TestWithParam<ErrorCase> {};

TEST_P(ConfigErrorTest, GivesOneErrorWithFileLineColumn) {
  const ErrorCase& c = GetParam();
  try {
    (void)parseConfig(c.yaml, "bad.yml");
    FAIL() << "accepted:\n" << c.yaml;
  } catch (const ConfigError& e) {
    const std::string what = e.what();
    if (c.what.ends_with(kExpectedKeys)) {
      EXPECT_EQ(what.substr(0, c.what.size()), c.what);
      EXPECT_TRUE(what.ends_with(")")) << what;
    } else {
      EXPECT_EQ(what, c.what);
    }
    EXPECT_GT(e.line(), 0) << "no position";
    EXPECT_GT(e.column(), 0) << "no position";
    EXPECT_EQ(e.what(), "bad.yml:" + std::to_string(e.line()) + ":" + std::to_string(e.column()) +
                            ": " + e.message());
  }
}

TEST(ConfigErrorTest, TheWellFormedKeyOfTheTableIsAccepted) {
  const Config config = parseConfig(sumdbWithKey(kGoodKey), "good.yml");
  ASSERT_EQ(config.targets.size(), 1U);
  EXPECT_EQ(config.targets[0].key, kGoodKey);
  const Config through = parseConfig(
      target("goproxy", "https://proxy.test", "    sumdb: \"" + std::string(kGoodKey) + "\"\n"),
      "good.yml");
  EXPECT_EQ(through.targets[0].sumdb, kGoodKey);
}

INSTANTIATE_TEST_SUITE_P(
    Table, ConfigErrorTest,
    ::testing::Values(
        // ---- wrong types
        ErrorCase{"DurationIsAList", "global:\n  interval: [30s]\n",
                  R"(bad.yml:2:13: "interval" must be a string, got a list)"},
        ErrorCase{"DurationIsANumber", "global:\n  timeout: 5\n",
                  R"(bad.yml:2:12: invalid duration "5" for "timeout" (expected a non-zero )"
                  R"(Prometheus duration like 30s, 1m30s, 250ms))"},
        ErrorCase{"TargetsIsAMap", "targets:\n  a: {kind: http}\n",
                  R"(bad.yml:2:3: "targets" must be a list, got a map)"},
        ErrorCase{"TargetNameIsAList", "targets:\n  - name: [a]\n    kind: http\n    url: x\n",
                  R"(bad.yml:2:11: "name" must be a string, got a list)"},
        ErrorCase{"HeadersIsAList", target("http", "https://a.test", "    headers: [a, b]\n"),
                  R"(bad.yml:5:14: "headers" must be a map, got a list)"},
        ErrorCase{"MaxConcurrentProbesIsAWord", "global:\n  max_concurrent_probes: many\n",
                  R"(bad.yml:2:26: max_concurrent_probes must be an integer from 1 to 10000, )"
                  R"(got "many")"},
        ErrorCase{"BooleanIsAWord",
                  target("http", "https://a.test", "    proxy_from_environment: yes\n"),
                  R"(bad.yml:5:29: "proxy_from_environment" must be true or false, got "yes")"},
        ErrorCase{"ResolversIsAString", "global:\n  resolvers: 8.8.8.8\n",
                  R"(bad.yml:2:14: "resolvers" must be a list, got a scalar)"},
        // ---- duplicate target names (the second one is pointed at)
        ErrorCase{"DuplicateTargetName",
                  target("http", "https://a.test",
                         "  - name: b\n    kind: http\n    url: https://b.test\n"
                         "  - name: a\n    kind: http\n    url: https://c.test\n"),
                  R"(bad.yml:8:11: duplicate target name "a" (first defined at line 2))"},
        // ---- timeout >= interval
        ErrorCase{"TargetTimeoutEqualsInterval",
                  target("http", "https://a.test", "    interval: 5s\n    timeout: 5s\n"),
                  R"(bad.yml:6:14: timeout 5s must be less than the interval 5s of target "a")"},
        ErrorCase{"InheritedTimeoutAboveTargetInterval",
                  target("http", "https://a.test", "    interval: 2s\n"),
                  R"(bad.yml:2:5: timeout 10s (inherited from global) must be less than the )"
                  R"(interval 2s of target "a")"},
        ErrorCase{"GlobalTimeoutAboveGlobalInterval", "global:\n  interval: 1s\n  timeout: 2s\n",
                  R"(bad.yml:3:12: global timeout 2s must be less than the global interval 1s)"},
        // ---- unknown keys
        ErrorCase{"UnknownTopLevelKey", "scrape_configs: []\n",
                  R"(bad.yml:1:1: unknown key "scrape_configs" at the top level (expected one )"
                  R"(of: global, targets))"},
        // Lists that grow with new keys: compared up to "(expected one of: ", then ")" at the end.
        ErrorCase{"UnknownGlobalKey", "global:\n  intervall: 30s\n",
                  R"(bad.yml:2:3: unknown key "intervall" in global (expected one of: )"},
        ErrorCase{"UnknownTargetKey", target("http", "https://a.test", "    timout: 5s\n"),
                  R"(bad.yml:5:5: unknown key "timout" in target (expected one of: )"},
        ErrorCase{"KeyOfAnotherKind", target("http", "https://a.test", "    key: x\n"),
                  R"(bad.yml:5:5: key "key" does not apply to kind http)"},
        // ---- invalid verifier keys (x/mod sumdb/note.NewVerifier's checks)
        ErrorCase{"VerifierKeyWithoutHash", sumdbWithKey("corp.test+AQAB"),
                  R"(bad.yml:5:10: invalid verifier key "corp.test+AQAB": expected )"
                  R"("name+hash+base64key", hash 8 hex digits)"},
        ErrorCase{"VerifierKeyHashNotHex",
                  sumdbWithKey("corp.test+b76173bz+AQABAgMEBQYHCAkKCwwNDg8QERITFBUWFxgZGhscHR4f"),
                  R"(bad.yml:5:10: invalid verifier key "corp.test+b76173bz+AQABAgMEBQYHCAkKCwwN)"
                  R"(Dg8QERITFBUWFxgZGhscHR4f": the hash "b76173bz" is not 8 hex digits)"},
        ErrorCase{"VerifierKeyNotBase64", sumdbWithKey("corp.test+b76173b5+not*base64"),
                  R"(bad.yml:5:10: invalid verifier key "corp.test+b76173b5+not*base64": the key )"
                  R"(is not valid base64)"},
        ErrorCase{"VerifierKeyHashMismatch",
                  sumdbWithKey("corp.test+b76173b6+AQABAgMEBQYHCAkKCwwNDg8QERITFBUWFxgZGhscHR4f"),
                  R"(bad.yml:5:10: invalid verifier key "corp.test+b76173b6+AQABAgMEBQYHCAkKCwwN)"
                  R"(Dg8QERITFBUWFxgZGhscHR4f": the hash b76173b6 does not match the name and key )"
                  R"((mistyped or truncated key?))"},
        ErrorCase{"VerifierKeyOfAnotherName",
                  sumdbWithKey("corp.tset+b76173b5+AQABAgMEBQYHCAkKCwwNDg8QERITFBUWFxgZGhscHR4f"),
                  R"(bad.yml:5:10: invalid verifier key "corp.tset+b76173b5+AQABAgMEBQYHCAkKCwwN)"
                  R"(Dg8QERITFBUWFxgZGhscHR4f": the hash b76173b5 does not match the name and key )"
                  R"((mistyped or truncated key?))"},
        // hash = SHA-256("corp.test\n" || 0x02 || key)[:4]: right hash, unknown algorithm.
        ErrorCase{"VerifierKeyNotEd25519",
                  sumdbWithKey("corp.test+e042d216+AgABAgMEBQYHCAkKCwwNDg8QERITFBUWFxgZGhscHR4f"),
                  R"(bad.yml:5:10: invalid verifier key "corp.test+e042d216+AgABAgMEBQYHCAkKCwwN)"
                  R"(Dg8QERITFBUWFxgZGhscHR4f": unknown key algorithm 2 (only 1, Ed25519))"},
        // hash = SHA-256("corp.test\n" || 0x01 || 15 bytes)[:4]: right hash, short key.
        ErrorCase{"VerifierKeyTooShort",
                  sumdbWithKey("corp.test+1df508a6+AQABAgMEBQYHCAkKCwwNDg=="),
                  R"(bad.yml:5:10: invalid verifier key "corp.test+1df508a6+AQABAgMEBQYHCAkKCwwN)"
                  R"(Dg==": an Ed25519 key is 32 bytes, this one has 15)"},
        ErrorCase{
            "BadKeyInGoproxySumdb",
            target("goproxy", "https://proxy.test",
                   "    sumdb: \"corp.test+b76173b6+AQABAgMEBQYHCAkKCwwNDg8QERITFBUWFxgZGhsc"
                   "HR4f\"\n"),
            R"(bad.yml:5:12: invalid verifier key "corp.test+b76173b6+AQABAgMEBQYHCAkKCwwN)"
            R"(Dg8QERITFBUWFxgZGhscHR4f" in sumdb: the hash b76173b6 does not match the name )"
            R"(and key (mistyped or truncated key?))"},
        // ---- invalid URLs
        ErrorCase{"UrlWithoutScheme", target("http", "proxy.test"),
                  R"(bad.yml:4:10: invalid url "proxy.test": must start with http:// or https://)"},
        ErrorCase{"UrlWithOtherScheme", target("goproxy", "file:///srv/goproxy"),
                  R"(bad.yml:4:10: invalid url "file:///srv/goproxy": scheme must be http or )"
                  R"(https, not "file")"},
        ErrorCase{"UrlWithoutHost", target("http", "https:///x"),
                  R"(bad.yml:4:10: invalid url "https:///x": must have a host)"},
        ErrorCase{"UrlWithBadPort", target("http", "https://a.test:99999"),
                  R"(bad.yml:4:10: invalid url "https://a.test:99999": has an invalid port )"
                  R"("99999")"},
        ErrorCase{
            "UrlWithUserInfo", target("http", "https://me:pw@a.test"),
            R"(bad.yml:4:10: invalid url "https://me:pw@a.test": must not contain user info)"},
        ErrorCase{"UrlWithSpace", target("http", "\"https://a.test/a b\""),
                  R"(bad.yml:4:10: invalid url "https://a.test/a b": must not contain spaces, )"
                  R"(control characters or non-ASCII bytes)"},
        ErrorCase{"ProxyUrlWithSocksScheme",
                  target("http", "https://a.test", "    proxy_url: socks5://127.0.0.1:1080\n"),
                  R"(bad.yml:5:16: invalid proxy_url "socks5://127.0.0.1:1080": socks proxies )"
                  R"(are not supported (scheme must be http or https))"},
        ErrorCase{
            "SumdbUrlWithOtherScheme",
            target("goproxy", "https://proxy.test",
                   "    sumdb: \"sum.golang.org+033de0ae+Ac4zctda0e5eza+HJyk9SxEdh+s3Ux18htTTAD"
                   "8OuAn8 ftp://sum.test\"\n"),
            R"(bad.yml:5:12: invalid sumdb "sum.golang.org+033de0ae+Ac4zctda0e5eza+HJyk9Sx)"
            R"(Edh+s3Ux18htTTAD8OuAn8 ftp://sum.test" (expected a GOSUMDB value: "name", )"
            R"("name+hash+key" or "name+hash+key URL"))"},
        // ---- require_http2
        ErrorCase{"RequireHttp2IsAWord",
                  target("http", "https://a.test", "    require_http2: yes\n"),
                  R"(bad.yml:5:20: "require_http2" must be true or false, got "yes")"},
        ErrorCase{"RequireHttp2IsAList",
                  target("http", "https://a.test", "    require_http2: [true]\n"),
                  R"(bad.yml:5:20: "require_http2" must be a string, got a list)"},
        ErrorCase{"RequireHttp2WithoutAnHttp2Attempt",
                  target("goproxy", "https://proxy.test",
                         "    http_versions: [\"1.1\"]\n    require_http2: true\n"),
                  R"(bad.yml:6:20: require_http2: true needs "2" in http_versions (no attempt )"
                  R"(requests HTTP/2))"},
        ErrorCase{"RequireHttp2OnAKindWithoutHttpCheck",
                  target("vcs", "https://git.test/repo", "    require_http2: true\n"),
                  R"(bad.yml:5:5: key "require_http2" does not apply to kind vcs)"},
        // ---- other classes
        ErrorCase{"UnknownKind", target("mirror", "https://a.test"),
                  R"(bad.yml:3:11: invalid kind "mirror" (expected goproxy, sumdb, http, chain, )"
                  R"(dns or vcs))"},
        ErrorCase{"MissingUrl", "targets:\n  - name: a\n    kind: goproxy\n",
                  R"(bad.yml:2:5: target is missing the required key "url" (kind goproxy))"},
        ErrorCase{"DuplicateYamlKey", target("http", "https://a.test", "    url: https://b.test\n"),
                  R"(bad.yml:5:5: duplicate key "url" in target (first at line 4))"},
        ErrorCase{"BadResolver", "global:\n  resolvers: [system, 1.2.3.4:0]\n",
                  R"(bad.yml:2:23: invalid resolver "1.2.3.4:0" (expected "system", an IP )"
                  R"(address, "IPv4:port" or "[IPv6]:port"))"},
        // yaml-cpp's own words for a key indented one column off the target's map.
        ErrorCase{"YamlBadIndentation", "targets:\n  - name: a\n   kind: http\n",
                  "bad.yml:3:4: end of sequence not found"},
        // A file cut short while being written: the error is at its end.
        ErrorCase{"YamlCutShort", "targets:\n  - {name: a, kind: http, url: \"http://a.test\"\n",
                  "bad.yml:3:1: end of map flow not found"}),
    [](const ::testing::TestParamInfo<ErrorCase>& info) { return info.param.name; });

}  // namespace
}  // namespace gomodprobe::config
