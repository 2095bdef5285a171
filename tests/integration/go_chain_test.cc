// The chain kind evaluates a GOPROXY list like the go command: the go command, given the same
// list and fixture, succeeds exactly when gomodprobe finds a serving entry.

#include <gtest/gtest.h>

#include <memory>

#include "agent/agent.h"
#include "integration/go_mod_suite.h"
#include "net/handles.h"

namespace gomodprobe {
namespace {

using testing::GoModFixture;
using testing::ProxyVariant;

class GoChainTest : public testing::GoModSuite {
 protected:
  static ProbeResult chain(const std::string& goproxy, const std::vector<ModuleSpec>& modules,
                           std::map<std::string, std::string> go_env = {}) {
    TargetConfig t;
    t.name = "chain";
    t.kind = TargetKind::Chain;
    t.goproxy = goproxy;
    t.go_env = std::move(go_env);
    t.modules = modules;
    t.http_versions = {HttpVersion::Http11};
    t.timeout = std::chrono::milliseconds(8000);
    t.interval = std::chrono::milliseconds(30000);
    t.ca_file = go_->net().caFile();
    Config config;
    config.targets = {t};
    SystemClock clock;
    auto results = agent::runOnce(config, clock);
    return results.empty() ? ProbeResult{} : results.front();
  }
  static std::string url(ProxyVariant v) { return go_->proxyUrl(v); }
};

TEST_F(GoChainTest, ServingEntryAgreesWithTheGoCommand) {
  struct Case {
    std::string goproxy;
    int entry;  // what gomodprobe must report
  };
  const std::string p502 = url(ProxyVariant::k502);
  const std::string p404 = url(ProxyVariant::k404);
  const std::string good = url(ProxyVariant::kGood);
  const std::vector<Case> cases = {
      {p502 + "," + good, -1},                          // ',' falls back on 404/410 only
      {p404 + "," + good, 1},  {p502 + "|" + good, 1},  // '|' falls back on any error
      {good + "," + p502, 0},  {p404 + "|" + p502 + "," + good, -1},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.goproxy);
    const auto r = chain(c.goproxy, {{"rsc.io/quote", "v1.5.2"}});
    ASSERT_EQ(r.chain_entries.size(), 1U);
    EXPECT_EQ(r.chain_entries[0], c.entry) << r.detail;
    EXPECT_EQ(r.success, c.entry >= 0);
    const auto g = go_->goModDownloadJson("rsc.io/quote@v1.5.2", c.goproxy,
                                          go_->gosumdb(go_->sumdbDirectUrl()));
    EXPECT_EQ(g.exit_code == 0, c.entry >= 0) << "go: " << g.output;
  }
}

TEST_F(GoChainTest, DirectAndOffDecideByThemselves) {
  const std::string p404 = url(ProxyVariant::k404);
  auto r = chain(p404 + ",direct", {{"rsc.io/quote", "v1.5.2"}});
  ASSERT_EQ(r.chain_entries.size(), 1U);
  EXPECT_EQ(r.chain_entries[0], 1) << "direct serves (the VCS is not contacted)";
  r = chain(p404 + ",off", {{"rsc.io/quote", "v1.5.2"}});
  EXPECT_EQ(r.chain_entries[0], -1);
  EXPECT_FALSE(r.success);
  EXPECT_EQ(toLabel(r.reason), "not_found") << r.detail;
}

TEST_F(GoChainTest, LintsTheValueAndThePrivacyVariables) {
  const std::string good = url(ProxyVariant::kGood);
  const auto r = chain(good + " , Direct", {{"corp.example.com/team/lib", "v1.0.0"}},
                       {{"GONOPROXY", "corp.example.com"}});
  bool spaces = false;
  bool casing = false;
  bool sumdb = false;
  for (const auto& finding : r.lint) {
    spaces |= finding.find("space") != std::string::npos;
    casing |= finding.find("Direct") != std::string::npos;
    sumdb |= finding.find("GONOSUMDB") != std::string::npos;
  }
  EXPECT_TRUE(spaces) << ::testing::PrintToString(r.lint);
  EXPECT_TRUE(casing) << ::testing::PrintToString(r.lint);
  EXPECT_TRUE(sumdb) << ::testing::PrintToString(r.lint);
}

}  // namespace
}  // namespace gomodprobe
