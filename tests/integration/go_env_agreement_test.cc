// The runner's Go environment (issue 4 item 4): the targets built from GOPROXY/GOSUMDB/… must
// reach the same verdict as the real go command with that environment, including how the checksum
// database is found through the proxies (cmd/go's initBase); `gomodprobe check --from-go-env` and
// `gomodprobe lint-env` as a CI pre-step would run them.

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <cstdio>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "agent/agent.h"
#include "config/go_env.h"
#include "integration/go_mod_suite.h"
#include "net/handles.h"

namespace gomodprobe {
namespace {

using testing::GoModFixture;
using ::testing::HasSubstr;
using testing::ProxyVariant;
using testing::runCommand;

constexpr const char* kModule = "rsc.io/quote@v1.5.2";

const ProbeResult* find(const std::vector<ProbeResult>& results, TargetKind kind) {
  for (const auto& r : results) {
    if (r.kind == kind) return &r;
  }
  return nullptr;
}

class GoEnvAgreementTest : public testing::GoModSuite {
 protected:
  /// Targets from a Go environment with GOPROXY and the fixture's GOSUMDB key (no URL: the go
  /// command finds the database through the proxies), run once.
  static std::vector<ProbeResult> runFromGoEnv(const std::string& goproxy) {
    config::GoEnv env;
    env.source = "test";
    env.vars = {
        {"GOPROXY", goproxy}, {"GOSUMDB", go_->gosumdb()}, {"SSL_CERT_FILE", go_->net().caFile()}};
    config::GoEnvTargetOptions options;
    options.modules = {{"rsc.io/quote", "v1.5.2"}};
    Config config = config::configFromGoEnv(env, options, "test");
    for (auto& t : config.targets) t.timeout = std::chrono::milliseconds(8000);
    SystemClock clock;
    return agent::runOnce(config, clock);
  }

  static bool goSucceeds(const std::string& goproxy) {
    const auto r = go_->goModDownloadJson(kModule, goproxy, go_->gosumdb());
    return r.exit_code == 0 && r.error.empty();
  }

