#pragma once

// NetFixture: real servers on 127.0.0.1 for integration tests (nginx, two dnsmasq, raw sockets).
//
// Usage (note the leading "::" -- inside namespace gomodprobe, "testing" names this namespace,
// not GoogleTest's):
//
//   class MyTest : public ::testing::Test {
//    protected:
//     static void SetUpTestSuite() { net_ = std::make_unique<NetFixture>(); net_->start(); }
//     static void TearDownTestSuite() { net_.reset(); }
//     static inline std::unique_ptr<NetFixture> net_;
//   };
//
// Everything lives in a mkdtemp directory under /tmp that the destructor removes (set
// GOMODPROBE_FIXTURE_KEEP_DIR=1 to keep it for debugging). Each server runs in its own process
// group with PR_SET_PDEATHSIG=SIGKILL, and a forked watchdog process SIGKILLs those groups (nginx
// workers included) when the test process dies without running the destructor (crash, abort,
// SIGKILL); only the temp dir is then left behind.
//
// nginx runs with "master_process on" (one worker): nginx 1.22 segfaults at start-up when
// "master_process off" is combined with inherited sockets.
//
// HTTP (identical on every nginx port; other paths -> 404 from nginx):
//   /                            200 kRootBody
//   /golang.org/x/text/@v/list   200 kModuleListBody
//   /latest                      200 kLatestBody
//   /status/502                  502 (nginx error page)
//   /status/404                  404
//   /big                         200, kBigBodySize bytes (static file, see bigBody())
//
// DNS (verified against dnsmasq 2.90 with raw UDP queries, see fixture_test.cc):
//   name           type  primary                         secondary
//   good.test      A     NOERROR, 127.0.0.1 (AA set)     same
//   good.test      AAAA  NOERROR, 0 answers (NODATA)     same
//   proxy.test     A/AAAA  as good.test                  same
//   split.test     A     NOERROR, 127.0.0.1              NOERROR, 127.0.0.2
//   split.test     AAAA  NOERROR, 0 answers              same
//   v6.test        AAAA  NOERROR, ::1                    same
//   v6.test        A     NOERROR, 0 answers (NODATA)     same
//   alias.test     CNAME NOERROR, good.test              same
//   alias.test     A     NOERROR, CNAME good.test + 127.0.0.1  same
//   servfail.test  any   SERVFAIL (rcode 2)              NXDOMAIN (rcode 3)
//   <other>.test   any   NXDOMAIN (rcode 3)              same
//   outside .test  any   REFUSED (rcode 5, no upstream)  same
// TTL of every local answer: 60 s from the primary, 30 s from the secondary (--local-ttl).
// dnsmasq never produces SERVFAIL itself for an unreachable upstream: forwarding to a port with
// nothing listening gives no reply at all (client timeout) and an unusable server address gives
// REFUSED. So the primary forwards servfail.test (and subdomains) to a tiny in-process UDP
// responder owned by the fixture that answers every query with SERVFAIL, which dnsmasq relays.
// Both dnsmasq listen on UDP and TCP at the same port.
//
// Ports: nginx listening sockets are bound and listen()ed here on 127.0.0.1:0 and handed to nginx
// through its inherited-socket variable NGINX="fd;fd;...;" (works with nginx 1.22: it matches them
// to "listen 127.0.0.1:PORT" by address), so there is no port race. dnsmasq cannot inherit
// sockets: its port is chosen by binding UDP+TCP :0, closing, and passing the number; if that
// tiny race is lost dnsmasq exits with EADDRINUSE and start() retries with a new port.

#include <curl/curl.h>
#include <gtest/gtest.h>
#include <sys/types.h>
#include <unistd.h>

#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include "gomodprobe/config.h"
#include "gomodprobe/probe.h"
#include "net/handles.h"
#include "net/unique_fd.h"

