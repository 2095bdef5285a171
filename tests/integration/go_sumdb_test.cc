// The sumdb kind and goproxy targets with a sumdb, against a real checksum database built from
// x/mod (sumdb.NewServer + NewTestServer) behind nginx, with the go command as the reference
// where both can look: signature, inclusion, consistency across runs (fork after a restart),
// proxied /sumdb/<name>/supported, tampered zip.

#include <gtest/gtest.h>

#include <memory>

#include "agent/agent.h"
#include "integration/go_mod_suite.h"
#include "net/handles.h"
#include "probe/probe_factory.h"

namespace gomodprobe {
namespace {

using testing::GoModFixture;
using testing::ProxyVariant;

class GoSumdbTest : public testing::GoModSuite {
 protected:
  void SetUp() override { go_->restartSumdb(GoModFixture::kDefaultSeed); }

  static TargetConfig base(const std::string& name, TargetKind kind, const std::string& url) {
    TargetConfig t;
    t.name = name;
    t.kind = kind;
    t.url = url;
    // nginx lists no directory: the base check of a proxy asks for a file that exists.
    t.path = kind == TargetKind::SumDb ? "/latest" : "/rsc.io/quote/@v/list";
    t.http_versions = {HttpVersion::Http11};
    t.ip_protocol = IpProtocol::Ip4;
    t.timeout = std::chrono::milliseconds(8000);
    t.interval = std::chrono::milliseconds(30000);
    t.ca_file = go_->net().caFile();
    return t;
  }
  static TargetConfig sumdbTarget(const std::string& url, const std::string& key) {
    TargetConfig t = base("sumdb", TargetKind::SumDb, url);
    t.key = key;
    t.modules = {{"rsc.io/quote", "v1.5.2"}, {"rsc.io/sampler", "v1.3.0"}};
    return t;
  }
  static ProbeResult run(const TargetConfig& t, const probe::ProbeEnv& env) {
    Config config;
    config.targets = {t};
    SystemClock clock;
    auto results = agent::runOnce(config, clock, probe::defaultProbeFactory(env));
    return results.empty() ? ProbeResult{} : results.front();
  }
};

TEST_F(GoSumdbTest, VerifiesSignatureLookupsAndInclusionDirectly) {
  probe::ProbeEnv env;
  const auto r = run(sumdbTarget(go_->sumdbDirectUrl(), go_->sumdbKey()), env);
  ASSERT_TRUE(r.success) << toLabel(r.reason) << ": " << r.detail;
  ASSERT_TRUE(r.sumdb.has_value());
  EXPECT_TRUE(r.sumdb->signature_valid);
  EXPECT_GE(r.sumdb->tree_size, 2);
  ASSERT_TRUE(r.sumdb->inclusion_verified.has_value());
  EXPECT_TRUE(*r.sumdb->inclusion_verified);
  ASSERT_EQ(r.modules.size(), 2U);
  EXPECT_GE(r.modules[0].record_id, 0);
  // The lookup's go.sum lines are the hashes the go command records.
  EXPECT_EQ(r.modules[0].zip_hash, go_->gosumHash("rsc.io/quote@v1.5.2"));
  EXPECT_EQ(r.modules[0].mod_hash, go_->gosumHash("rsc.io/quote@v1.5.2", true));
  EXPECT_EQ(r.modules[1].zip_hash, go_->gosumHash("rsc.io/sampler@v1.3.0"));
}

TEST_F(GoSumdbTest, SecondRunProvesConsistencyWithTheFirst) {
  probe::ProbeEnv env;
  auto target = sumdbTarget(go_->sumdbDirectUrl(), go_->sumdbKey());
  target.modules = {{"rsc.io/quote", "v1.5.2"}};
  const auto first = run(target, env);
  ASSERT_TRUE(first.success) << first.detail;
  // The log grows between the runs (a new record), and the second run must prove the old tree is
  // a prefix of the new one.
  target.modules = {{"rsc.io/sampler", "v1.3.0"}};
  const auto second = run(target, env);
  ASSERT_TRUE(second.success) << toLabel(second.reason) << ": " << second.detail;
  EXPECT_GT(second.sumdb->tree_size, first.sumdb->tree_size);
  ASSERT_TRUE(second.sumdb->consistency_verified.has_value());
  EXPECT_TRUE(*second.sumdb->consistency_verified);
}

TEST_F(GoSumdbTest, WrongKeyIsSumdbSignatureLikeTheGoCommand) {
  probe::ProbeEnv env;
  const auto r = run(sumdbTarget(go_->sumdbDirectUrl(), go_->wrongSumdbKey()), env);
  EXPECT_FALSE(r.success);
  EXPECT_EQ(toLabel(r.reason), "sumdb_signature") << r.detail;
  ASSERT_TRUE(r.sumdb.has_value());
  EXPECT_FALSE(r.sumdb->signature_valid);

  const auto go = go_->goModDownloadJson("rsc.io/quote@v1.5.2", go_->proxyUrl(),
                                         go_->wrongSumdbKey() + " " + go_->sumdbDirectUrl());
  EXPECT_NE(go.exit_code, 0) << "the go command refuses the wrong key too";
}

TEST_F(GoSumdbTest, ForkAfterRestartIsSumdbInconsistentLikeTheGoCommand) {
  // A state directory, so that what the first run saw survives like an agent restart would.
  const std::string state_dir = go_->dir() + "/state-fork";
  probe::ProbeEnv env;
  env.sumdb_state = std::make_shared<sumdb::StateStore>(state_dir);
  auto target = sumdbTarget(go_->sumdbDirectUrl(), go_->sumdbKey());
  go_->restartSumdb(GoModFixture::kDefaultSeed, {"rsc.io/quote@v1.5.2", "rsc.io/sampler@v1.3.0"});
  const auto first = run(target, env);
  ASSERT_TRUE(first.success) << first.detail;
  testing::GoRunOptions shared;
  shared.state = "fork";
  const auto go_before = go_->goModDownloadJson("rsc.io/quote@v1.5.2", go_->proxyUrl(),
                                                go_->gosumdb(go_->sumdbDirectUrl()), shared);
  ASSERT_EQ(go_before.exit_code, 0) << go_before.output;

  // Same name and key, records in another order: a different tree of the same size.
  go_->restartSumdb(GoModFixture::kDefaultSeed, {"rsc.io/sampler@v1.3.0", "rsc.io/quote@v1.5.2"});
  probe::ProbeEnv restarted;  // a new agent process reading the same state directory
  restarted.sumdb_state = std::make_shared<sumdb::StateStore>(state_dir);
  const auto second = run(target, restarted);
  EXPECT_FALSE(second.success);
  EXPECT_EQ(toLabel(second.reason), "sumdb_inconsistent") << second.detail;
  ASSERT_TRUE(second.sumdb.has_value());
  EXPECT_TRUE(second.sumdb->signature_valid) << "signed by the right key, yet a fork";

  const auto go_after = go_->goModDownloadJson("rsc.io/sampler@v1.3.0", go_->proxyUrl(),
                                               go_->gosumdb(go_->sumdbDirectUrl()), shared);
  EXPECT_NE(go_after.exit_code, 0);
  EXPECT_NE(go_after.output.find("SECURITY ERROR"), std::string::npos) << go_after.output;
}

TEST_F(GoSumdbTest, GoproxyLooksUpThroughTheProxyAndMatches) {
  probe::ProbeEnv env;
  auto t = base("proxy", TargetKind::GoProxy, go_->proxyUrl());
  t.modules = {{"rsc.io/quote", "v1.5.2"}};
  t.sumdb = go_->sumdbKey();  // no URL: through $proxy/sumdb/<name>/
  const auto r = run(t, env);
  ASSERT_TRUE(r.success) << toLabel(r.reason) << ": " << r.detail;
  ASSERT_EQ(r.modules.size(), 1U);
  ASSERT_TRUE(r.modules[0].hash_match.has_value());
  EXPECT_TRUE(*r.modules[0].hash_match);
  EXPECT_GE(r.modules[0].record_id, 0);
  ASSERT_TRUE(r.sumdb.has_value());
  EXPECT_TRUE(r.sumdb->inclusion_verified.value_or(false));
}

TEST_F(GoSumdbTest, TamperedZipAgainstTheSumdbIsChecksumMismatch) {
  probe::ProbeEnv env;
  auto t = base("tampered", TargetKind::GoProxy, go_->proxyUrl(ProxyVariant::kTamperedZip));
  t.modules = {{"rsc.io/quote", "v1.5.2"}};
  t.sumdb = go_->sumdbKey();
  const auto r = run(t, env);
  EXPECT_EQ(toLabel(r.reason), "checksum_mismatch") << r.detail;
  ASSERT_EQ(r.modules.size(), 1U);
  EXPECT_EQ(r.modules[0].hash_match, std::optional<bool>(false));

  const auto go = go_->goModDownloadJson("rsc.io/quote@v1.5.2",
                                         go_->proxyUrl(ProxyVariant::kTamperedZip), go_->gosumdb());
  EXPECT_NE(go.exit_code, 0);
  EXPECT_NE(go.output.find(r.modules[0].zip_hash), std::string::npos)
      << "go reports the same downloaded hash: " << go.output;
}

TEST_F(GoSumdbTest, TamperedGoModAgainstTheSumdbIsChecksumMismatch) {
  probe::ProbeEnv env;
  auto t = base("tampered-mod", TargetKind::GoProxy, go_->proxyUrl(ProxyVariant::kTamperedMod));
  t.modules = {{"rsc.io/quote", "v1.5.2"}};
  t.sumdb = go_->sumdbKey();
  const auto r = run(t, env);
  EXPECT_EQ(toLabel(r.reason), "checksum_mismatch") << r.detail;
  ASSERT_EQ(r.modules.size(), 1U);
  EXPECT_NE(r.modules[0].mod_hash, go_->gosumHash("rsc.io/quote@v1.5.2", true));
  EXPECT_NE(r.modules[0].detail.find("go.mod"), std::string::npos) << r.modules[0].detail;

  const auto go = go_->goModDownloadJson("rsc.io/quote@v1.5.2",
                                         go_->proxyUrl(ProxyVariant::kTamperedMod), go_->gosumdb());
  EXPECT_NE(go.exit_code, 0);
  EXPECT_NE(go.output.find(r.modules[0].mod_hash), std::string::npos) << go.output;
}

TEST_F(GoSumdbTest, ProxyWithoutTheSumdbIsSumdbUnsupported) {
  // The plain fixture server answers / with 200 but has no /sumdb/<name>/supported.
  probe::ProbeEnv env;
  auto t = base("nosumdb", TargetKind::GoProxy,
                "https://127.0.0.1:" + std::to_string(go_->net().h2Port()));
  t.path = "/";
  t.modules = {{"rsc.io/quote", "v1.5.2"}};
  t.sumdb = go_->sumdbKey();
  const auto r = run(t, env);
  EXPECT_FALSE(r.success);
  EXPECT_EQ(toLabel(r.reason), "sumdb_unsupported") << r.detail;
  EXPECT_TRUE(r.modules.empty()) << "no module is fetched without its expected hashes";
}

}  // namespace
}  // namespace gomodprobe
