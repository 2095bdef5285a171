// The vcs probe against a real private git host (VcsFixture: nginx + git http-backend through
// fcgiwrap, Basic and Bearer auth, a dumb-HTTP variant, dnsmasq for the name) and loopback SSH
// stubs, with the go command as the reference: for the same module gomodprobe's verdict must
// match `go mod download`'s success or failure. Each test enters its own network namespace so
// nginx can serve git.corp.example on 127.0.0.1:443.
#include <arpa/inet.h>
#include <curl/curl.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <filesystem>
#include <fstream>
#include <memory>
#include <mutex>
#include <regex>
#include <sstream>
#include <string>
#include <thread>

#include "agent/agent.h"
#include "agent/report.h"
#include "config/config_loader.h"
#include "integration/go_fixture.h"
#include "integration/test_namespace.h"
#include "integration/vcs_fixture.h"
#include "net/handles.h"
#include "support/loopback.h"

namespace gomodprobe {
namespace {

using std::chrono::milliseconds;
using ::testing::HasSubstr;
using ::testing::StartsWith;
using testing::VcsFixture;

/// A loopback TCP server that answers each connection with `script` (the bytes an SSH server
/// would send first), records the first line the client sends, and closes.
class SshStub {
 public:
  explicit SshStub(std::string script) : script_(std::move(script)) {
    fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in in = testing::loopback(0);
    if (fd_ < 0 || ::bind(fd_, reinterpret_cast<const sockaddr*>(&in), sizeof(in)) != 0 ||
        ::listen(fd_, 8) != 0) {
      throw std::runtime_error("SshStub: cannot listen");
    }
    socklen_t len = sizeof(in);
    ::getsockname(fd_, reinterpret_cast<sockaddr*>(&in), &len);
    port_ = ntohs(in.sin_port);
    thread_ = std::thread([this] { serve(); });
  }
  ~SshStub() {
    ::shutdown(fd_, SHUT_RDWR);  // wakes accept()
    thread_.join();
    ::close(fd_);
  }
  SshStub(const SshStub&) = delete;
  SshStub& operator=(const SshStub&) = delete;

  [[nodiscard]] std::uint16_t port() const { return port_; }
  /// The line the client sent on the latest connection. The probe may finish (it has read the
  /// server's line) before this thread has read the client's: wait (bounded) for a connection to
  /// be recorded.
  [[nodiscard]] std::string clientLine() const {
    std::unique_lock lock(mutex_);
    recorded_.wait_for(lock, std::chrono::seconds(10), [this] { return connections_ > 0; });
    return client_line_;
  }

 private:
  void serve() {
    for (;;) {
      const int conn = ::accept4(fd_, nullptr, nullptr, SOCK_CLOEXEC);
      if (conn < 0) return;
      (void)::send(conn, script_.data(), script_.size(), MSG_NOSIGNAL);
      std::string line;
      std::array<char, 256> buf{};
      pollfd pfd{conn, POLLIN, 0};
      while (line.find('\n') == std::string::npos && ::poll(&pfd, 1, 5000) == 1) {
        const ssize_t n = ::recv(conn, buf.data(), buf.size(), 0);
        if (n <= 0) break;
        line.append(buf.data(), static_cast<std::size_t>(n));
      }
      {
        std::lock_guard lock(mutex_);
        client_line_ = line;
        ++connections_;
      }
      recorded_.notify_all();
      ::close(conn);
    }
  }

  std::string script_;
  int fd_ = -1;
  std::uint16_t port_ = 0;
  std::thread thread_;
  mutable std::mutex mutex_;
  mutable std::condition_variable recorded_;
  std::string client_line_;  // guarded by mutex_
  int connections_ = 0;      // guarded by mutex_
};

class VcsProbeTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (auto error =
            testing::enterTestNamespaces({{"127.0.0.1", std::string(VcsFixture::kHost)}})) {
      GTEST_SKIP() << "cannot enter test namespaces: " << *error;
    }
    libraries_ = std::make_unique<net::NetLibraries>();
    fixture_ = std::make_unique<VcsFixture>();
    fixture_->start();
  }
  void TearDown() override {
    fixture_.reset();
    libraries_.reset();
  }

