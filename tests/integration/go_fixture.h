#pragma once

// GoModFixture: a real Go module proxy and checksum database on 127.0.0.1, built on NetFixture,
// with the real `go` command as the reference client.
//
//   class MyGoTest : public ::testing::Test {
//    protected:
//     static void SetUpTestSuite() { go_ = std::make_unique<GoModFixture>(); go_->start(); }
//     static void TearDownTestSuite() { go_.reset(); }
//     static inline std::unique_ptr<GoModFixture> go_;
//   };
//   auto r = go_->goModDownloadJson("rsc.io/quote@v1.5.2", go_->proxyUrl(),
//                                   go_->gosumdb());  // r.sum == go_->gosumHash(...)
//
// Content: the cmd/go test corpus ($GOROOT/src/cmd/go/testdata/mod, ~160 modules such as
// rsc.io/quote@v1.5.2, rsc.io/sampler@v1.3.0, golang.org/x/text@v0.0.0-...) converted by the
// gomodfixture helper (tests/tools/gomodfixture) into static GOPROXY trees under dir(): zips made
// by golang.org/x/mod/zip, go.sum lines in gosumLines(). Corpus files that cannot be served
// (invalid paths or file names on purpose) are left out; see <dir>/tree-good.log.
//
// One extra nginx server of the NetFixture (port(): TLS 1.2/1.3 with the good certificate, ALPN
// h2,http/1.1) serves every variant:
//   /goproxy/                          the good tree
//   /goproxy/sumdb/<name>/supported    200 (this proxy proxies the checksum database)
//   /goproxy/sumdb/<name>/...          reverse-proxied to the sumdb helper (lookup, latest, tile)
//   /goproxy/sumdb/<other>/...         404
//   /tampered-zip/                     good tree, but kTamperedModule's zip has one changed file
//   /tampered-mod/                     good tree, but kTamperedModule's .mod is changed
//                                      (overlay trees with just that module, then the good tree)
//   /tampered-{zip,mod}/sumdb/...      as /goproxy/sumdb/... (the same, honest, database)
//   /p502/...                          502 for everything
//   /p404/...                          404 for everything
//   anything else                      404
// The sumdb helper (golang.org/x/mod/sumdb.NewTestServer, records = the good tree's go.sum
// lines, added lazily in lookup order) listens on a socket this fixture binds once, so its port
// and the nginx reverse proxy survive restartSumdb().
//
// Processes: the sumdb helper is a NetFixture child (startChild: watchdog, stopped by the
// destructor); the tree builds and every go command run in their own process groups with
// PR_SET_PDEATHSIG and are waited for (go commands: SIGKILL to the group after the timeout).
// Start-up ~0.5 s on an idle machine (NetFixture ~0.3 s, trees built meanwhile); a go command
// against it takes ~50-150 ms.
//
// The go command resolves names with the system resolver, which does not know *.test: use the
// 127.0.0.1 URLs (the good certificate has IP:127.0.0.1), which is what the accessors return.

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "integration/fixture.h"

namespace gomodprobe::testing {

enum class ProxyVariant { kGood, kTamperedZip, kTamperedMod, k502, k404 };

struct GoRunOptions {
  // Empty: a fresh GOPATH/GOMODCACHE/GOCACHE/HOME for this run. Otherwise runs with the same
  // name share them (module cache, and the checksum database cache in GOPATH/pkg/sumdb that
  // makes the go command detect a forked or rolled-back database).
  std::string state;
  std::string workdir;               // empty: a fresh empty directory (outside any module)
  std::chrono::seconds timeout{60};  // then the process group is SIGKILLed
};

struct GoRunResult {
  int exit_code = -1;  // -1: killed (timeout or signal)
  bool timed_out = false;
  std::string output;       // stdout and stderr, interleaved as read
  std::string stdout_text;  // stdout only
};

// `go mod download -json M@V` (fields of its JSON object; empty if absent).
struct GoModDownload {
  int exit_code = -1;
  std::string output;  // combined output, for failure messages
  std::string path;
  std::string version;
  std::string error;
  std::string info;
  std::string go_mod;
  std::string zip;
  std::string dir;
  std::string sum;
  std::string go_mod_sum;
};

// Runs argv (argv[0] an absolute path) with exactly `env` in `cwd`, in its own process group with
// PR_SET_PDEATHSIG, capturing stdout and stderr; SIGKILLs the group after `timeout`.
GoRunResult runCommand(const std::vector<std::string>& argv, const std::vector<std::string>& env,
                       const std::string& cwd, std::chrono::seconds timeout);

class GoModFixture {
 public:
  static constexpr std::string_view kSumdbName = "sum.gomodprobe.test";
  // The module whose zip resp. go.mod differs in the tampered trees.
  static constexpr std::string_view kTamperedModule = "rsc.io/quote@v1.5.2";
  static constexpr uint64_t kDefaultSeed = 1;
  static constexpr uint64_t kOtherSeed = 2;  // wrongSumdbKey()