namespace gomodprobe::testing {

/// True in an AddressSanitizer build (scripts/test-sanitizers.sh), where the agent binary the tests
/// start is instrumented too. Its allocator keeps freed memory in a quarantine (256 MiB by
/// default) and VmRSS says nothing about leaks there, so tests skip their RSS bounds in that
/// build; LeakSanitizer checks every process for leaks at exit instead.
#if defined(__SANITIZE_ADDRESS__)
inline constexpr bool kAddressSanitizer = true;
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
inline constexpr bool kAddressSanitizer = true;
#else
inline constexpr bool kAddressSanitizer = false;
#endif
#else
inline constexpr bool kAddressSanitizer = false;
#endif

// The whole content of a file ("" when unreadable).
std::string readFile(const std::string& path);
// The last 16 KiB of a log file, headed by its path: for error messages of failed start-ups.
std::string logTail(const std::string& path);

// Exit code and output of a shell command (popen; waits for it to end).
struct CommandResult {
  int exit_code = -1;  // -1: did not exit normally
  std::string output;  // stdout, plus stderr when asked
};
CommandResult runCommand(const std::string& command, bool with_stderr = true);

// Writes `content` to `path` (parent directories created, file truncated); throws
// std::runtime_error when that fails.
void writeFile(const std::string& path, std::string_view content);

// ---- HTTP client of the tests (libcurl, never through a proxy of the environment) ----

struct HttpRequest {
  std::string url;
  bool post = false;          // POST with an empty body (e.g. /-/reload)
  std::string user_password;  // "user:password" for basic auth
  std::string ca_file;        // trust for https
  std::string cert_file;      // client certificate
  std::string key_file;
  long max_tls = 0;       // CURL_SSLVERSION_MAX_*
  long http_version = 0;  // CURL_HTTP_VERSION_*; 0: libcurl's default
};

struct HttpReply {
  CURLcode code = CURLE_OK;
  long status = 0;  // 0: no answer
  std::string body;
  std::string headers;
  std::string content_type;
};

// One request on a fresh handle, bounded by 20 s.
HttpReply httpFetch(const HttpRequest& request);
inline HttpReply httpGet(const std::string& url) { return httpFetch(HttpRequest{url}); }
inline HttpReply httpPost(const std::string& url) { return httpFetch(HttpRequest{url, true}); }

// ---- /metrics text and /proc readings ----

// The value of the sample `series` (name{labels} exactly as exposed), or NaN.
double sample(const std::string& metrics, const std::string& series);
// Every sample whose series starts with `prefix`: series -> value.
std::map<std::string, double> samples(const std::string& metrics, const std::string& prefix);
// Open descriptors of a process (entries of /proc/PID/fd); -1 when unreadable.
long openFds(pid_t pid);
// A number from /proc/PID/status ("VmRSS", "VmHWM" in KiB, "Threads"); -1 when absent.
long procStatus(pid_t pid, std::string_view field);

// ---- the agent ----

// The agent binary as a child process with `args`, stdout and stderr to the file `log` (which
// reveals the bound port); SIGKILLed on destruction unless waited for.
class Daemon {
 public:
  Daemon(const std::string& binary, std::vector<std::string> args, std::string log);
  ~Daemon();
  Daemon(const Daemon&) = delete;
  Daemon& operator=(const Daemon&) = delete;

  // Waits (bounded, ~10 s) for "(port N)" in the log; 0 when the daemon exited or never said.
  int port();
  void signal(int sig) const;
  // Waits for the exit (bounded by the caller's test timeout) and returns the exit code.
  int wait();
  [[nodiscard]] std::string log() const { return readFile(log_); }
  [[nodiscard]] pid_t pid() const { return pid_; }