  [[nodiscard]] TargetConfig target(const std::string& name) const {
    TargetConfig t;
    t.name = name;
    t.kind = TargetKind::Vcs;
    t.url = "https://" + std::string(VcsFixture::kHost) + "/team/" + name;
    t.path = "?go-get=1";
    t.module = std::string(VcsFixture::kHost) + "/team/" + name;
    t.resolvers = {*config::parseResolver(VcsFixture::dnsServer())};
    t.ip_protocol = IpProtocol::Ip4;
    t.timeout = milliseconds(5000);
    t.interval = milliseconds(10000);
    t.ca_file = fixture_->caFile();
    return t;
  }

  static ProbeResult probe(const TargetConfig& t) { return testing::runOnce(t); }

  // go mod download's verdict must be gomodprobe's.
  void expectAgreement(const ProbeResult& r, const std::string& module, bool with_netrc) const {
    const auto go = fixture_->goModDownload(module, with_netrc);
    EXPECT_EQ(go.exit_code == 0, r.success)
        << "go mod download " << module << " exit " << go.exit_code << ":\n"
        << go.output << "\ngomodprobe:\n"
        << agent::formatText({r});
  }

  std::unique_ptr<net::NetLibraries> libraries_;
  std::unique_ptr<VcsFixture> fixture_;
};

TEST_F(VcsProbeTest, GoodRepoIsFoundLikeTheGoCommandFindsIt) {
  const ProbeResult r = probe(target("repo"));
  ASSERT_TRUE(r.success) << agent::formatText({r});
  ASSERT_TRUE(r.vcs);
  EXPECT_EQ(r.vcs->vcs, "git");
  EXPECT_EQ(r.vcs->repo, "https://git.corp.example/git/team/repo");
  EXPECT_EQ(r.vcs->prefix, "git.corp.example/team/repo");
  // git http-backend speaks v2 when asked with Git-Protocol: version=2.
  EXPECT_EQ(r.vcs->protocol, "smart-v2");
  ASSERT_EQ(r.vcs->steps.size(), 2U);
  EXPECT_EQ(r.vcs->steps[0].step, VcsStep::Discovery);
  EXPECT_EQ(r.vcs->steps[1].step, VcsStep::InfoRefs);
  EXPECT_EQ(r.vcs->steps[1].status_code, 200);
  EXPECT_GT(r.vcs->steps[1].duration_seconds, 0);
  ASSERT_EQ(r.http.size(), 2U);  // discovery over HTTP/1.1 and HTTP/2
  EXPECT_EQ(r.http[1].negotiated_version, 2);
  expectAgreement(r, "git.corp.example/team/repo", false);
}

TEST_F(VcsProbeTest, AuthRequiredWithoutCredentialsIsVcsAuthAndGoFailsToo) {
  const ProbeResult r = probe(target("private"));
  EXPECT_FALSE(r.success);
  EXPECT_EQ(r.reason, FailureReason::VcsAuth) << agent::formatText({r});
  EXPECT_EQ(r.http.at(0).status_code, 401);
  EXPECT_THAT(r.detail, HasSubstr("credentials missing"));
  expectAgreement(r, "git.corp.example/team/private", false);
}

TEST_F(VcsProbeTest, AuthWithNetrcSucceedsLikeGoWithNetrc) {
  TargetConfig t = target("private");
  t.netrc_file = fixture_->netrcFile();
  const ProbeResult r = probe(t);
  EXPECT_TRUE(r.success) << agent::formatText({r});
  EXPECT_EQ(r.vcs->protocol, "smart-v2");
  expectAgreement(r, "git.corp.example/team/private", true);
}

TEST_F(VcsProbeTest, MissingRepositoryFailsLikeTheGoCommand) {
  const ProbeResult r = probe(target("missing"));
  EXPECT_FALSE(r.success);
  EXPECT_EQ(r.reason, FailureReason::HttpStatus) << agent::formatText({r});
  ASSERT_EQ(r.vcs->steps.size(), 2U);
  EXPECT_TRUE(r.vcs->steps[0].success);
  EXPECT_EQ(r.vcs->steps[1].status_code, 404);
  expectAgreement(r, "git.corp.example/team/missing", false);
}