  GoModFixture();
  ~GoModFixture();
  GoModFixture(const GoModFixture&) = delete;
  GoModFixture& operator=(const GoModFixture&) = delete;

  // Builds the trees (good, tampered-zip, tampered-mod), starts the NetFixture with the extra
  // nginx server, then the sumdb helper (seed kDefaultSeed, no preload). Throws
  // std::runtime_error with the relevant logs on failure; the destructor still cleans up. Call
  // once, from a thread that outlives the fixture.
  void start();

  NetFixture& net() { return net_; }
  const NetFixture& net() const { return net_; }
  const std::string& dir() const { return net_.dir(); }

  uint16_t port() const;  // the nginx port serving every variant
  // "https://127.0.0.1:PORT/goproxy" etc. (no trailing slash), ready for GOPROXY.
  std::string proxyUrl(ProxyVariant variant = ProxyVariant::kGood) const;
  static std::string proxyPath(ProxyVariant variant);  // "/goproxy", "/tampered-zip", ...
  // kGood, kTamperedZip, kTamperedMod only; the tampered trees hold just kTamperedModule (plus
  // their own gosum.txt and modules.txt) and are served in front of the good tree.
  std::string treeDir(ProxyVariant variant) const;

  std::string sumdbName() const { return std::string(kSumdbName); }
  const std::string& sumdbKey() const { return sumdb_key_; }       // current verifier key
  const std::string& wrongSumdbKey() const { return wrong_key_; }  // same name, seed kOtherSeed
  std::string sumdbDirectUrl() const;  // "http://127.0.0.1:PORT" (the helper itself)
  std::string sumdbProxyUrl() const;   // proxyUrl() + "/sumdb/" + name
  // A GOSUMDB value: "<key>" (the go command then finds the database through GOPROXY's
  // /sumdb/<name>/supported; its direct fallback https://<name> does not resolve) or
  // "<key> <url>".
  std::string gosumdb(const std::string& url = "") const;
  uint16_t sumdbPort() const { return sumdb_port_; }
  pid_t sumdbPid() const { return sumdb_pid_; }
  const std::string& sumdbLogFile() const { return sumdb_log_; }

  // go.sum lines of the good tree ("M V h1:..." and "M V/go.mod h1:..."), sorted.
  const std::vector<std::string>& gosumLines() const { return gosum_lines_; }
  // "h1:..." of M@V's zip (go_mod: of its go.mod) in the good tree; "" if not there.
  std::string gosumHash(std::string_view module_at_version, bool go_mod = false) const;
  const std::vector<std::string>& modulesAvailable() const { return modules_; }  // "M@V"

  // Restarts the sumdb helper on the same port with a key derived from `seed` (same seed, same
  // key) and, before it serves, looks `preload` ("M@V") up in that order. Restarting with the
  // same seed and a different order gives a fork (same name and key, different tree).
  void restartSumdb(uint64_t seed, const std::vector<std::string>& preload = {});

  // Runs the real go command with only this environment: PATH, HOME/GOPATH/GOMODCACHE/GOCACHE
  // under dir() (see GoRunOptions::state), GOFLAGS=-modcacherw, GO111MODULE=on, GOENV=off,
  // GOTOOLCHAIN=local, SSL_CERT_FILE=the test CA, GOPROXY=off and GOSUMDB=off unless `env`
  // ("KEY=VALUE", overriding) sets them. GONOSUMDB, GOPRIVATE, GONOPROXY, GOINSECURE and proxy
  // variables are never set unless given in `env`.
  GoRunResult runGo(const std::vector<std::string>& args, const std::vector<std::string>& env = {},
                    const GoRunOptions& options = {}) const;

  // `go mod download -json M@V` outside any module with the given GOPROXY and GOSUMDB.
  GoModDownload goModDownloadJson(const std::string& module_at_version, const std::string& goproxy,
                                  const std::string& gosumdb,
                                  const GoRunOptions& options = {}) const;

  // GOMODFIXTURE_BINARY (compile definition) or $GOMODFIXTURE_BINARY.
  static std::string helperBinary();
  static std::string goBinary();  // the `go` in PATH (or /usr/lib/go/bin, /usr/local/go/bin)

 private:
  void startSumdb(uint64_t seed, const std::vector<std::string>& preload);
  void loadTree();

  NetFixture net_;
  std::string helper_;
  std::string go_;
  std::size_t nginx_index_ = 0;
  int sumdb_fd_ = -1;  // listening socket, inherited by every sumdb helper instance
  uint16_t sumdb_port_ = 0;
  pid_t sumdb_pid_ = -1;
  int sumdb_instance_ = 0;  // numbers the helper's log files
  std::string sumdb_log_;
  std::string sumdb_key_;
  std::string wrong_key_;
  std::vector<std::string> gosum_lines_;
  std::vector<std::string> modules_;
  mutable int run_counter_ = 0;
  bool started_ = false;
};

}  // namespace gomodprobe::testing