 private:
  bool exited();
  std::string log_;
  pid_t pid_ = -1;
};

// The text exposition of `result` as the agent's collector renders it for `target`.
std::string metricsText(const TargetConfig& target, const ProbeResult& result);

// One run of `target` as `gomodprobe check` does it (agent::runOnce, system clock); throws
// std::logic_error if the agent returned no result.
ProbeResult runOnce(const TargetConfig& target);

// Owns a file descriptor (closed on destruction; movable, not copyable): the agent's own.
using UniqueFd = net::UniqueFd;

// Result of a raw UDP DNS query (see NetFixture::queryDns).
struct DnsReply {
  int rcode = -1;  // 0 NOERROR, 2 SERVFAIL, 3 NXDOMAIN, 5 REFUSED
  bool authoritative = false;
  uint16_t answer_count = 0;
  std::vector<std::string> addresses;  // A and AAAA rdata from the answer section, as text
};

class NetFixture {
 public:
  static constexpr std::string_view kRootBody = "ok\n";
  static constexpr std::string_view kModuleListBody = "v0.3.0\nv0.3.7\n";
  static constexpr std::string_view kLatestBody =
      "{\"Version\":\"v0.3.7\",\"Time\":\"2021-08-10T00:00:00Z\"}\n";
  static constexpr std::size_t kBigBodySize = 256 * 1024;
  static constexpr uint16_t kTypeA = 1;
  static constexpr uint16_t kTypeAaaa = 28;

  NetFixture();   // creates the temp dir
  ~NetFixture();  // SIGTERM to every child, SIGKILL after 2 s, then removes the temp dir
  NetFixture(const NetFixture&) = delete;
  NetFixture& operator=(const NetFixture&) = delete;

  // Generates certificates, starts nginx, both dnsmasq, the SERVFAIL responder and the hang and
  // refused sockets, and returns once all of them answer. Throws std::runtime_error (including
  // the relevant log file) on failure; the destructor still cleans up. Call once, from a thread
  // that outlives the fixture (PR_SET_PDEATHSIG is tied to the forking thread).
  void start();

  const std::string& dir() const { return dir_; }
  const std::string& caFile() const { return ca_file_; }             // test CA, PEM
  const std::string& otherCaFile() const { return other_ca_file_; }  // CA not in caFile()
  const std::string& goodCertFile() const { return good_cert_file_; }
  const std::string& keyFile() const { return key_file_; }  // key of every leaf (EC P-256)
  const std::string& accessLogFile() const { return access_log_file_; }  // nginx, all ports

  uint16_t h2Port() const { return h2_port_; }                 // TLS 1.2/1.3, ALPN h2,http/1.1
  uint16_t h1OnlyPort() const { return h1_port_; }             // TLS, ALPN http/1.1 only
  uint16_t plainPort() const { return plain_port_; }           // cleartext HTTP/1.1
  uint16_t expiredPort() const { return expired_port_; }       // test CA, notAfter 2021-01-01
  uint16_t wrongHostPort() const { return wrong_host_port_; }  // test CA, SAN DNS:wrong.example
  uint16_t unknownCaPort() const { return unknown_ca_port_; }  // good SANs, other CA
  uint16_t refusedPort() const { return refused_port_; }       // bound, not listening: ECONNREFUSED
  uint16_t hangPort() const { return hang_port_; }  // listening (backlog SOMAXCONN), never accepts

  std::string dnsPrimary() const;    // "127.0.0.1:PORT"
  std::string dnsSecondary() const;  // "127.0.0.1:PORT"
  uint16_t dnsPrimaryPort() const { return dns_primary_port_; }
  uint16_t dnsSecondaryPort() const { return dns_secondary_port_; }

  // notAfter of the good leaf (the cert on h2/h1Only/plain... TLS ports), in Unix seconds.
  double goodCertNotAfter() const { return static_cast<double>(good_not_after_); }

  // Pids of the long-running children (nginx, dnsmasq x2); for leak checks in tests.
  std::vector<pid_t> childPids() const;

  // The exact content served at /big.
  static std::string bigBody();

  // Absolute path of an executable found in $PATH, /usr/local/sbin, /usr/sbin or /sbin; "" if
  // none.
  static std::string findExecutable(const std::string& name);

  // One UDP query (RD set) to "IPv4:PORT"; nullopt on timeout or a malformed/mismatched reply.
  static std::optional<DnsReply> queryDns(const std::string& server, const std::string& name,
                                          uint16_t qtype, std::chrono::milliseconds timeout);

  // ---- Extension points for fixtures built on this one (e.g. GoModFixture) -------------------
  // They add to, and never change, what is documented above.

