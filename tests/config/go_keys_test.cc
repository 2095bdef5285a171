// The issue-3 keys: modules, go_sum, sumdb (goproxy), key (sumdb), and the chain kind.

#include <gtest/gtest.h>

#include "config/config_loader.h"

namespace gomodprobe::config {
namespace {

ConfigError errorOf(const std::string& yaml) {
  try {
    (void)parseConfig(yaml, "t.yml");
  } catch (const ConfigError& e) {
    return e;
  }
  ADD_FAILURE() << "no error for:\n" << yaml;
  return ConfigError("", 0, 0, "");
}

TEST(GoConfigKeysTest, GoproxyTargetWithModulesGoSumAndSumdb) {
  const Config config = parseConfig(R"(targets:
  - name: p
    kind: goproxy
    url: https://proxy.golang.org
    modules: ["golang.org/x/text@v0.14.0", "golang.org/x/mod@latest"]
    go_sum: ["golang.org/x/text v0.14.0 h1:ScX5w1eTa3QqT8oi6+ziP7dTV1S2+ALU0bI+0zXKWiQ="]
    sumdb: sum.golang.org
)",
                                    "t.yml");
  ASSERT_EQ(config.targets.size(), 1U);
  const TargetConfig& t = config.targets[0];
  ASSERT_EQ(t.modules.size(), 2U);
  EXPECT_EQ(t.modules[0].path, "golang.org/x/text");
  EXPECT_EQ(t.modules[0].version, "v0.14.0");
  EXPECT_EQ(t.modules[1].version, "latest");
  EXPECT_EQ(t.go_sum.size(), 1U);
  EXPECT_EQ(t.sumdb, "sum.golang.org");
  EXPECT_TRUE(t.key.empty());
}

TEST(GoConfigKeysTest, SumdbTargetGetsTheSumGolangOrgKeyByDefault) {
  const Config config = parseConfig(R"(targets:
  - name: s
    kind: sumdb
    url: https://sum.golang.org
  - name: mine
    kind: sumdb
    url: https://sumdb.corp.test
    key: "corp.test+b76173b5+AQABAgMEBQYHCAkKCwwNDg8QERITFBUWFxgZGhscHR4f"
)",
                                    "t.yml");
  EXPECT_EQ(config.targets[0].key, kSumGolangOrgKey);
  EXPECT_EQ(config.targets[0].path, "/latest");
  EXPECT_EQ(config.targets[1].key,
            "corp.test+b76173b5+AQABAgMEBQYHCAkKCwwNDg8QERITFBUWFxgZGhscHR4f");
}

TEST(GoConfigKeysTest, ChainNeedsGoproxyNotUrl) {
  const Config config = parseConfig(R"(targets:
  - name: c
    kind: chain
    goproxy: "https://a.test,https://b.test|direct"
    modules: [example.com/m@v1.0.0]
)",
                                    "t.yml");
  EXPECT_EQ(config.targets[0].kind, TargetKind::Chain);
  EXPECT_EQ(config.targets[0].goproxy, "https://a.test,https://b.test|direct");

  const auto e = errorOf("targets:\n  - name: c\n    kind: chain\n");
  EXPECT_EQ(e.line(), 2);
  EXPECT_NE(e.message().find("\"goproxy\""), std::string::npos) << e.what();
}

TEST(GoConfigKeysTest, KeysOfOtherKindsAreErrorsAtTheKey) {
  auto e = errorOf(
      "targets:\n  - name: h\n    kind: http\n    url: https://x.test\n"
      "    modules: [a.test/m@v1.0.0]\n");
  EXPECT_EQ(e.line(), 5);
  EXPECT_EQ(e.column(), 5);
  EXPECT_NE(e.message().find("does not apply to kind http"), std::string::npos) << e.what();

  e = errorOf(
      "targets:\n  - name: s\n    kind: sumdb\n    url: https://x.test\n"
      "    go_sum: []\n");
  EXPECT_EQ(e.line(), 5);
}

TEST(GoConfigKeysTest, MalformedValuesPointAtTheItem) {
  auto e = errorOf(
      "targets:\n  - name: p\n    kind: goproxy\n    url: https://x.test\n"
      "    modules: [ok.test/m@v1.0.0, no-version]\n");
  EXPECT_EQ(e.line(), 5);
  EXPECT_EQ(e.column(), 33);
  EXPECT_NE(e.message().find("invalid module \"no-version\""), std::string::npos) << e.what();

  e = errorOf(
      "targets:\n  - name: p\n    kind: goproxy\n    url: https://x.test\n"
      "    go_sum:\n      - \"m v1.0.0 sha256:abc\"\n");
  EXPECT_EQ(e.line(), 6);
  EXPECT_EQ(e.column(), 9);

  e = errorOf(
      "targets:\n  - name: s\n    kind: sumdb\n    url: https://x.test\n"
      "    key: not-a-key\n");
  EXPECT_EQ(e.line(), 5);
  EXPECT_EQ(e.column(), 10);

  e = errorOf(
      "targets:\n  - name: p\n    kind: goproxy\n    url: https://x.test\n"
      "    sumdb: sumdb.corp.test\n");
  EXPECT_NE(e.message().find("needs its verifier key"), std::string::npos) << e.what();

  e = errorOf(
      "targets:\n  - name: p\n    kind: goproxy\n    url: https://x.test\n"
      "    modules: [a.test/m@v1.0.0, a.test/m@v1.0.0]\n");
  EXPECT_NE(e.message().find("duplicate module"), std::string::npos) << e.what();
}

}  // namespace
}  // namespace gomodprobe::config