// The brief assumed the go command needs smart HTTP; it does not: git falls back to the dumb
// protocol and `go mod download` succeeds (full fetch after the shallow one fails). So a dumb
// server passes, and says so.
TEST_F(VcsProbeTest, DumbHttpServerPassesAndSaysSoLikeTheGoCommandSucceeds) {
  const ProbeResult r = probe(target("dumb"));
  EXPECT_TRUE(r.success) << agent::formatText({r});
  EXPECT_EQ(r.vcs->protocol, "dumb");
  ASSERT_EQ(r.vcs->steps.size(), 2U);
  EXPECT_THAT(r.vcs->steps[1].detail, HasSubstr("dumb HTTP server"));
  EXPECT_THAT(r.vcs->steps[1].detail, HasSubstr("text/plain"));
  EXPECT_THAT(r.vcs->steps[1].detail, HasSubstr("2 ref(s)"));  // main and the tag v1.0.0
  expectAgreement(r, "git.corp.example/team/dumb", false);
}

TEST_F(VcsProbeTest, GitEndpointBehindAuthIsVcsAuthAtInfoRefsAndBasicAuthPasses) {
  const ProbeResult without = probe(target("half"));
  EXPECT_EQ(without.reason, FailureReason::VcsAuth) << agent::formatText({without});
  ASSERT_EQ(without.vcs->steps.size(), 2U);
  EXPECT_TRUE(without.vcs->steps[0].success);
  EXPECT_EQ(without.vcs->steps[1].status_code, 401);

  TargetConfig t = target("half");
  t.basic_auth = {std::string(VcsFixture::kUser), fixture_->passwordFile()};
  const ProbeResult with = probe(t);
  EXPECT_TRUE(with.success) << agent::formatText({with});

  t.basic_auth.password_file = fixture_->tokenFile();  // wrong password
  const ProbeResult wrong = probe(t);
  EXPECT_EQ(wrong.reason, FailureReason::VcsAuth);
  EXPECT_THAT(wrong.detail, HasSubstr("credentials refused"));
}

TEST_F(VcsProbeTest, BearerTokenFromFile) {
  EXPECT_EQ(probe(target("bearer")).reason, FailureReason::VcsAuth);
  TargetConfig t = target("bearer");
  t.bearer_token_file = fixture_->tokenFile();
  const ProbeResult r = probe(t);
  EXPECT_TRUE(r.success) << agent::formatText({r});
  // A token file that vanished after the config was loaded fails the run, without a request.
  t.bearer_token_file = fixture_->dir() + "/secrets/gone";
  const ProbeResult gone = probe(t);
  EXPECT_EQ(gone.reason, FailureReason::VcsAuth);
  EXPECT_TRUE(gone.http.empty());
}

