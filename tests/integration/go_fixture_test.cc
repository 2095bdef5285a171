#include "integration/go_fixture.h"

#include <curl/curl.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

namespace gomodprobe::testing {
namespace {

using std::chrono::milliseconds;
using ::testing::HasSubstr;

constexpr const char* kQuote = "rsc.io/quote@v1.5.2";
constexpr const char* kSampler = "rsc.io/sampler@v1.3.0";
constexpr const char* kHello = "rsc.io/quote@v1.5.1";

struct CurlDeleter {
  void operator()(CURL* curl) const { curl_easy_cleanup(curl); }
};

struct Fetched {
  CURLcode code = CURLE_OK;
  long status = 0;
  long http_version = 0;
  std::string body;
};

size_t appendBody(char* data, size_t size, size_t nmemb, void* user) {
  static_cast<std::string*>(user)->append(data, size * nmemb);
  return size * nmemb;
}

Fetched fetch(const GoModFixture& go, const std::string& url) {
  std::unique_ptr<CURL, CurlDeleter> curl(curl_easy_init());
  Fetched out;
  curl_easy_setopt(curl.get(), CURLOPT_URL, url.c_str());
  curl_easy_setopt(curl.get(), CURLOPT_NOPROXY, "*");
  curl_easy_setopt(curl.get(), CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(curl.get(), CURLOPT_CAINFO, go.net().caFile().c_str());
  curl_easy_setopt(curl.get(), CURLOPT_CAPATH, nullptr);
  curl_easy_setopt(curl.get(), CURLOPT_HTTP_VERSION, static_cast<long>(CURL_HTTP_VERSION_2TLS));
  curl_easy_setopt(curl.get(), CURLOPT_TIMEOUT_MS, 5000L);
  curl_easy_setopt(curl.get(), CURLOPT_WRITEFUNCTION, appendBody);
  curl_easy_setopt(curl.get(), CURLOPT_WRITEDATA, &out.body);
  out.code = curl_easy_perform(curl.get());
  curl_easy_getinfo(curl.get(), CURLINFO_RESPONSE_CODE, &out.status);
  curl_easy_getinfo(curl.get(), CURLINFO_HTTP_VERSION, &out.http_version);
  return out;
}

std::string readFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

class GoFixtureTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    const auto begin = std::chrono::steady_clock::now();
    try {
      go_ = std::make_unique<GoModFixture>();
      go_->start();
    } catch (const std::exception& e) {
      start_error_ = e.what();
    }
    startup_ms_ =
        std::chrono::duration_cast<milliseconds>(std::chrono::steady_clock::now() - begin).count();
  }
  static void TearDownTestSuite() { go_.reset(); }

  void SetUp() override {
    ASSERT_TRUE(start_error_.empty()) << start_error_;
    RecordProperty("fixture_startup_ms", std::to_string(startup_ms_));
  }

  static GoModFixture& go() { return *go_; }

  // `go mod download -json` through the good proxy, the database found via the proxy.
  static GoModDownload download(const std::string& module_at_version, const std::string& goproxy,
                                const GoRunOptions& options = {}) {
    return go().goModDownloadJson(module_at_version, goproxy, go().gosumdb(), options);
  }

  static inline std::unique_ptr<GoModFixture> go_;
  static inline std::string start_error_;
  static inline long long startup_ms_ = 0;
};

// Restores the default sumdb helper (seed, empty tree) when a test that restarts it ends.
class SumdbRestorer {
 public:
  explicit SumdbRestorer(GoModFixture& go) : go_(go) {}
  ~SumdbRestorer() { go_.restartSumdb(GoModFixture::kDefaultSeed); }
  SumdbRestorer(const SumdbRestorer&) = delete;
  SumdbRestorer& operator=(const SumdbRestorer&) = delete;
  SumdbRestorer(SumdbRestorer&&) = delete;
  SumdbRestorer& operator=(SumdbRestorer&&) = delete;