  // One more nginx server block, on its own inherited 127.0.0.1:0 socket. `directives` (nginx
  // server-block text, e.g. "location /x/ { ... }") replace the standard locations listed above.
  struct ExtraNginxServer {
    bool tls = true;    // the good certificate (SANs as on h2Port()) and keyFile()
    bool http2 = true;  // ALPN h2,http/1.1; only with tls
    std::string directives;
    // With tls: PEM files served instead of the good certificate and keyFile() (e.g. a chain
    // made by the caller before start()); empty = the defaults.
    std::string certificate;
    std::string certificate_key;
  };
  // Before start(): registers a server block; returns its index for extraNginxPort().
  std::size_t addNginxServer(ExtraNginxServer server);
  // After start(): the port of the server block added as `index`.
  uint16_t extraNginxPort(std::size_t index) const;

  // After start(): runs argv (argv[0] an absolute path) as a long-running child supervised like
  // the fixture's own servers: own process group, PR_SET_PDEATHSIG, killed by the watchdog if
  // this process dies, stopped by the destructor, listed in childPids(). stdout and stderr
  // append to `log_file`; `inherit_fds` (CLOEXEC in this process) stay open, same numbers.
  pid_t startChild(const std::string& name, const std::string& log_file,
                   const std::vector<std::string>& argv, const std::vector<int>& inherit_fds = {});
  // Stops a child from startChild() (SIGTERM to its group, SIGKILL after 2 s) and reaps it.
  void stopChild(pid_t pid) noexcept;
  // True if a child from startChild() has exited (it is then reaped and forgotten).
  bool childExited(pid_t pid);

 private:
  struct Tool {
    std::string name;  // log file: <dir>/tool-<name>.log
    std::vector<std::string> argv;
  };
  struct Child {
    std::string name;
    pid_t pid = -1;
    std::string log_file;
  };

  static pid_t spawn(const std::string& log_file, const std::vector<std::string>& argv,
                     const std::vector<std::string>& extra_env,
                     const std::vector<int>& inherit_fds);
  void runTools(const std::vector<Tool>& tools);
  void generateCertificates();
  void writeContent();
  void startNginx();
  void startDnsmasq();
  Child spawnDnsmasq(bool primary, uint16_t port);
  void startServfailResponder();
  void servfailLoop() const;
  void waitForNginx(const Child& nginx) const;
  static bool waitForDns(const Child& dnsmasq, uint16_t port);
  void startWatchdog();
  void watch(pid_t pid) const;
  void stopAll() noexcept;

  std::string dir_;
  std::string ca_file_;
  std::string other_ca_file_;
  std::string good_cert_file_;
  std::string key_file_;
  std::string access_log_file_;
  std::string openssl_;
  int64_t good_not_after_ = 0;

  uint16_t h2_port_ = 0;
  uint16_t h1_port_ = 0;
  uint16_t plain_port_ = 0;
  uint16_t expired_port_ = 0;
  uint16_t wrong_host_port_ = 0;
  uint16_t unknown_ca_port_ = 0;
  uint16_t refused_port_ = 0;
  uint16_t hang_port_ = 0;
  uint16_t dns_primary_port_ = 0;
  uint16_t dns_secondary_port_ = 0;
  uint16_t servfail_port_ = 0;

  int refused_fd_ = -1;
  int hang_fd_ = -1;
  int servfail_fd_ = -1;
  std::array<int, 2> wake_pipe_ = {-1, -1};
  pid_t watchdog_pid_ = -1;
  int watchdog_fd_ = -1;  // our end; EOF tells the watchdog that this process died
  std::thread servfail_thread_;
  std::vector<Child> children_;
  bool started_ = false;

  std::vector<ExtraNginxServer> extra_servers_;  // see addNginxServer()
  std::vector<uint16_t> extra_ports_;
};

// Base of a test suite whose tests run probes in-process: the agent's network libraries (curl,
// c-ares) and one NetFixture, started once per suite (SetUpTestSuite) and shared as net_.
class ProbeSuiteTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite();
  static void TearDownTestSuite();
  static inline std::unique_ptr<net::NetLibraries> libraries_;
  static inline std::unique_ptr<NetFixture> net_;
};

}  // namespace gomodprobe::testing
