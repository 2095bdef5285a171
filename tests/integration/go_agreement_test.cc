// The real go command and gomodprobe's goproxy probe look at the same Go module proxy
// (GoModFixture: nginx serving trees built from cmd/go's test corpus, an x/mod checksum database)
// and must agree on success or failure, on the resolved version and on the h1 hashes.
//
// The go command runs `go mod download -json M@V` with GOPROXY at the variant under test and
// GOSUMDB at the fixture's (honest) checksum database, so its expectation is the sumdb; gomodprobe
// gets the same expectation as pinned go_sum lines from the tree's gosum.txt (the records the
// sumdb serves). Every case adds one row to a table printed at the end of the suite.

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <prometheus/text_serializer.h>

#include <algorithm>
#include <cstdio>
#include <ctime>
#include <fstream>
#include <iomanip>
#include <iostream>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <regex>
#include <sstream>
#include <string>
#include <vector>

#include "agent/agent.h"
#include "config/config_loader.h"
#include "integration/go_fixture.h"
#include "metrics/probe_collector.h"
#include "net/handles.h"

namespace gomodprobe {
namespace {

using std::chrono::milliseconds;
using testing::GoModDownload;
using testing::GoModFixture;
using ::testing::HasSubstr;
using testing::ProxyVariant;

constexpr const char* kQuote = "rsc.io/quote";
constexpr const char* kQuoteVersion = "v1.5.2";

/// One row of the agreement table.
struct Row {
  std::string test_case;
  std::string module;     ///< M@requested
  bool go_ok = false;     ///< go mod download exit code 0
  std::string go_detail;  ///< version, or what go complained about
  bool probe_ok = false;  ///< ModuleCheck::success (ProbeResult::success when no module ran)
  std::string reason;     ///< gomodprobe's reason label ("-" when none)
  std::string version;    ///< gomodprobe's resolved version ("-" when none)
  std::string hashes;     ///< "yes" / "no" / "-": gomodprobe's h1 hashes equal what go computed
};

std::string readFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

/// RFC 3339 → Unix seconds (an implementation independent of the probe's).
std::optional<double> parseTime(const std::string& text) {
  std::tm tm{};
  char rest[16] = {};  // NOLINT(cppcoreguidelines-avoid-c-arrays,modernize-avoid-c-arrays)
  if (std::sscanf(text.c_str(), "%d-%d-%dT%d:%d:%d%15s", &tm.tm_year, &tm.tm_mon, &tm.tm_mday,
                  &tm.tm_hour, &tm.tm_min, &tm.tm_sec, rest) != 7) {
    return std::nullopt;
  }
  tm.tm_year -= 1900;
  tm.tm_mon -= 1;
  const auto seconds = static_cast<double>(timegm(&tm));
  const std::string zone(rest);
  if (zone == "Z") return seconds;
  int hours = 0;
  int minutes = 0;
  if (zone.size() == 6 && std::sscanf(zone.c_str() + 1, "%d:%d", &hours, &minutes) == 2) {
    const double offset = hours * 3600.0 + minutes * 60.0;
    return zone[0] == '+' ? seconds - offset : seconds + offset;
  }
  return std::nullopt;
}

/// The Time of the .info file the go command stored in its module cache.
std::optional<double> goInfoTime(const GoModDownload& go) {
  std::smatch m;
  const std::string info = readFile(go.info);
  static const std::regex kTime(R"re("Time"\s*:\s*"([^"]+)")re");
  if (!std::regex_search(info, m, kTime)) return std::nullopt;
  return parseTime(m[1].str());
}

/// The "downloaded: h1:…" hash of a go checksum-mismatch error ("" if none).
std::string goDownloadedHash(const GoModDownload& go) {
  std::smatch m;
  static const std::regex kDownloaded(R"re(downloaded: (h1:[A-Za-z0-9+/=]+))re");
  const std::string text = go.error + "\n" + go.output;
  return std::regex_search(text, m, kDownloaded) ? m[1].str() : std::string();
}

/// What go complained about, in a few words.
std::string goComplaint(const GoModDownload& go) {
  const std::string text = go.error + "\n" + go.output;
  if (text.find("verifying go.mod: checksum mismatch") != std::string::npos) {
    return "go.mod checksum mismatch";
  }
  if (text.find("verifying module: checksum mismatch") != std::string::npos) {
    return "zip checksum mismatch";
  }
  for (const char* status : {"404 Not Found", "410 Gone", "502 Bad Gateway"}) {
    if (text.find(status) != std::string::npos) return status;
  }
  return "error";
}

std::vector<ModuleStep> stepsOf(const ModuleCheck& m) {
  std::vector<ModuleStep> out;
  for (const auto& s : m.steps) out.push_back(s.step);
  return out;
}

std::string stepsText(const ModuleCheck& m) {
  std::string out;
  for (const auto& s : m.steps) {
    out += std::string(toLabel(s.step)) + "=" + std::to_string(s.status_code) + " ";
  }
  return out;
}

/// One object of a `go mod download -json M1@V1 M2@V2 ...` stream.
struct GoModule {
  std::string path;
  std::string version;
  std::string error;
  std::string sum;
  std::string go_mod_sum;
};

/// go prints one indented object per argument, each closed by a "}" line.
std::vector<GoModule> parseGoStream(const std::string& text) {
  std::vector<GoModule> out;
  std::istringstream in(text);
  std::string chunk;
  for (std::string line; std::getline(in, line);) {
    chunk += line + "\n";
    if (line != "}") continue;
    const auto json = nlohmann::json::parse(chunk, nullptr, /*allow_exceptions=*/false);
    chunk.clear();
    if (!json.is_object()) continue;
    const auto field = [&](const char* key) {
      const auto it = json.find(key);
      return it != json.end() && it->is_string() ? it->get<std::string>() : std::string();
    };
    out.push_back(
        {field("Path"), field("Version"), field("Error"), field("Sum"), field("GoModSum")});
  }
  return out;
}

class GoAgreementTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    libraries_ = std::make_unique<net::NetLibraries>();
    try {
      go_ = std::make_unique<GoModFixture>();
      go_->start();
    } catch (const std::exception& e) {
      start_error_ = e.what();
    }
  }

  static void TearDownTestSuite() {
    printTable(std::cout);
    go_.reset();
    libraries_.reset();
  }

  void SetUp() override { ASSERT_TRUE(start_error_.empty()) << start_error_; }

  static GoModFixture& go() { return *go_; }

  /// A goproxy target on the fixture (IP-literal URL, so no DNS; the test CA). The base HTTP check
  /// requests the first module's @v/list: the proxy root itself is a 403 (no index).
  static TargetConfig target(const std::string& name, ProxyVariant variant,
                             std::vector<ModuleSpec> modules) {
    TargetConfig t;
    t.name = name;
    t.kind = TargetKind::GoProxy;
    t.url = go().proxyUrl(variant);
    t.path = "/" + modules.front().path + "/@v/list";
    t.http_versions = {HttpVersion::Http11, HttpVersion::Http2};
    t.resolvers = {*config::parseResolver(go().net().dnsPrimary())};
    t.ip_protocol = IpProtocol::Ip4;
    t.timeout = milliseconds(30000);
    t.interval = milliseconds(60000);
    t.ca_file = go().net().caFile();
    t.modules = std::move(modules);
    t.go_sum = go().gosumLines();
    return t;
  }

  static std::vector<ProbeResult> probe(const std::vector<TargetConfig>& targets) {
    Config config;
    config.targets = targets;
    SystemClock clock;
    return agent::runOnce(config, clock);
  }

  static ProbeResult probe(const TargetConfig& t) {
    auto results = probe(std::vector<TargetConfig>{t});
    EXPECT_EQ(results.size(), 1U);
    return results.empty() ? ProbeResult{} : results.front();
  }

  static GoModDownload goDownload(const std::string& module_at_version, ProxyVariant variant) {
    return go().goModDownloadJson(module_at_version, go().proxyUrl(variant),
                                  go().gosumdb(go().sumdbDirectUrl()));
  }

  static void addRow(Row row) { rows_.push_back(std::move(row)); }

  /// The fields every fully fetched module has: the four steps, each a 200, and the .info time.
  /// A "latest" query has one more step after the list: @latest when the list had no version
  /// (`via_latest`), else the highest listed version's go.mod, read for its retract directives.
  static void expectFullFetch(const ModuleCheck& m, bool via_latest = false) {
    std::vector<ModuleStep> want = {ModuleStep::List, ModuleStep::Info, ModuleStep::Mod,
                                    ModuleStep::Zip};
    if (via_latest || m.requested == "latest") want.insert(want.begin() + 1, ModuleStep::Latest);
    EXPECT_EQ(stepsOf(m), want) << stepsText(m);
    for (const auto& s : m.steps) {
      EXPECT_TRUE(s.success) << toLabel(s.step);
      EXPECT_EQ(s.status_code, 200) << toLabel(s.step);
      EXPECT_GE(s.duration_seconds, 0.0);
    }
    EXPECT_TRUE(m.info_time.has_value());
    EXPECT_GT(m.zip_bytes, 0U);
    EXPECT_TRUE(m.zip_hash.starts_with("h1:")) << m.zip_hash;
    EXPECT_TRUE(m.mod_hash.starts_with("h1:")) << m.mod_hash;
  }

  /// Both succeed: gomodprobe's hashes are go's Sum and GoModSum, its version go's Version and its
  /// info_time the Time of the .info go stored.
  static void expectSuccessAgreement(const std::string& test_case, const ModuleCheck& m,
                                     const GoModDownload& g, bool via_latest = false) {
    const std::string module = m.module + "@" + m.requested;
    SCOPED_TRACE(module);
    addRow({test_case, module, g.exit_code == 0, g.exit_code == 0 ? g.version : goComplaint(g),
            m.success, m.reason == FailureReason::None ? "-" : std::string(toLabel(m.reason)),
            m.version.empty() ? "-" : m.version,
            m.zip_hash == g.sum && m.mod_hash == g.go_mod_sum ? "yes" : "no"});
    EXPECT_EQ(g.exit_code, 0) << g.output;
    EXPECT_TRUE(m.success) << toLabel(m.reason) << ": " << m.detail;
    EXPECT_EQ(m.reason, FailureReason::None);
    EXPECT_EQ(m.version, g.version);
    expectFullFetch(m, via_latest);
    EXPECT_EQ(m.zip_hash, g.sum);
    EXPECT_EQ(m.mod_hash, g.go_mod_sum);
    EXPECT_EQ(m.hash_match, std::optional<bool>(true));
    const auto go_time = goInfoTime(g);
    ASSERT_TRUE(go_time.has_value()) << readFile(g.info);
    ASSERT_TRUE(m.info_time.has_value());
    EXPECT_DOUBLE_EQ(*m.info_time, *go_time);
  }

  static void printTable(std::ostream& out) {
    if (rows_.empty()) return;
    const auto line = [&](const std::string& c, const std::string& m, const std::string& gv,
                          const std::string& gd, const std::string& pv, const std::string& r,
                          const std::string& v, const std::string& h, const std::string& a) {
      out << std::left << std::setw(14) << c << ' ' << std::setw(54) << m << ' ' << std::setw(4)
          << gv << ' ' << std::setw(34) << gd << ' ' << std::setw(10) << pv << ' ' << std::setw(17)
          << r << ' ' << std::setw(34) << v << ' ' << std::setw(5) << h << ' ' << a << '\n';
    };
    out << "\ngo command vs gomodprobe (same fixture proxy and checksum database)\n";
    line("CASE", "MODULE@REQUESTED", "GO", "GO VERSION / ERROR", "GOMODPROBE", "REASON", "VERSION",
         "H1=GO", "AGREE");
    for (const Row& r : rows_) {
      line(r.test_case, r.module, r.go_ok ? "ok" : "fail", r.go_detail, r.probe_ok ? "ok" : "fail",
           r.reason, r.version, r.hashes, r.go_ok == r.probe_ok && r.hashes != "no" ? "yes" : "NO");
    }
    out << std::flush;
  }

  static inline std::unique_ptr<net::NetLibraries> libraries_;
  static inline std::unique_ptr<GoModFixture> go_;
  static inline std::string start_error_;
  static inline std::vector<Row> rows_;
};

// ---- 1. a good proxy ---------------------------------------------------------------------------

TEST_F(GoAgreementTest, GoodProxyBothSucceedWithTheSameHashes) {
  // Plain paths, a pseudo-version, a module path and a prerelease version needing case escaping
  // (rsc.io/!q!u!o!t!e/@v/v1.5.3-!p!r!e), a +incompatible version.
  const std::vector<ModuleSpec> modules = {
      {kQuote, kQuoteVersion},         {"rsc.io/sampler", "v1.3.0"},
      {"golang.org/x/text", "v0.3.0"}, {"example.com/notags", "v0.0.0-20190507143103-cc8cbe209b64"},
      {"rsc.io/QUOTE", "v1.5.3-PRE"},  {"rsc.io/breaker", "v2.0.0+incompatible"},
  };
  for (const auto& spec : modules) {
    ASSERT_THAT(go().modulesAvailable(), ::testing::Contains(spec.text()));
  }
  const auto r = probe(target("good", ProxyVariant::kGood, modules));
  EXPECT_TRUE(r.success) << toLabel(r.reason) << ": " << r.detail;
  EXPECT_EQ(r.reason, FailureReason::None);
  ASSERT_EQ(r.modules.size(), modules.size()) << r.detail;
  for (std::size_t i = 0; i < modules.size(); ++i) {
    const ModuleCheck& m = r.modules[i];
    EXPECT_EQ(m.module, modules[i].path);
    EXPECT_EQ(m.requested, modules[i].version);
    const auto g = goDownload(modules[i].text(), ProxyVariant::kGood);
    EXPECT_EQ(g.version, modules[i].version) << g.output;
    // go.sum of the tree, the sumdb go verified against, and gomodprobe agree.
    EXPECT_EQ(g.sum, go().gosumHash(modules[i].text()));
    EXPECT_EQ(g.go_mod_sum, go().gosumHash(modules[i].text(), /*go_mod=*/true));
    expectSuccessAgreement("good", m, g);
  }
}

// ---- 2. "latest" -------------------------------------------------------------------------------

TEST_F(GoAgreementTest, LatestResolvesToTheVersionGoPicks) {
  // rsc.io/quote: the newest release (v1.5.2) wins over the newer prerelease v1.5.3-pre1;
  // rsc.io/sampler: v1.99.99; example.com/notags: the list is empty, so both ask @latest for a
  // pseudo-version (whose .info Time has a -07:00 offset).
  struct Case {
    std::string module;
    bool via_latest;
  };
  const std::vector<Case> cases = {
      {kQuote, false}, {"rsc.io/sampler", false}, {"example.com/notags", true}};
  std::vector<ModuleSpec> modules;
  for (const auto& c : cases) modules.push_back({c.module, "latest"});
  const auto r = probe(target("latest", ProxyVariant::kGood, modules));
  EXPECT_TRUE(r.success) << toLabel(r.reason) << ": " << r.detail;
  ASSERT_EQ(r.modules.size(), cases.size()) << r.detail;
  for (std::size_t i = 0; i < cases.size(); ++i) {
    const ModuleCheck& m = r.modules[i];
    EXPECT_EQ(m.requested, "latest");
    const auto g = goDownload(cases[i].module + "@latest", ProxyVariant::kGood);
    ASSERT_EQ(g.exit_code, 0) << g.output;
    ASSERT_FALSE(g.version.empty()) << g.output;
    expectSuccessAgreement("latest", m, g, cases[i].via_latest);
  }
  EXPECT_EQ(r.modules[0].version, kQuoteVersion);
  EXPECT_EQ(r.modules[1].version, "v1.99.99");
  EXPECT_EQ(r.modules[2].version, "v0.0.0-20190507143103-cc8cbe209b64");
  // 2019-05-07T07:31:03-07:00
  EXPECT_DOUBLE_EQ(r.modules[2].info_time.value_or(0), 1557239463.0);
}

TEST_F(GoAgreementTest, LatestSkipsRetractedVersionsLikeGo) {
  // The go command's "latest" (cmd/go/internal/modload/query.go) leaves out versions retracted by
  // the go.mod of the module's latest version: example.com/retract/self/prev lists v1.0.0-bad,
  // v1.1.0, v1.9.0 and v1.9.0's go.mod retracts v1.9.0 itself, so go picks v1.1.0;
  // example.com/retract/self/all@v1.9.0 retracts everything, so go finds no latest version.
  const std::vector<ModuleSpec> modules = {{"example.com/retract/self/prev", "latest"},
                                           {"example.com/retract/self/all", "latest"}};
  auto t = target("latest-retracted", ProxyVariant::kGood, modules);
  const auto r = probe(t);
  ASSERT_EQ(r.modules.size(), modules.size()) << r.detail;

  const ModuleCheck& prev = r.modules[0];
  const auto g_prev = goDownload(modules[0].text(), ProxyVariant::kGood);
  ASSERT_EQ(g_prev.exit_code, 0) << g_prev.output;
  EXPECT_EQ(g_prev.version, "v1.1.0");
  addRow({"latest-retr", modules[0].text(), true, g_prev.version, prev.success,
          prev.reason == FailureReason::None ? "-" : std::string(toLabel(prev.reason)),
          prev.version.empty() ? "-" : prev.version,
          prev.version == g_prev.version && prev.zip_hash == g_prev.sum ? "yes" : "no"});
  EXPECT_EQ(prev.version, g_prev.version)
      << "BUG: gomodprobe's latest ignores retractions (go picks " << g_prev.version << ")";

  const ModuleCheck& all = r.modules[1];
  const auto g_all = goDownload(modules[1].text(), ProxyVariant::kGood);
  EXPECT_NE(g_all.exit_code, 0) << g_all.output;
  EXPECT_THAT(g_all.error, HasSubstr("no matching versions for query \"latest\"")) << g_all.output;
  addRow({"latest-retr", modules[1].text(), g_all.exit_code == 0, "no matching versions",
          all.success, all.reason == FailureReason::None ? "-" : std::string(toLabel(all.reason)),
          all.version.empty() ? "-" : all.version, "-"});
  EXPECT_FALSE(all.success)
      << "BUG: gomodprobe's latest of a module whose every version is retracted succeeds with "
      << all.version << "; go finds no matching version";
}

// ---- 3. and 4. tampered zip / go.mod -----------------------------------------------------------

TEST_F(GoAgreementTest, TamperedZipBothFailWithTheSameDownloadedHash) {
  const std::string module = std::string(GoModFixture::kTamperedModule);
  const auto r = probe(
      target("tampered-zip", ProxyVariant::kTamperedZip, {ModuleSpec{kQuote, kQuoteVersion}}));
  const auto g = goDownload(module, ProxyVariant::kTamperedZip);

  EXPECT_NE(g.exit_code, 0) << g.output;
  EXPECT_THAT(g.error, HasSubstr("verifying module: checksum mismatch")) << g.output;
  const std::string go_downloaded = goDownloadedHash(g);
  ASSERT_FALSE(go_downloaded.empty()) << g.output;
  EXPECT_NE(go_downloaded, go().gosumHash(module));

  EXPECT_FALSE(r.success);
  EXPECT_EQ(toLabel(r.reason), "checksum_mismatch") << r.detail;
  ASSERT_EQ(r.modules.size(), 1U) << r.detail;
  const ModuleCheck& m = r.modules[0];
  EXPECT_FALSE(m.success);
  EXPECT_EQ(toLabel(m.reason), "checksum_mismatch") << m.detail;
  EXPECT_EQ(m.version, kQuoteVersion);
  EXPECT_EQ(m.hash_match, std::optional<bool>(false));
  expectFullFetch(m);  // every request succeeded; only the content is wrong
  EXPECT_EQ(m.zip_hash, go_downloaded) << "gomodprobe and go hash the tampered zip differently";
  EXPECT_EQ(m.mod_hash, go().gosumHash(module, /*go_mod=*/true));  // the go.mod is untouched
  if (!g.go_mod_sum.empty()) EXPECT_EQ(m.mod_hash, g.go_mod_sum);
  addRow({"tampered-zip", module, g.exit_code == 0, goComplaint(g), m.success,
          std::string(toLabel(m.reason)), m.version, m.zip_hash == go_downloaded ? "yes" : "no"});
}

TEST_F(GoAgreementTest, TamperedGoModBothFailWithTheSameDownloadedHash) {
  const std::string module = std::string(GoModFixture::kTamperedModule);
  const auto r = probe(
      target("tampered-mod", ProxyVariant::kTamperedMod, {ModuleSpec{kQuote, kQuoteVersion}}));
  const auto g = goDownload(module, ProxyVariant::kTamperedMod);

  EXPECT_NE(g.exit_code, 0) << g.output;
  EXPECT_THAT(g.error, HasSubstr("verifying go.mod: checksum mismatch")) << g.output;
  const std::string go_downloaded = goDownloadedHash(g);
  ASSERT_FALSE(go_downloaded.empty()) << g.output;
  EXPECT_NE(go_downloaded, go().gosumHash(module, /*go_mod=*/true));

  EXPECT_FALSE(r.success);
  EXPECT_EQ(toLabel(r.reason), "checksum_mismatch") << r.detail;
  ASSERT_EQ(r.modules.size(), 1U) << r.detail;
  const ModuleCheck& m = r.modules[0];
  EXPECT_FALSE(m.success);
  EXPECT_EQ(toLabel(m.reason), "checksum_mismatch") << m.detail;
  EXPECT_EQ(m.version, kQuoteVersion);
  EXPECT_EQ(m.hash_match, std::optional<bool>(false));
  // gomodprobe fetches the zip before comparing; go stops at the go.mod.
  expectFullFetch(m);
  EXPECT_EQ(m.mod_hash, go_downloaded) << "gomodprobe and go hash the tampered go.mod differently";
  EXPECT_EQ(m.zip_hash, go().gosumHash(module));  // the zip is untouched
  EXPECT_THAT(m.detail, HasSubstr("go.mod"));
  addRow({"tampered-mod", module, g.exit_code == 0, goComplaint(g), m.success,
          std::string(toLabel(m.reason)), m.version, m.mod_hash == go_downloaded ? "yes" : "no"});
}

// ---- 5. not found ------------------------------------------------------------------------------

TEST_F(GoAgreementTest, MissingModuleAndMissingVersionAreNotFoundForBoth) {
  const std::vector<ModuleSpec> modules = {
      {"example.com/does-not-exist", "v1.0.0"},  // @v/list is a 404
      {kQuote, "v1.9.9"},                        // the list is fine, @v/v1.9.9.info is a 404
  };
  auto t = target("not-found", ProxyVariant::kGood, modules);
  t.path = "/rsc.io/quote/@v/list";  // the base check must pass for the modules to be fetched
  const auto r = probe(t);
  EXPECT_FALSE(r.success);
  EXPECT_EQ(toLabel(r.reason), "not_found") << r.detail;
  ASSERT_EQ(r.modules.size(), modules.size()) << r.detail;
  const std::vector<std::vector<ModuleStep>> want_steps = {{ModuleStep::List},
                                                           {ModuleStep::List, ModuleStep::Info}};
  for (std::size_t i = 0; i < modules.size(); ++i) {
    const ModuleCheck& m = r.modules[i];
    SCOPED_TRACE(modules[i].text());
    const auto g = goDownload(modules[i].text(), ProxyVariant::kGood);
    EXPECT_NE(g.exit_code, 0) << g.output;
    EXPECT_EQ(goComplaint(g), "404 Not Found") << g.output;

    EXPECT_FALSE(m.success);
    EXPECT_EQ(toLabel(m.reason), "not_found") << m.detail;
    EXPECT_EQ(stepsOf(m), want_steps[i]) << stepsText(m);
    ASSERT_FALSE(m.steps.empty());
    EXPECT_EQ(m.steps.back().status_code, 404);
    EXPECT_FALSE(m.steps.back().success);
    for (std::size_t s = 0; s + 1 < m.steps.size(); ++s) EXPECT_TRUE(m.steps[s].success);
    EXPECT_FALSE(m.info_time.has_value());
    EXPECT_TRUE(m.zip_hash.empty());
    EXPECT_TRUE(m.mod_hash.empty());
    EXPECT_FALSE(m.hash_match.has_value());
    addRow({"not-found", modules[i].text(), g.exit_code == 0, goComplaint(g), m.success,
            std::string(toLabel(m.reason)), m.version.empty() ? "-" : m.version, "-"});
  }
}

// ---- 6. a proxy answering 502 ------------------------------------------------------------------

TEST_F(GoAgreementTest, BadGatewayFailsBothAtTheFirstRequest) {
  const std::string module = std::string(kQuote) + "@" + kQuoteVersion;
  const auto g = goDownload(module, ProxyVariant::k502);
  EXPECT_NE(g.exit_code, 0) << g.output;
  EXPECT_EQ(goComplaint(g), "502 Bad Gateway") << g.output;

  // The target's path is the module's @v/list, so the base HTTP check (both versions) already
  // gets the 502: the reason is http_status, and as the base check gates the module fetches
  // (ProbeRun::maybeAfterAttempts calls afterAttempts only when every attempt succeeded) no
  // module is fetched and ProbeResult::modules stays empty.
  const auto r = probe(target("p502", ProxyVariant::k502, {ModuleSpec{kQuote, kQuoteVersion}}));
  EXPECT_FALSE(r.success);
  EXPECT_EQ(toLabel(r.reason), "http_status") << r.detail;
  ASSERT_EQ(r.http.size(), 2U);
  for (const auto& h : r.http) {
    EXPECT_EQ(h.status_code, 502);
    EXPECT_EQ(toLabel(h.reason), "http_status");
  }
  EXPECT_TRUE(r.modules.empty());
  addRow({"p502", module, g.exit_code == 0, goComplaint(g), r.success,
          std::string(toLabel(r.reason)), "-", "-"});
}

TEST_F(GoAgreementTest, BadGatewayAtTheListStepIsHttpStatus) {
  // To see a module step hit the 502 the base check has to pass: its path climbs out of /p502
  // into the good tree (curl, and nginx too, resolve the dot segments), while the module
  // requests ($url/rsc.io/quote/@v/list, …) stay under /p502.
  const std::string module = std::string(kQuote) + "@" + kQuoteVersion;
  auto t = target("p502-list", ProxyVariant::k502, {ModuleSpec{kQuote, kQuoteVersion}});
  t.path = "/../goproxy/rsc.io/quote/@v/list";
  const auto r = probe(t);
  ASSERT_EQ(r.http.size(), 2U);
  for (const auto& h : r.http) EXPECT_EQ(h.status_code, 200) << h.detail;
  EXPECT_FALSE(r.success);
  EXPECT_EQ(toLabel(r.reason), "http_status") << r.detail;
  ASSERT_EQ(r.modules.size(), 1U);
  const ModuleCheck& m = r.modules[0];
  EXPECT_FALSE(m.success);
  EXPECT_EQ(toLabel(m.reason), "http_status") << m.detail;
  EXPECT_EQ(stepsOf(m), std::vector<ModuleStep>{ModuleStep::List}) << stepsText(m);
  ASSERT_EQ(m.steps.size(), 1U);
  EXPECT_EQ(m.steps[0].status_code, 502);
  EXPECT_FALSE(m.steps[0].success);
  EXPECT_FALSE(m.info_time.has_value());
  EXPECT_FALSE(m.hash_match.has_value());
  const auto g = goDownload(module, ProxyVariant::k502);
  EXPECT_NE(g.exit_code, 0) << g.output;
  addRow({"p502-list", module, g.exit_code == 0, goComplaint(g), m.success,
          std::string(toLabel(m.reason)), m.version.empty() ? "-" : m.version, "-"});
}

// ---- every corpus module -----------------------------------------------------------------------

TEST_F(GoAgreementTest, EveryCorpusModuleAgrees) {
  // Every M@V of the good tree, fetched by one gomodprobe target and one go command; the table
  // gets a summary row and one row per module on which they disagree.
  std::vector<ModuleSpec> modules;
  std::vector<std::string> args = {"mod", "download", "-json"};
  for (const std::string& text : go().modulesAvailable()) {
    const auto at = text.rfind('@');
    modules.push_back({text.substr(0, at), text.substr(at + 1)});
    args.push_back(text);
  }
  auto t = target("corpus", ProxyVariant::kGood, modules);
  t.path = "/rsc.io/quote/@v/list";
  t.timeout = milliseconds(120000);
  t.interval = milliseconds(240000);
  const auto r = probe(t);
  ASSERT_EQ(r.modules.size(), modules.size()) << r.detail;

  const auto run = go().runGo(args, {"GOPROXY=" + go().proxyUrl(ProxyVariant::kGood),
                                     "GOSUMDB=" + go().gosumdb(go().sumdbDirectUrl())});
  std::map<std::string, GoModule> by_module;
  for (GoModule& g : parseGoStream(run.stdout_text)) {
    const std::string key = g.path + "@" + g.version;
    by_module[key] = std::move(g);
  }
  ASSERT_EQ(by_module.size(), modules.size()) << run.output;

  std::size_t go_ok = 0;
  std::size_t probe_ok = 0;
  std::size_t hashes_compared = 0;
  std::size_t hashes_equal = 0;
  std::map<std::string, std::size_t> reasons;
  for (std::size_t i = 0; i < modules.size(); ++i) {
    const ModuleCheck& m = r.modules[i];
    const std::string text = modules[i].text();
    const GoModule& g = by_module[text];
    const bool g_ok = g.error.empty() && !g.sum.empty();
    go_ok += g_ok ? 1 : 0;
    probe_ok += m.success ? 1 : 0;
    if (!m.success) ++reasons[std::string(toLabel(m.reason))];
    std::string hashes = "-";
    if (g_ok && !m.zip_hash.empty()) {
      ++hashes_compared;
      const bool equal = m.zip_hash == g.sum && m.mod_hash == g.go_mod_sum;
      hashes_equal += equal ? 1 : 0;
      hashes = equal ? "yes" : "no";
    }
    const bool agree = g_ok == m.success && hashes != "no";
    EXPECT_TRUE(agree) << "BUG (gomodprobe disagrees with go) " << text << ": go "
                       << (g_ok ? "ok " + g.sum : "failed: " + g.error) << "; gomodprobe "
                       << (m.success ? "ok" : toLabel(m.reason)) << " " << m.detail << " zip "
                       << m.zip_hash << " mod " << m.mod_hash;
    if (!agree) {
      addRow({"corpus", text, g_ok, g_ok ? g.version : g.error.substr(0, 34), m.success,
              m.success ? "-" : std::string(toLabel(m.reason)), m.version.empty() ? "-" : m.version,
              hashes});
    }
  }
  std::string reason_text;
  for (const auto& [reason, count] : reasons) {
    reason_text += (reason_text.empty() ? "" : ",") + std::to_string(count) + " " + reason;
  }
  const std::string n = std::to_string(modules.size());
  addRow({"corpus (all)", n + " modules of modules.txt", go_ok == modules.size(),
          std::to_string(go_ok) + "/" + n + " ok", probe_ok == modules.size(),
          reason_text.empty() ? "-" : reason_text, std::to_string(probe_ok) + "/" + n + " ok",
          std::to_string(hashes_equal) + "/" + std::to_string(hashes_compared)});
}

// ---- mirrors_agree -----------------------------------------------------------------------------

std::string scrapeAfter(const std::vector<TargetConfig>& targets,
                        const std::vector<ProbeResult>& results) {
  metrics::ProbeCollector collector(metrics::BuildInfo{});
  collector.setTargets(targets);
  for (const auto& result : results) collector.record(result);
  return prometheus::TextSerializer().Serialize(collector.Collect());
}

TEST_F(GoAgreementTest, MirrorsAgreeIsZeroForGoodAndTamperedAndOneForTwoGood) {
  const std::vector<ModuleSpec> quote = {{kQuote, kQuoteVersion}};
  const std::string series = R"(gomodprobe_mirrors_agree{module="rsc.io/quote",version="v1.5.2"} )";

  const std::vector<TargetConfig> mixed = {target("mirror-good", ProxyVariant::kGood, quote),
                                           target("mirror-bad", ProxyVariant::kTamperedZip, quote)};
  const auto mixed_results = probe(mixed);
  ASSERT_EQ(mixed_results.size(), 2U);
  EXPECT_TRUE(mixed_results[0].success) << mixed_results[0].detail;
  EXPECT_EQ(toLabel(mixed_results[1].reason), "checksum_mismatch") << mixed_results[1].detail;
  const std::string mixed_text = scrapeAfter(mixed, mixed_results);
  EXPECT_THAT(mixed_text, HasSubstr(series + "0\n")) << mixed_text;

  auto second = target("mirror-good-2", ProxyVariant::kGood, quote);
  second.http_versions = {HttpVersion::Http2};
  const std::vector<TargetConfig> good = {target("mirror-good", ProxyVariant::kGood, quote),
                                          second};
  const auto good_results = probe(good);
  ASSERT_EQ(good_results.size(), 2U);
  for (const auto& result : good_results) EXPECT_TRUE(result.success) << result.detail;
  const std::string good_text = scrapeAfter(good, good_results);
  EXPECT_THAT(good_text, HasSubstr(series + "1\n")) << good_text;
}

}  // namespace
}  // namespace gomodprobe
