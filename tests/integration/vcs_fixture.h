#pragma once

// VcsFixture: a private git host "git.corp.example" as a company runs it, for the vcs probe and
// the go command. Start it in a process that called enterTestNamespaces({{"127.0.0.1",
// VcsFixture::kHost}}) (private network namespace and /etc/hosts): nginx listens on
// 127.0.0.1:443, where the go command looks for go-import pages.
//
// nginx (TLS 1.2/1.3, ALPN h2,http/1.1, a leaf for DNS:git.corp.example and IP:127.0.0.1 signed
// by the NetFixture's test CA) serves:
//   /team/repo     go-import page: git.corp.example/team/repo git https://HOST/git/team/repo
//   /team/private  the same for team/private → https://HOST/auth/team/private; Basic auth
//   /team/half     open page for team/half → https://HOST/auth/team/private (auth only on git)
//   /team/bearer   page for team/bearer → https://HOST/bearer/team/repo; "Bearer kToken" only
//   /team/dumb     page for team/dumb → https://HOST/dumb/team/dumb (static files, text/plain)
//   /team/missing  page for team/missing → https://HOST/git/team/missing (no such repository)
//   /git/…         git http-backend through fcgiwrap (GIT_PROJECT_ROOT <dir>/git, smart HTTP)
//   /auth/…        the same behind Basic auth (htpasswd written with `openssl passwd -apr1`)
//   /bearer/…      the same, only with "Authorization: Bearer kToken"
//   /dumb/…        <dir>/git as static files (dumb HTTP; `git update-server-info` was run)
// Repositories (bare, under <dir>/git/team/): repo, private, dumb; each one commit with
// go.mod "module git.corp.example/team/<name>" and the tag v1.0.0.
//
// dnsmasq on 127.0.0.1:53 answers kHost with 127.0.0.1 (for gomodprobe's c-ares lookups).
// nginx and fcgiwrap inherit their listening sockets (bound here), so requests queue until they
// serve; both are NetFixture children (watchdog, stopped by the destructor).

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "integration/fixture.h"
#include "integration/go_fixture.h"

namespace gomodprobe::testing {

class VcsFixture {
 public:
  static constexpr std::string_view kHost = "git.corp.example";
  static constexpr std::string_view kUser = "gopher";
  /// The secrets, unique strings that the leak test looks for on every output surface.
  static constexpr std::string_view kPassword = "pw-7f1c9a0e-Secr3t";
  static constexpr std::string_view kToken = "tok-5d2b8e61-Secr3t";

  VcsFixture();
  ~VcsFixture();
  VcsFixture(const VcsFixture&) = delete;
  VcsFixture& operator=(const VcsFixture&) = delete;

  /// Starts the NetFixture, makes the repositories, the certificate and the htpasswd file, then
  /// nginx on 127.0.0.1:443 and fcgiwrap, and waits for an answer. Throws std::runtime_error.
  void start();

  NetFixture& net() { return net_; }
  const std::string& dir() const { return net_.dir(); }
  const std::string& caFile() const { return net_.caFile(); }
  /// Credential files: a netrc with "machine git.corp.example login kUser password kPassword",
  /// a file holding kPassword, a file holding kToken.
  std::string netrcFile() const { return dir() + "/secrets/netrc"; }
  std::string passwordFile() const { return dir() + "/secrets/password"; }
  std::string tokenFile() const { return dir() + "/secrets/token"; }
  std::string nginxErrorLog() const { return dir() + "/vcs-nginx-error.log"; }
  /// A dnsmasq on 127.0.0.1:53 (private namespace) answering kHost A 127.0.0.1: the resolver of
  /// gomodprobe's targets (c-ares asks DNS only, not /etc/hosts).
  static std::string dnsServer() { return "127.0.0.1:53"; }

  /// `go mod download -json <module>@v1.0.0` with GOPROXY=direct, GOPRIVATE=git.corp.example,
  /// GOFLAGS=-modcacherw, fresh GOPATH/GOCACHE/HOME (with netrcFile() as ~/.netrc when
  /// `with_netrc`), SSL_CERT_FILE and GIT_SSL_CAINFO set to the test CA.
  GoRunResult goModDownload(const std::string& module, bool with_netrc) const;

 private:
  void makeRepositories();
  void makeCertificate();
  void writeSecrets();
  void startServers();
  void startDns();
  void waitForNginx() const;
  std::string run(const std::vector<std::string>& argv, const std::string& cwd = "/") const;

  NetFixture net_;
  mutable int runs_ = 0;
  bool started_ = false;
};

}  // namespace gomodprobe::testing