 private:
  GoModFixture& go_;
};

TEST_F(GoFixtureTest, StartsQuicklyWithTheCorpusTrees) {
  std::printf("go fixture start-up took %lld ms\n", startup_ms_);
  EXPECT_LT(startup_ms_, 10000);
  const auto& modules = go().modulesAvailable();
  EXPECT_GT(modules.size(), 100U);
  for (const char* m : {kQuote, kSampler, kHello}) {
    EXPECT_NE(std::find(modules.begin(), modules.end(), m), modules.end()) << m;
  }
  EXPECT_EQ(go().gosumLines().size(), 2 * modules.size());
  EXPECT_TRUE(go().gosumHash(kQuote).starts_with("h1:"));
  EXPECT_TRUE(go().gosumHash(kQuote, true).starts_with("h1:"));
  EXPECT_EQ(go().gosumHash("example.com/nonexistent@v1.0.0"), "");

  // The tampered trees differ from the good one exactly where documented.
  const std::string good_sum = readFile(go().treeDir(ProxyVariant::kGood) + "/gosum.txt");
  const std::string zip_sum = readFile(go().treeDir(ProxyVariant::kTamperedZip) + "/gosum.txt");
  const std::string mod_sum = readFile(go().treeDir(ProxyVariant::kTamperedMod) + "/gosum.txt");
  const std::string zip_line = "rsc.io/quote v1.5.2 " + go().gosumHash(kQuote) + "\n";
  const std::string mod_line = "rsc.io/quote v1.5.2/go.mod " + go().gosumHash(kQuote, true) + "\n";
  EXPECT_THAT(good_sum, HasSubstr(zip_line));
  EXPECT_THAT(zip_sum, ::testing::Not(HasSubstr(zip_line)));
  EXPECT_THAT(zip_sum, HasSubstr(mod_line));
  EXPECT_THAT(mod_sum, HasSubstr(zip_line));
  EXPECT_THAT(mod_sum, ::testing::Not(HasSubstr(mod_line)));
  EXPECT_EQ(zip_sum.size(), mod_sum.size());  // overlays: just the tampered module
}

TEST_F(GoFixtureTest, ServesEveryVariantOverHttp2) {
  const Fetched list = fetch(go(), go().proxyUrl() + "/rsc.io/quote/@v/list");
  ASSERT_EQ(list.code, CURLE_OK);
  EXPECT_EQ(list.status, 200);
  EXPECT_EQ(list.http_version, CURL_HTTP_VERSION_2_0);
  EXPECT_THAT(list.body, HasSubstr("v1.5.2\n"));
  EXPECT_THAT(list.body, ::testing::Not(HasSubstr("v0.0.0-")));  // no pseudo-versions

  const Fetched info = fetch(go(), go().proxyUrl() + "/rsc.io/quote/@v/v1.5.2.info");
  EXPECT_EQ(info.status, 200);
  EXPECT_EQ(info.body, "{\"Version\":\"v1.5.2\",\"Time\":\"2018-02-14T15:44:20Z\"}\n");
  const Fetched zip =
      fetch(go(), go().proxyUrl(ProxyVariant::kTamperedZip) + "/rsc.io/quote/@v/v1.5.2.zip");
  EXPECT_EQ(zip.status, 200);
  EXPECT_TRUE(zip.body.starts_with("PK")) << zip.body.substr(0, 16);
  EXPECT_EQ(fetch(go(), go().proxyUrl() + "/rsc.io/nonexistent/@v/list").status, 404);
  // The tampered trees fall back to the good one for everything else.
  const Fetched overlay_list =
      fetch(go(), go().proxyUrl(ProxyVariant::kTamperedMod) + "/rsc.io/quote/@v/list");
  EXPECT_EQ(overlay_list.status, 200);
  EXPECT_EQ(overlay_list.body, list.body);
  EXPECT_THAT(
      fetch(go(), go().proxyUrl(ProxyVariant::kTamperedMod) + "/rsc.io/quote/@v/v1.5.2.mod").body,
      HasSubstr("// tampered by gomodfixture\n"));
  EXPECT_EQ(
      fetch(go(), go().proxyUrl(ProxyVariant::kTamperedZip) + "/rsc.io/nonexistent/@v/list").status,
      404);
  EXPECT_EQ(fetch(go(), go().proxyUrl(ProxyVariant::kTamperedZip) + "/sumdb/" + go().sumdbName() +
                            "/latest")
                .status,
            200);

  EXPECT_EQ(fetch(go(), go().proxyUrl(ProxyVariant::k502) + "/rsc.io/quote/@v/list").status, 502);
  EXPECT_EQ(fetch(go(), go().proxyUrl(ProxyVariant::k404) + "/rsc.io/quote/@v/list").status, 404);

  EXPECT_EQ(fetch(go(), go().sumdbProxyUrl() + "/supported").status, 200);
  EXPECT_EQ(fetch(go(), go().proxyUrl() + "/sumdb/sum.golang.org/supported").status, 404);
  const Fetched latest = fetch(go(), go().sumdbProxyUrl() + "/latest");
  EXPECT_EQ(latest.status, 200);
  EXPECT_TRUE(latest.body.starts_with("go.sum database tree\n")) << latest.body;
  EXPECT_THAT(latest.body, HasSubstr("\u2014 " + go().sumdbName() + " "));
}

TEST_F(GoFixtureTest, GoDownloadsThroughTheProxyWithTheProxiedSumdb) {
  const GoModDownload r = download(kQuote, go().proxyUrl());
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_EQ(r.path, "rsc.io/quote");
  EXPECT_EQ(r.version, "v1.5.2");
  EXPECT_EQ(r.error, "");
  EXPECT_EQ(r.sum, go().gosumHash(kQuote));
  EXPECT_EQ(r.go_mod_sum, go().gosumHash(kQuote, true));
  EXPECT_TRUE(std::filesystem::exists(r.zip)) << r.zip;
  // GOSUMDB had no URL: the go command asked the proxy whether it proxies the database.
  const std::string access = readFile(go().net().accessLogFile());
  EXPECT_THAT(access, HasSubstr("GET /goproxy/sumdb/" + go().sumdbName() + "/supported "));
  EXPECT_THAT(access,
              HasSubstr("GET /goproxy/sumdb/" + go().sumdbName() + "/lookup/rsc.io/quote@v1.5.2 "));
  EXPECT_THAT(readFile(go().sumdbLogFile()), HasSubstr("GET /lookup/rsc.io/quote@v1.5.2 -> 200"));
}

TEST_F(GoFixtureTest, GoDownloadsWithExplicitSumdbUrls) {
  for (const std::string& url : {go().sumdbProxyUrl(), go().sumdbDirectUrl()}) {
    const GoModDownload r = go().goModDownloadJson(kSampler, go().proxyUrl(), go().gosumdb(url));
    ASSERT_EQ(r.exit_code, 0) << url << "\n" << r.output;
    EXPECT_EQ(r.sum, go().gosumHash(kSampler)) << url;
    EXPECT_EQ(r.go_mod_sum, go().gosumHash(kSampler, true)) << url;
  }
}

TEST_F(GoFixtureTest, TamperedZipFailsChecksumVerification) {
  const GoModDownload r = download(kQuote, go().proxyUrl(ProxyVariant::kTamperedZip));
  EXPECT_NE(r.exit_code, 0) << r.output;
  EXPECT_THAT(r.error, HasSubstr("SECURITY ERROR")) << r.output;
  EXPECT_THAT(r.error, HasSubstr("verifying module: checksum mismatch"));
  EXPECT_THAT(r.error, HasSubstr("\t" + go().sumdbName() + ": " + go().gosumHash(kQuote)));
  EXPECT_EQ(r.sum, "");
}

TEST_F(GoFixtureTest, TamperedGoModFailsChecksumVerification) {
  const GoModDownload r = download(kQuote, go().proxyUrl(ProxyVariant::kTamperedMod));
  EXPECT_NE(r.exit_code, 0) << r.output;
  EXPECT_THAT(r.error, HasSubstr("SECURITY ERROR")) << r.output;
  EXPECT_THAT(r.error, HasSubstr("verifying go.mod: checksum mismatch"));
  EXPECT_THAT(r.error, HasSubstr("\t" + go().sumdbName() + ": " + go().gosumHash(kQuote, true)));
}

TEST_F(GoFixtureTest, UntamperedModuleFromTamperedTreeVerifies) {
  const GoModDownload r = download(kSampler, go().proxyUrl(ProxyVariant::kTamperedZip));
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_EQ(r.sum, go().gosumHash(kSampler));
}

TEST_F(GoFixtureTest, CommaListDoesNotFallBackOn502) {
  const std::string list = go().proxyUrl(ProxyVariant::k502) + "," + go().proxyUrl();
  const GoModDownload r = download(kHello, list);
  EXPECT_NE(r.exit_code, 0) << r.output;
  EXPECT_THAT(r.error, HasSubstr("502 Bad Gateway")) << r.output;
}

TEST_F(GoFixtureTest, CommaListFallsBackOn404) {
  const std::string list = go().proxyUrl(ProxyVariant::k404) + "," + go().proxyUrl();
  const GoModDownload r = download(kHello, list);
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_EQ(r.sum, go().gosumHash(kHello));
}

TEST_F(GoFixtureTest, PipeListFallsBackOn502) {
  const std::string list = go().proxyUrl(ProxyVariant::k502) + "|" + go().proxyUrl();
  const GoModDownload r = download(kHello, list);
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_EQ(r.sum, go().gosumHash(kHello));
}

TEST_F(GoFixtureTest, WrongKeyFailsVerification) {
  ASSERT_NE(go().wrongSumdbKey(), go().sumdbKey());
  ASSERT_TRUE(go().wrongSumdbKey().starts_with(go().sumdbName() + "+"));
  const GoModDownload r = go().goModDownloadJson(
      kQuote, go().proxyUrl(), go().wrongSumdbKey() + " " + go().sumdbDirectUrl());
  EXPECT_NE(r.exit_code, 0) << r.output;
  EXPECT_THAT(r.error, HasSubstr("reading tree note: note has no verifiable signatures"))
      << r.output;
  EXPECT_EQ(r.sum, "");
}

TEST_F(GoFixtureTest, RestartWithAnotherSeedChangesTheKey) {
  const SumdbRestorer restore(go());
  const std::string old_key = go().sumdbKey();
  const uint16_t port = go().sumdbPort();
  go().restartSumdb(GoModFixture::kOtherSeed);
  EXPECT_EQ(go().sumdbKey(), go().wrongSumdbKey());
  EXPECT_EQ(go().sumdbPort(), port);
  const GoModDownload good = download(kQuote, go().proxyUrl());
  EXPECT_EQ(good.exit_code, 0) << good.output;
  const GoModDownload old =
      go().goModDownloadJson(kQuote, go().proxyUrl(), old_key + " " + go().sumdbDirectUrl());
  EXPECT_NE(old.exit_code, 0) << old.output;
  EXPECT_THAT(old.error, HasSubstr("note has no verifiable signatures")) << old.output;
}

TEST_F(GoFixtureTest, ForkedSumdbIsDetectedByAGoCommandThatSawTheOldTree) {
  const SumdbRestorer restore(go());
  go().restartSumdb(GoModFixture::kDefaultSeed, {kQuote, kSampler});
  const GoRunOptions shared{.state = "fork"};
  const GoModDownload first = download(kQuote, go().proxyUrl(), shared);
  ASSERT_EQ(first.exit_code, 0) << first.output;

  // Same name and key, same records, another order: a different tree of the same size.
  go().restartSumdb(GoModFixture::kDefaultSeed, {kSampler, kQuote});
  const GoModDownload fresh = download(kHello, go().proxyUrl());
  EXPECT_EQ(fresh.exit_code, 0) << fresh.output;  // a client without history cannot tell
  const GoModDownload forked = download(kHello, go().proxyUrl(), shared);
  EXPECT_NE(forked.exit_code, 0) << forked.output;
  EXPECT_THAT(forked.output, HasSubstr("SECURITY ERROR")) << forked.output;
  EXPECT_THAT(forked.output, HasSubstr("misbehavior"));
}

TEST_F(GoFixtureTest, RunGoUsesOnlyTheFixtureEnvironment) {
  const GoRunResult r = go().runGo(
      {"env", "GOPROXY", "GOSUMDB", "GONOSUMDB", "GOPRIVATE", "GOFLAGS", "GONOPROXY", "GOMODCACHE"},
      {"GOPROXY=" + go().proxyUrl()});
  ASSERT_EQ(r.exit_code, 0) << r.output;
  std::vector<std::string> lines;
  std::istringstream in(r.stdout_text);
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  ASSERT_EQ(lines.size(), 7U) << r.stdout_text;
  EXPECT_EQ(lines[0], go().proxyUrl());
  EXPECT_EQ(lines[1], "off");
  EXPECT_EQ(lines[2], "");
  EXPECT_EQ(lines[3], "");
  EXPECT_EQ(lines[4], "-modcacherw");
  EXPECT_EQ(lines[5], "");
  EXPECT_TRUE(lines[6].starts_with(go().dir() + "/go/run-")) << lines[6];
}

TEST(GoFixtureLifecycleTest, DestructorStopsEverythingAndRemovesDir) {
  std::vector<pid_t> pids;
  std::string dir;
  {
    GoModFixture go;
    go.start();
    pids = go.net().childPids();
    dir = go.dir();
    ASSERT_EQ(pids.size(), 4U);  // nginx, dnsmasq x2, sumdb helper
    EXPECT_NE(std::find(pids.begin(), pids.end(), go.sumdbPid()), pids.end());
    go.restartSumdb(GoModFixture::kDefaultSeed);  // the replaced helper is gone at once
    EXPECT_EQ(go.net().childPids().size(), 4U);
    for (const pid_t pid : pids) {
      if (pid == pids.back()) {
        EXPECT_EQ(::kill(pid, 0), -1) << "old sumdb helper " << pid << " survived a restart";
      } else {
        EXPECT_EQ(::kill(pid, 0), 0) << pid;
      }
    }
    pids = go.net().childPids();
  }
  for (const pid_t pid : pids) {
    EXPECT_EQ(::kill(pid, 0), -1) << "pid " << pid << " survived the fixture";
    EXPECT_EQ(errno, ESRCH);
  }
  EXPECT_FALSE(std::filesystem::exists(dir)) << dir;
}

}  // namespace
}  // namespace gomodprobe::testing