  /// The sumdb and chain targets' verdicts next to the go command's, for one GOPROXY value.
  struct Verdicts {
    ProbeResult sumdb;
    ProbeResult chain;
    bool go_ok = false;
  };
  static Verdicts verdicts(const std::string& goproxy) {
    const auto results = runFromGoEnv(goproxy);
    Verdicts v;
    const ProbeResult* sumdb = find(results, TargetKind::SumDb);
    const ProbeResult* chain = find(results, TargetKind::Chain);
    if (sumdb != nullptr) v.sumdb = *sumdb;
    if (chain != nullptr) v.chain = *chain;
    EXPECT_TRUE(sumdb != nullptr && chain != nullptr) << "missing targets for " << goproxy;
    v.go_ok = goSucceeds(goproxy);
    return v;
  }
};

TEST_F(GoEnvAgreementTest, SumdbFoundThroughSecondProxyAfter404LikeGo) {
  const auto v = verdicts(go_->proxyUrl(ProxyVariant::k404) + "," + go_->proxyUrl());
  EXPECT_TRUE(v.go_ok);
  EXPECT_TRUE(v.sumdb.success) << v.sumdb.detail;
  ASSERT_TRUE(v.sumdb.sumdb.has_value());
  EXPECT_EQ(v.sumdb.sumdb->base_url, go_->sumdbProxyUrl());
  EXPECT_EQ(v.sumdb.sumdb->inclusion_verified, std::optional<bool>(true));
  ASSERT_EQ(v.sumdb.modules.size(), 1U);
  EXPECT_EQ(v.sumdb.modules[0].zip_hash, go_->gosumHash(kModule));
  EXPECT_TRUE(v.chain.success) << v.chain.detail;
  EXPECT_EQ(v.chain.chain_entries, std::vector<int>{1});
}

TEST_F(GoEnvAgreementTest, Proxy502BeforeCommaFailsBothLikeGo) {
  const auto v = verdicts(go_->proxyUrl(ProxyVariant::k502) + "," + go_->proxyUrl());
  EXPECT_FALSE(v.go_ok);
  EXPECT_FALSE(v.sumdb.success);
  EXPECT_EQ(v.sumdb.reason, FailureReason::HttpStatus) << v.sumdb.detail;
  EXPECT_THAT(v.sumdb.detail, HasSubstr("/supported"));
  EXPECT_FALSE(v.chain.success);
}

TEST_F(GoEnvAgreementTest, Proxy502BeforePipeFallsThroughLikeGo) {
  const auto v = verdicts(go_->proxyUrl(ProxyVariant::k502) + "|" + go_->proxyUrl());
  EXPECT_TRUE(v.go_ok);
  EXPECT_TRUE(v.sumdb.success) << v.sumdb.detail;
  ASSERT_TRUE(v.sumdb.sumdb.has_value());
  EXPECT_EQ(v.sumdb.sumdb->base_url, go_->sumdbProxyUrl());
  EXPECT_TRUE(v.chain.success) << v.chain.detail;
}

TEST_F(GoEnvAgreementTest, GoProxyTargetFetchesTheModuleAndMatchesTheSumdbHash) {
  const auto results = runFromGoEnv(go_->proxyUrl(ProxyVariant::kGood));
  const ProbeResult* proxy = find(results, TargetKind::GoProxy);
  ASSERT_NE(proxy, nullptr);
  EXPECT_TRUE(proxy->success) << proxy->detail;
  ASSERT_EQ(proxy->modules.size(), 1U);
  EXPECT_EQ(proxy->modules[0].zip_hash, go_->gosumHash(kModule));
}

TEST_F(GoEnvAgreementTest, CheckFromGoEnvBinaryReportsEveryTargetAsJson) {
  const std::string env = "env -i PATH=/usr/bin:/bin GOPROXY='" +
                          go_->proxyUrl(ProxyVariant::k404) + "," +
                          go_->proxyUrl(ProxyVariant::kGood) + "' GOSUMDB='" + go_->gosumdb() +
                          "' SSL_CERT_FILE=" + go_->net().caFile() + " ";
  const auto r =
      runCommand(env + GOMODPROBE_BINARY + " check --from-go-env --output json --module " + kModule,
                 /*with_stderr=*/false);
  // The 404 proxy's own target fails (it has no module): exit 1, as a pre-step would see it.
  EXPECT_EQ(r.exit_code, 1) << r.output;
  const auto json = nlohmann::json::parse(r.output, nullptr, false);
  ASSERT_TRUE(json.is_array()) << r.output;
  std::map<std::string, bool> success;
  for (const auto& t : json)
    success[t.value("kind", "")] = success[t.value("kind", "")] || t.value("success", false);
  EXPECT_TRUE(success["chain"]) << r.output;
  EXPECT_TRUE(success["sumdb"]) << r.output;
  EXPECT_TRUE(success["goproxy"]) << r.output;
}

TEST(GoEnvLintBinaryTest, LintEnvExitsNonZeroOnErrorsOnly) {
  const std::string binary = GOMODPROBE_BINARY;
  auto bad = runCommand("env -i GOPROXY='https://goproxy.cn;direct' " + binary + " lint-env");
  EXPECT_EQ(bad.exit_code, 1) << bad.output;
  EXPECT_THAT(bad.output, HasSubstr("error   GOPROXY"));
  EXPECT_THAT(bad.output, HasSubstr("fix: "));
  auto warn = runCommand("env -i GONOPROXY=git.corp.example " + binary + " lint-env");
  EXPECT_EQ(warn.exit_code, 0) << warn.output;
  EXPECT_THAT(warn.output, HasSubstr("warning GONOSUMDB"));
  auto good = runCommand("env -i GOPRIVATE=git.corp.example " + binary + " lint-env");
  EXPECT_EQ(good.exit_code, 0) << good.output;
  EXPECT_THAT(good.output, HasSubstr("0 error(s), 0 warning(s)"));
}

TEST(GoEnvLintBinaryTest, GoEnvFromGoReadsSettingsWrittenWithGoEnvW) {
  char dir_template[] = "/tmp/gomodprobe-goenv-XXXXXX";
  ASSERT_NE(::mkdtemp(dir_template), nullptr);
  const std::string dir = dir_template;
  const std::string env = "env -i PATH=/usr/bin:/bin HOME=" + dir + " GOENV=" + dir + "/go.env ";
  auto w = runCommand(env + "go env -w 'GOPROXY=https://goproxy.cn;direct'");
  ASSERT_EQ(w.exit_code, 0) << w.output;
  // The process environment has no GOPROXY: only `go env -json` sees the mistake.
  auto from_env = runCommand(env + GOMODPROBE_BINARY + " lint-env");
  EXPECT_EQ(from_env.exit_code, 0) << from_env.output;
  auto from_go = runCommand(env + GOMODPROBE_BINARY + " lint-env --go-env-from=go");
  EXPECT_EQ(from_go.exit_code, 1) << from_go.output;
  EXPECT_THAT(from_go.output, HasSubstr("go env -json"));
  EXPECT_THAT(from_go.output, HasSubstr("GOPROXY=\"https://goproxy.cn;direct\""));
  (void)runCommand("rm -rf " + dir);
}

}  // namespace
}  // namespace gomodprobe