TEST_F(VcsProbeTest, SshIdentificationExchange) {
  SshStub good("SSH-2.0-OpenSSH_9.2p1 Debian-2+deb12u3\r\n");
  SshStub pre_lines("Welcome to git.corp.example\r\nAuthorised use only\r\nSSH-2.0-Gitea\r\n");
  SshStub garbage(std::string("HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n"));
  SshStub binary(std::string("\x15\x03\x03\x00\x02\x02\x46", 7));  // a TLS alert
  SshStub too_long("SSH-2.0-" + std::string(300, 'x') + "\r\n");

  TargetConfig t = target("repo");
  t.ssh = "127.0.0.1:" + std::to_string(good.port());
  ProbeResult r = probe(t);
  ASSERT_TRUE(r.success) << agent::formatText({r});
  ASSERT_EQ(r.vcs->steps.size(), 3U);
  EXPECT_EQ(r.vcs->steps[2].step, VcsStep::SshBanner);
  EXPECT_EQ(r.vcs->ssh_identification, "SSH-2.0-OpenSSH_9.2p1 Debian-2+deb12u3");
  EXPECT_THAT(good.clientLine(), StartsWith("SSH-2.0-gomodprobe_"));
  EXPECT_THAT(good.clientLine(), HasSubstr("\r\n"));

  t.ssh = std::string(VcsFixture::kHost) + ":" + std::to_string(pre_lines.port());  // by name
  r = probe(t);
  ASSERT_TRUE(r.success) << agent::formatText({r});
  EXPECT_EQ(r.vcs->ssh_identification, "SSH-2.0-Gitea");
  EXPECT_THAT(r.vcs->steps[2].detail, HasSubstr("2 line(s) before it"));

  for (const SshStub* stub : {&garbage, &binary, &too_long}) {
    t.ssh = "127.0.0.1:" + std::to_string(stub->port());
    r = probe(t);
    EXPECT_FALSE(r.success);
    EXPECT_EQ(r.reason, FailureReason::SshBanner) << agent::formatText({r});
  }

  // Nothing listening: the connect reason.
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in in = testing::loopback(0);
  ASSERT_EQ(::bind(fd, reinterpret_cast<const sockaddr*>(&in), sizeof(in)), 0);
  socklen_t len = sizeof(in);
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&in), &len);
  t.ssh = "127.0.0.1:" + std::to_string(ntohs(in.sin_port));
  r = probe(t);
  ::close(fd);
  EXPECT_EQ(r.reason, FailureReason::ConnectRefused) << agent::formatText({r});

  // A server that accepts and never speaks: the run's deadline, reason timeout.
  int silent = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  in.sin_port = 0;
  ASSERT_EQ(::bind(silent, reinterpret_cast<const sockaddr*>(&in), sizeof(in)), 0);
  ASSERT_EQ(::listen(silent, 4), 0);
  ::getsockname(silent, reinterpret_cast<sockaddr*>(&in), &len);
  t.ssh = "127.0.0.1:" + std::to_string(ntohs(in.sin_port));
  t.timeout = milliseconds(1500);
  r = probe(t);
  ::close(silent);
  EXPECT_EQ(r.reason, FailureReason::Timeout) << agent::formatText({r});
  ASSERT_EQ(r.vcs->steps.size(), 3U);
  EXPECT_EQ(r.vcs->steps[2].reason, FailureReason::Timeout);
}

// Every surface a secret could leak to: `check` text and JSON output with debug logs, the daemon's
// log, /metrics and /, and config error messages. The targets use each credential kind, succeed
// and fail (a wrong password is sent and refused).
TEST_F(VcsProbeTest, SecretsAppearOnNoOutputSurface) {
  SshStub ssh("Welcome\r\nSSH-2.0-OpenSSH_9.2p1 Debian-2+deb12u3\r\n");
  const std::string d = fixture_->dir();
  const std::string host(VcsFixture::kHost);
  std::string yaml = "global:\n  interval: 2s\n  timeout: 1500ms\n  resolvers: [\"" +
                     VcsFixture::dnsServer() + "\"]\n  ca_file: " + fixture_->caFile() +
                     "\ntargets:\n";
  const auto add = [&](const std::string& name, const std::string& page, const std::string& extra) {
    yaml += "  - name: " + name + "\n    kind: vcs\n    url: https://" + host + "/team/" + page +
            "\n    ip_protocol: ip4\n" + extra;
  };
  add("basic-ok", "half",
      "    basic_auth: {username: gopher, password_file: " + fixture_->passwordFile() + "}\n");
  add("basic-wrong", "half",
      "    basic_auth: {username: gopher, password_file: " + fixture_->tokenFile() + "}\n");
  add("bearer-ok", "bearer", "    bearer_token_file: " + fixture_->tokenFile() + "\n");
  add("netrc-ok", "private", "    netrc_file: " + fixture_->netrcFile() + "\n");
  add("none", "private", "");
  add("dumb", "dumb", "");
  add("missing", "missing", "");
  add("ssh-good", "repo", "    ssh: 127.0.0.1:" + std::to_string(ssh.port()) + "\n");
  const std::string config = d + "/leak.yml";
  std::ofstream(config) << yaml;

  const std::string binary = GOMODPROBE_BINARY;
  const std::vector<std::string> env = {"PATH=/usr/bin:/bin"};
  std::map<std::string, std::string> surfaces;
  for (const std::string format : {"text", "json"}) {
    const auto run = testing::runCommand(
        {binary, "--log.level", "debug", "check", "--config.file", config, "--output", format}, env,
        d, std::chrono::seconds(60));
    EXPECT_EQ(run.exit_code, 1) << run.output;  // some targets fail on purpose
    surfaces["check --output " + format] = run.output;
  }
  EXPECT_THAT(surfaces["check --output text"], HasSubstr("vcs_auth"));
  EXPECT_THAT(surfaces["check --output text"], HasSubstr("credentials refused"));
  EXPECT_THAT(surfaces["check --output json"], HasSubstr("\"basic-ok\""));

  // A config error that names a credential file.
  const std::string bad = d + "/leak-bad.yml";
  std::ofstream(bad) << yaml << "    netrc_file: " << fixture_->netrcFile()
                     << "\n    bearer_token_file: " << fixture_->tokenFile() << "\n";
  const auto check = testing::runCommand({binary, "--config.check", "--config.file", bad}, env, d,
                                         std::chrono::seconds(30));
  EXPECT_NE(check.exit_code, 0);
  EXPECT_THAT(check.output, HasSubstr("leak-bad.yml:"));
  surfaces["--config.check"] = check.output;

  // The daemon: its log, /metrics once every target ran, and /.
  const std::string log = d + "/leak-daemon.log";
  const pid_t pid =
      fixture_->net().startChild("leak-daemon", log,
                                 {binary, "--config.file", config, "--web.listen-address",
                                  "127.0.0.1:0", "--log.level", "debug"});
  int port = 0;
  const std::regex listening(R"(listening on .*\(port (\d+)\))");
  for (int i = 0; i < 400 && port == 0; ++i) {  // polling the log, bounded (~10 s)
    std::smatch m;
    const std::string text = testing::readFile(log);
    if (std::regex_search(text, m, listening)) port = std::stoi(m[1]);
    if (port == 0) std::this_thread::sleep_for(std::chrono::milliseconds(25));
  }
  ASSERT_GT(port, 0) << testing::readFile(log);
  const std::string base = "http://127.0.0.1:" + std::to_string(port);
  std::string metrics;
  for (int i = 0; i < 300; ++i) {  // polling /metrics, bounded (~15 s)
    metrics = testing::httpGet(base + "/metrics").body;
    if (metrics.find("gomodprobe_probe_success{target=\"none\"") != std::string::npos &&
        metrics.find("gomodprobe_probe_success{target=\"basic-wrong\"") != std::string::npos &&
        metrics.find("gomodprobe_probe_success{target=\"basic-ok\"") != std::string::npos &&
        metrics.find("gomodprobe_probe_success{target=\"bearer-ok\"") != std::string::npos &&
        metrics.find("gomodprobe_probe_success{target=\"netrc-ok\"") != std::string::npos) {
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  EXPECT_THAT(metrics, HasSubstr("gomodprobe_vcs_info{target=\"basic-ok\",vcs=\"git\","
                                 "repo=\"https://git.corp.example/auth/team/private\"} 1"));
  EXPECT_THAT(metrics, HasSubstr("reason=\"vcs_auth\""));
  EXPECT_THAT(metrics, HasSubstr("gomodprobe_vcs_step_duration_seconds_bucket{target=\"bearer-ok\""
                                 ",step=\"info_refs\""));
  surfaces["/metrics"] = metrics;
  surfaces["/"] = testing::httpGet(base + "/").body;
  fixture_->net().stopChild(pid);
  surfaces["daemon log"] = testing::readFile(log);

  for (const auto& [surface, text] : surfaces) {
    EXPECT_FALSE(text.empty()) << surface;
    for (const std::string_view secret : {VcsFixture::kPassword, VcsFixture::kToken}) {
      EXPECT_EQ(text.find(secret), std::string::npos) << secret << " leaked to " << surface;
    }
  }
}

}  // namespace
}  // namespace gomodprobe
