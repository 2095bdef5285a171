#include "integration/fixture.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <prometheus/text_serializer.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <csignal>
#include <cstdlib>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>
#include <stdexcept>
#include <system_error>
#include <utility>

#include "agent/agent.h"
#include "gomodprobe/clock.h"
#include "metrics/probe_collector.h"
#include "support/loopback.h"

extern char** environ;  // NOLINT(readability-redundant-declaration): not declared in strict mode

namespace gomodprobe::testing {
namespace {

using SteadyClock = std::chrono::steady_clock;
namespace fs = std::filesystem;

// Normally ~0.2 s in total; the bound only matters on a heavily loaded machine.
constexpr auto kStartupTimeout = std::chrono::seconds(10);
constexpr auto kStopGrace = std::chrono::seconds(2);
constexpr auto kPollInterval = std::chrono::milliseconds(5);
constexpr auto kDnsProbeTimeout = std::chrono::milliseconds(50);
constexpr int kDnsmasqAttempts = 3;
constexpr std::size_t kMaxLogInError = std::size_t{16} * 1024;
constexpr int64_t kGoodValidity = int64_t{90} * 24 * 3600;

[[noreturn]] void throwErrno(const std::string& what) {
  throw std::runtime_error(what + ": " + std::system_category().message(errno));
}

// Keeps fds away from 0..2 so that dup2 onto stdio in a child can never clobber them.
UniqueFd aboveStdio(int fd) {
  if (fd < 0) throwErrno("socket");
  UniqueFd owned(fd);
  if (fd > 2) return owned;
  const int moved = ::fcntl(fd, F_DUPFD_CLOEXEC, 3);
  if (moved < 0) throwErrno("fcntl(F_DUPFD_CLOEXEC)");
  return UniqueFd(moved);
}

// A CLOEXEC socket bound to 127.0.0.1:port (0 = kernel's choice).
UniqueFd bindLoopback(int type, uint16_t port) {
  UniqueFd fd = aboveStdio(::socket(AF_INET, type | SOCK_CLOEXEC, 0));
  const sockaddr_in addr = loopback(port);
  if (::bind(fd.get(), reinterpret_cast<const sockaddr*>(&addr), sizeof(addr)) != 0) {
    return {};
  }
  return fd;
}

uint16_t boundPort(int fd) {
  sockaddr_in addr{};
  socklen_t len = sizeof(addr);
  if (::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0) throwErrno("getsockname");
  return ntohs(addr.sin_port);
}

UniqueFd listeningSocket() {
  UniqueFd fd = bindLoopback(SOCK_STREAM, 0);
  if (fd.get() < 0) throwErrno("bind 127.0.0.1:0");
  if (::listen(fd.get(), SOMAXCONN) != 0) throwErrno("listen");
  return fd;
}

// A port free for both UDP and TCP right now (racy by nature; callers retry).
uint16_t freeUdpTcpPort() {
  for (int attempt = 0; attempt < 50; ++attempt) {
    UniqueFd tcp = bindLoopback(SOCK_STREAM, 0);
    if (tcp.get() < 0) throwErrno("bind 127.0.0.1:0");
    const uint16_t port = boundPort(tcp.get());
    UniqueFd udp = bindLoopback(SOCK_DGRAM, port);
    if (udp.get() >= 0) return port;
  }
  throw std::runtime_error("no port free for both UDP and TCP on 127.0.0.1");
}

// Reaps pid if it has exited; true if it is gone.
bool reaped(pid_t pid) {
  int status = 0;
  const pid_t r = ::waitpid(pid, &status, WNOHANG);
  return r == pid || (r < 0 && errno == ECHILD);
}

bool waitUntilReaped(pid_t pid, SteadyClock::time_point deadline) {
  while (!reaped(pid)) {
    if (SteadyClock::now() >= deadline) return false;
    std::this_thread::sleep_for(kPollInterval);
  }
  return true;
}

void signalGroup(pid_t pid, int sig) {
  // Children call setpgid(0, 0); fall back to the pid if that has not happened yet.
  if (::kill(-pid, sig) != 0) ::kill(pid, sig);
}

std::string formatAsn1Time(int64_t unix_seconds) {
  const auto t = static_cast<std::time_t>(unix_seconds);
  std::tm tm{};
  ::gmtime_r(&t, &tm);
  std::array<char, 32> buf{};
  const std::size_t n = std::strftime(buf.data(), buf.size(), "%Y%m%d%H%M%SZ", &tm);
  return {buf.data(), n};
}

// nginx double-quoted string literal.
std::string nginxQuote(std::string_view text) {
  std::string out = "\"";
  for (const char c : text) {
    if (c == '\n') {
      out += "\\n";
    } else {
      if (c == '$') throw std::invalid_argument("nginx cannot escape '$' in a literal");
      if (c == '"' || c == '\\') out += '\\';
      out += c;
    }
  }
  return out + "\"";
}

// ---- DNS wire format --------------------------------------------------------------------------

void putU16(std::string& out, uint16_t v) {
  out += static_cast<char>(v >> 8);
  out += static_cast<char>(v & 0xff);
}

uint16_t getU16(const unsigned char* p) { return static_cast<uint16_t>((p[0] << 8) | p[1]); }

// Advances pos past a (possibly compressed) name; false if malformed.
bool skipName(const unsigned char* msg, std::size_t size, std::size_t& pos) {
  while (pos < size) {
    const unsigned len = msg[pos];
    if ((len & 0xc0) == 0xc0) {
      pos += 2;
      return pos <= size;
    }
    if ((len & 0xc0) != 0) return false;
    pos += 1;
    if (len == 0) return true;
    pos += len;
  }
  return false;
}

bool parseHostPort(const std::string& server, sockaddr_in& addr) {
  const auto colon = server.rfind(':');
  if (colon == std::string::npos) return false;
  addr = sockaddr_in{};
  addr.sin_family = AF_INET;
  if (::inet_pton(AF_INET, server.substr(0, colon).c_str(), &addr.sin_addr) != 1) return false;
  const unsigned long port = std::strtoul(server.c_str() + colon + 1, nullptr, 10);
  if (port == 0 || port > 65535) return false;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  return true;
}

}  // namespace

std::string readFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

std::string logTail(const std::string& path) {
  std::string text = readFile(path);
  if (text.size() > kMaxLogInError) text = "...\n" + text.substr(text.size() - kMaxLogInError);
  return "\n--- " + path + " ---\n" + text;
}

CommandResult runCommand(const std::string& command, bool with_stderr) {
  CommandResult result;
  FILE* pipe = ::popen((command + (with_stderr ? " 2>&1" : " 2>/dev/null")).c_str(), "r");
  if (pipe == nullptr) return result;
  std::array<char, 4096> buffer{};
  std::size_t n = 0;
  while ((n = std::fread(buffer.data(), 1, buffer.size(), pipe)) > 0) {
    result.output.append(buffer.data(), n);
  }
  const int status = ::pclose(pipe);
  result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return result;
}

void writeFile(const std::string& path, std::string_view content) {
  const fs::path parent = fs::path(path).parent_path();
  if (!parent.empty()) fs::create_directories(parent);
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(content.data(), static_cast<std::streamsize>(content.size()));
  if (!out) throw std::runtime_error("cannot write " + path);
}

// ---- HTTP client, /metrics, /proc ---------------------------------------------------------------

namespace {

std::size_t appendTo(char* data, std::size_t size, std::size_t count, void* user) {
  static_cast<std::string*>(user)->append(data, size * count);
  return size * count;
}

}  // namespace

HttpReply httpFetch(const HttpRequest& request) {
  HttpReply reply;
  CURL* curl = curl_easy_init();
  if (curl == nullptr) {
    reply.code = CURLE_FAILED_INIT;
    return reply;
  }
  curl_easy_setopt(curl, CURLOPT_URL, request.url.c_str());
  curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, 20000L);
  curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(curl, CURLOPT_PROXY, "");
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, &appendTo);
  curl_easy_setopt(curl, CURLOPT_WRITEDATA, &reply.body);
  curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, &appendTo);
  curl_easy_setopt(curl, CURLOPT_HEADERDATA, &reply.headers);
  if (request.post) curl_easy_setopt(curl, CURLOPT_POSTFIELDS, "");
  if (!request.user_password.empty()) {
    curl_easy_setopt(curl, CURLOPT_HTTPAUTH, CURLAUTH_BASIC);
    curl_easy_setopt(curl, CURLOPT_USERPWD, request.user_password.c_str());
  }
  if (!request.ca_file.empty()) curl_easy_setopt(curl, CURLOPT_CAINFO, request.ca_file.c_str());
  if (!request.cert_file.empty()) {
    curl_easy_setopt(curl, CURLOPT_SSLCERT, request.cert_file.c_str());
    curl_easy_setopt(curl, CURLOPT_SSLKEY, request.key_file.c_str());
  }
  if (request.http_version != 0) curl_easy_setopt(curl, CURLOPT_HTTP_VERSION, request.http_version);
  if (request.max_tls != 0) {
    curl_easy_setopt(curl, CURLOPT_SSLVERSION, CURL_SSLVERSION_TLSv1_2 | request.max_tls);
  }
  reply.code = curl_easy_perform(curl);
  if (reply.code == CURLE_OK) {
    curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &reply.status);
    const char* type = nullptr;
    curl_easy_getinfo(curl, CURLINFO_CONTENT_TYPE, &type);
    if (type != nullptr) reply.content_type = type;
  }
  curl_easy_cleanup(curl);
  return reply;
}

double sample(const std::string& metrics, const std::string& series) {
  std::istringstream in(metrics);
  for (std::string line; std::getline(in, line);) {
    if (line.starts_with(series + " ")) return std::stod(line.substr(series.size() + 1));
  }
  return std::nan("");
}

std::map<std::string, double> samples(const std::string& metrics, const std::string& prefix) {
  std::map<std::string, double> out;
  std::istringstream in(metrics);
  for (std::string line; std::getline(in, line);) {
    if (!line.starts_with(prefix)) continue;
    const auto space = line.rfind(' ');
    if (space == std::string::npos) continue;
    out[line.substr(0, space)] = std::stod(line.substr(space + 1));
  }
  return out;
}

long openFds(pid_t pid) {
  std::error_code ec;
  long n = 0;
  for (fs::directory_iterator it("/proc/" + std::to_string(pid) + "/fd", ec), end; !ec && it != end;
       it.increment(ec)) {
    ++n;
  }
  return ec ? -1 : n;
}

long procStatus(pid_t pid, std::string_view field) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  for (std::string line; std::getline(in, line);) {
    if (line.starts_with(field) && line.size() > field.size() && line[field.size()] == ':') {
      return std::strtol(line.c_str() + field.size() + 1, nullptr, 10);
    }
  }
  return -1;
}

// ---- the agent ----------------------------------------------------------------------------------

Daemon::Daemon(const std::string& binary, std::vector<std::string> args, std::string log)
    : log_(std::move(log)) {
  args.insert(args.begin(), binary);
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  pid_ = ::fork();
  if (pid_ == 0) {
    const int fd = ::open(log_.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    ::dup2(fd, 1);
    ::dup2(fd, 2);
    ::execv(binary.c_str(), argv.data());
    ::_exit(127);
  }
}

Daemon::~Daemon() {
  if (pid_ > 0) {
    ::kill(pid_, SIGKILL);
    ::waitpid(pid_, nullptr, 0);
  }
}

int Daemon::port() {
  const std::regex re("\\(port ([0-9]+)\\)");
  for (int i = 0; i < 400; ++i) {
    std::smatch m;
    const std::string text = readFile(log_);
    if (std::regex_search(text, m, re)) return std::stoi(m[1]);
    if (exited()) return 0;
    std::this_thread::sleep_for(std::chrono::milliseconds(25));  // polling a log, bounded
  }
  return 0;
}

void Daemon::signal(int sig) const {
  if (pid_ > 0) ::kill(pid_, sig);
}

int Daemon::wait() {
  int status = 0;
  ::waitpid(pid_, &status, 0);
  pid_ = -1;
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

bool Daemon::exited() {
  int status = 0;
  if (::waitpid(pid_, &status, WNOHANG) != pid_) return false;
  pid_ = -1;
  return true;
}

void ProbeSuiteTest::SetUpTestSuite() {
  libraries_ = std::make_unique<net::NetLibraries>();
  net_ = std::make_unique<NetFixture>();
  net_->start();
}

void ProbeSuiteTest::TearDownTestSuite() {
  net_.reset();
  libraries_.reset();
}

std::string metricsText(const TargetConfig& target, const ProbeResult& result) {
  metrics::ProbeCollector collector(metrics::BuildInfo{});
  collector.setTargets({target});
  collector.record(result);
  std::ostringstream out;
  prometheus::TextSerializer().Serialize(out, collector.Collect());
  return out.str();
}

ProbeResult runOnce(const TargetConfig& target) {
  Config config;
  config.targets = {target};
  SystemClock clock;
  auto results = agent::runOnce(config, clock);
  if (results.size() != 1) throw std::logic_error("agent::runOnce gave no result");
  return std::move(results.front());
}

// ---- lifecycle ----------------------------------------------------------------------------------

NetFixture::NetFixture() {
  std::string templ = "/tmp/gomodprobe-it-XXXXXX";
  if (::mkdtemp(templ.data()) == nullptr) throwErrno("mkdtemp");
  dir_ = templ;
}

NetFixture::~NetFixture() {
  stopAll();
  const char* keep = std::getenv("GOMODPROBE_FIXTURE_KEEP_DIR");  // NOLINT(concurrency-mt-unsafe)
  if (keep == nullptr || std::string_view(keep) != "1") {
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }
}

void NetFixture::stopAll() noexcept {
  if (watchdog_fd_ >= 0) {
    const pid_t disarm = 0;
    [[maybe_unused]] const ssize_t n = ::send(watchdog_fd_, &disarm, sizeof(disarm), MSG_NOSIGNAL);
    ::close(watchdog_fd_);
    watchdog_fd_ = -1;
  }
  if (watchdog_pid_ > 0) {
    int status = 0;
    ::waitpid(watchdog_pid_, &status, 0);
    watchdog_pid_ = -1;
  }
  if (wake_pipe_[1] >= 0) {
    const char byte = 'x';
    [[maybe_unused]] const ssize_t n = ::write(wake_pipe_[1], &byte, 1);
  }
  if (servfail_thread_.joinable()) servfail_thread_.join();

  // A child already reaped (it died during start-up) is not signalled: its pid may be reused.
  std::erase_if(children_, [](const Child& child) { return reaped(child.pid); });
  for (const Child& child : children_) signalGroup(child.pid, SIGTERM);
  const auto deadline = SteadyClock::now() + kStopGrace;
  for (const Child& child : children_) {
    if (!waitUntilReaped(child.pid, deadline)) {
      signalGroup(child.pid, SIGKILL);
      int status = 0;
      ::waitpid(child.pid, &status, 0);
    }
  }
  children_.clear();

  for (int* fd :
       {&refused_fd_, &hang_fd_, &servfail_fd_, wake_pipe_.data(), wake_pipe_.data() + 1}) {
    if (*fd >= 0) ::close(*fd);
    *fd = -1;
  }
}

void NetFixture::start() {
  if (started_) throw std::logic_error("NetFixture::start() called twice");
  started_ = true;

  openssl_ = findExecutable("openssl");
  if (openssl_.empty()) throw std::runtime_error("openssl not found");
  startWatchdog();  // first: it must not inherit the sockets created below

  {
    UniqueFd refused = bindLoopback(SOCK_STREAM, 0);
    if (refused.get() < 0) throwErrno("bind 127.0.0.1:0");
    refused_port_ = boundPort(refused.get());
    refused_fd_ = refused.release();
    UniqueFd hang = listeningSocket();
    hang_port_ = boundPort(hang.get());
    hang_fd_ = hang.release();
  }

  writeContent();
  startServfailResponder();
  generateCertificates();
  startNginx();
  startDnsmasq();
  waitForNginx(children_.front());
}

std::vector<pid_t> NetFixture::childPids() const {
  std::vector<pid_t> pids;
  pids.reserve(children_.size());
  for (const Child& child : children_) pids.push_back(child.pid);
  return pids;
}

std::string NetFixture::dnsPrimary() const {
  return "127.0.0.1:" + std::to_string(dns_primary_port_);
}

std::string NetFixture::dnsSecondary() const {
  return "127.0.0.1:" + std::to_string(dns_secondary_port_);
}

std::string NetFixture::bigBody() {
  std::string body;
  body.reserve(kBigBodySize);
  static constexpr std::string_view kLine =
      "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ-gomodprobe-big-body\n";
  while (body.size() < kBigBodySize) body += kLine;
  body.resize(kBigBodySize);
  return body;
}

std::string NetFixture::findExecutable(const std::string& name) {
  if (name.find('/') != std::string::npos) {
    return ::access(name.c_str(), X_OK) == 0 ? name : std::string();
  }
  std::vector<std::string> dirs;
  if (const char* path = std::getenv("PATH")) {  // NOLINT(concurrency-mt-unsafe)
    std::istringstream in(path);
    for (std::string entry; std::getline(in, entry, ':');) {
      dirs.push_back(entry.empty() ? "." : entry);
    }
  }
  for (const char* extra : {"/usr/local/sbin", "/usr/sbin", "/sbin"}) dirs.emplace_back(extra);
  for (const std::string& d : dirs) {
    std::string candidate = d;
    candidate += "/";
    candidate += name;
    struct stat st {};
    if (::stat(candidate.c_str(), &st) == 0 && S_ISREG(st.st_mode) &&
        ::access(candidate.c_str(), X_OK) == 0) {
      return candidate;
    }
  }
  return {};
}

// ---- processes ----------------------------------------------------------------------------------

pid_t NetFixture::spawn(const std::string& log_file, const std::vector<std::string>& argv,
                        const std::vector<std::string>& extra_env,
                        const std::vector<int>& inherit_fds) {
  // Everything the child needs is prepared before fork(): after it only async-signal-safe calls.
  std::vector<std::string> env;
  env.reserve(extra_env.size() + 64);
  for (char** e = environ; e != nullptr && *e != nullptr; ++e) {
    if (std::string_view(*e).starts_with("NGINX=")) continue;  // never leak a stale one
    env.emplace_back(*e);
  }
  env.insert(env.end(), extra_env.begin(), extra_env.end());
  std::vector<char*> envp;
  envp.reserve(env.size() + 1);
  for (std::string& s : env) envp.push_back(s.data());
  envp.push_back(nullptr);
  std::vector<std::string> args = argv;
  std::vector<char*> argp;
  argp.reserve(args.size() + 1);
  for (std::string& s : args) argp.push_back(s.data());
  argp.push_back(nullptr);
  const std::string exec_failed = "exec " + argv.front() + " failed\n";

  UniqueFd log(::open(log_file.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644));
  if (log.get() < 0) throwErrno("open " + log_file);
  UniqueFd devnull(::open("/dev/null", O_RDONLY | O_CLOEXEC));
  if (devnull.get() < 0) throwErrno("open /dev/null");

  const pid_t parent = ::getpid();
  const pid_t pid = ::fork();
  if (pid < 0) throwErrno("fork");
  if (pid == 0) {
    ::setpgid(0, 0);
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (::getppid() != parent) ::_exit(127);
    ::dup2(devnull.get(), STDIN_FILENO);
    ::dup2(log.get(), STDOUT_FILENO);
    ::dup2(log.get(), STDERR_FILENO);
    for (const int fd : inherit_fds) {
      const int flags = ::fcntl(fd, F_GETFD);
      ::fcntl(fd, F_SETFD, flags & ~FD_CLOEXEC);
    }
    sigset_t none;
    ::sigemptyset(&none);
    ::sigprocmask(SIG_SETMASK, &none, nullptr);  // NOLINT(concurrency-mt-unsafe): single thread
    ::signal(SIGPIPE, SIG_DFL);
    ::execve(argp[0], argp.data(), envp.data());
    [[maybe_unused]] const ssize_t n =
        ::write(STDERR_FILENO, exec_failed.data(), exec_failed.size());
    ::_exit(127);
  }
  ::setpgid(pid, pid);  // may race with the child's own call; either one suffices
  return pid;
}

// A forked (not exec'd) child that outlives an abnormal exit of this process: it reads pids of
// process-group leaders from a socket and, on EOF without a prior 0 ("disarm"), SIGKILLs those
// groups. Only async-signal-safe calls after fork().
void NetFixture::startWatchdog() {
  // A socketpair rather than a pipe: send(MSG_NOSIGNAL) cannot SIGPIPE us if the watchdog died.
  std::array<int, 2> fds = {-1, -1};
  if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds.data()) != 0) {
    throwErrno("socketpair");
  }
  const pid_t pid = ::fork();
  if (pid < 0) {
    ::close(fds[0]);
    ::close(fds[1]);
    throwErrno("fork");
  }
  if (pid == 0) {
    ::setpgid(0, 0);  // out of the terminal's group: Ctrl-C must reach only the test process
    for (const int sig : {SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGPIPE}) ::signal(sig, SIG_IGN);
    if (fds[0] != 3) {
      ::dup2(fds[0], 3);
    } else {
      ::fcntl(3, F_SETFD, 0);
    }
    const int null_fd = ::open("/dev/null", O_RDWR);
    if (null_fd >= 0) {
      for (int fd = 0; fd < 3; ++fd) ::dup2(null_fd, fd);
    }
    ::close_range(4, ~0U, 0);  // drop copies of every other descriptor (sockets, pipes)
    std::array<pid_t, 64> groups{};
    std::size_t count = 0;
    for (;;) {
      pid_t value = 0;
      const ssize_t n = ::read(3, &value, sizeof(value));
      if (n < 0 && errno == EINTR) continue;
      if (n != static_cast<ssize_t>(sizeof(value))) break;  // EOF: the test process is gone
      if (value == 0) ::_exit(0);                           // orderly shutdown
      if (count < groups.size()) groups[count++] = value;
    }
    for (std::size_t i = 0; i < count; ++i) ::kill(-groups[i], SIGKILL);
    ::_exit(0);
  }
  ::close(fds[0]);
  watchdog_pid_ = pid;
  watchdog_fd_ = fds[1];
}

void NetFixture::watch(pid_t pid) const {
  if (watchdog_fd_ < 0) return;
  [[maybe_unused]] const ssize_t n = ::send(watchdog_fd_, &pid, sizeof(pid), MSG_NOSIGNAL);
}

// Runs short-lived commands concurrently; throws with their logs if any fails.
void NetFixture::runTools(const std::vector<Tool>& tools) {
  std::vector<std::pair<pid_t, std::string>> running;
  std::string errors;
  for (const Tool& tool : tools) {
    const std::string log_file = dir_ + "/tool-" + tool.name + ".log";
    running.emplace_back(spawn(log_file, tool.argv, {}, {}), log_file);
  }
  for (const auto& [pid, log_file] : running) {
    int status = 0;
    while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
      errors += "\ncommand failed (wait status " + std::to_string(status) + ")" + logTail(log_file);
    }
  }
  if (!errors.empty()) throw std::runtime_error("NetFixture: " + errors);
}

// ---- certificates -------------------------------------------------------------------------------

void NetFixture::generateCertificates() {
  const std::string d = dir_ + "/pki";
  fs::create_directories(d);
  // One database per signing so that the four `openssl ca` runs can go in parallel.
  for (const char* db : {"good", "expired", "wrong", "unknown"}) {
    fs::create_directories(d + "/db-" + db);
    writeFile(d + "/db-" + db + "/index.txt", "");
    writeFile(d + "/db-" + db + "/serial", "1000\n");
  }
  const std::string cnf = d + "/openssl.cnf";
  std::string ca_sections;
  for (const char* db : {"good", "expired", "wrong", "unknown"}) {
    ca_sections += std::string("[ ca_") + db + " ]\ndir = " + d + "/db-" + db + "\n" +
                   "database = $dir/index.txt\nnew_certs_dir = $dir\nserial = $dir/serial\n"
                   "default_md = sha256\npolicy = fixture_policy\nunique_subject = no\n"
                   "copy_extensions = none\nemail_in_dn = no\n";
  }
  writeFile(cnf, ca_sections + R"([ req ]
distinguished_name = req_dn
prompt = no
[ req_dn ]
CN = unused
[ fixture_policy ]
commonName = supplied
[ ca_ext ]
basicConstraints = critical, CA:TRUE
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
[ good_leaf ]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature
extendedKeyUsage = serverAuth
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
subjectAltName = DNS:good.test, DNS:proxy.test, DNS:split.test, DNS:localhost, IP:127.0.0.1
[ wrong_leaf ]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature
extendedKeyUsage = serverAuth
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
subjectAltName = DNS:wrong.example
)");

  ca_file_ = d + "/ca.pem";
  other_ca_file_ = d + "/other-ca.pem";
  key_file_ = d + "/leaf.key";
  good_cert_file_ = d + "/good.pem";
  const std::string csr = d + "/leaf.csr";
  const std::vector<std::string> ec = {"-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
                                       "-nodes"};
  auto req = [&](const std::string& name, std::vector<std::string> args) {
    args.insert(args.begin(), {openssl_, "req", "-config", cnf});
    args.insert(args.end(), ec.begin(), ec.end());
    return Tool{name, std::move(args)};
  };
  runTools({
      req("ca", {"-x509", "-extensions", "ca_ext", "-days", "3650", "-subj",
                 "/CN=gomodprobe test CA", "-keyout", d + "/ca.key", "-out", ca_file_}),
      req("other-ca",
          {"-x509", "-extensions", "ca_ext", "-days", "3650", "-subj", "/CN=gomodprobe other CA",
           "-keyout", d + "/other-ca.key", "-out", other_ca_file_}),
      req("csr", {"-new", "-subj", "/CN=good.test", "-keyout", key_file_, "-out", csr}),
  });

  const int64_t now = std::chrono::duration_cast<std::chrono::seconds>(
                          std::chrono::system_clock::now().time_since_epoch())
                          .count();
  good_not_after_ = now + kGoodValidity;
  auto sign = [&](const std::string& db, const std::string& ca, const std::string& subject,
                  const std::string& extensions, const std::string& start_date,
                  const std::string& end_date) {
    std::vector<std::string> argv = {openssl_, "ca",       "-config", cnf,
                                     "-name",  "ca_" + db, "-batch",  "-notext"};
    argv.insert(argv.end(), {"-cert", d + "/" + ca + ".pem", "-keyfile", d + "/" + ca + ".key"});
    argv.insert(argv.end(), {"-in", csr, "-out", d + "/" + db + ".pem", "-subj", subject});
    argv.insert(argv.end(), {"-extensions", extensions});
    argv.insert(argv.end(), {"-startdate", start_date, "-enddate", end_date});
    return Tool{"sign-" + db, std::move(argv)};
  };
  const std::string good_start = formatAsn1Time(now - 3600);
  const std::string good_end = formatAsn1Time(good_not_after_);
  runTools({
      sign("good", "ca", "/CN=good.test", "good_leaf", good_start, good_end),
      sign("expired", "ca", "/CN=good.test", "good_leaf", "20200101000000Z", "20210101000000Z"),
      sign("wrong", "ca", "/CN=wrong.example", "wrong_leaf", good_start, good_end),
      sign("unknown", "other-ca", "/CN=good.test", "good_leaf", good_start, good_end),
  });
}

// ---- nginx --------------------------------------------------------------------------------------

void NetFixture::writeContent() {
  fs::create_directories(dir_ + "/www");
  writeFile(dir_ + "/www/big", bigBody());
}

void NetFixture::startNginx() {
  const std::string nginx = findExecutable("nginx");
  if (nginx.empty()) throw std::runtime_error("nginx not found");
  for (const char* sub : {"client_body", "proxy", "fastcgi", "uwsgi", "scgi"}) {
    fs::create_directories(dir_ + "/nginx-temp/" + sub);
  }

  struct Server {
    uint16_t* port;
    std::string listen_options;
    std::string cert;
    const std::string* directives = nullptr;  // nullptr: the standard locations
    std::string key;                          // empty: the http-level key_file_
  };
  const std::string pki = dir_ + "/pki/";
  std::vector<Server> servers = {
      {&h2_port_, " ssl http2", pki + "good.pem"},
      {&h1_port_, " ssl", pki + "good.pem"},
      {&plain_port_, "", ""},
      {&expired_port_, " ssl", pki + "expired.pem"},
      {&wrong_host_port_, " ssl", pki + "wrong.pem"},
      {&unknown_ca_port_, " ssl", pki + "unknown.pem"},
  };
  extra_ports_.assign(extra_servers_.size(), 0);
  for (std::size_t i = 0; i < extra_servers_.size(); ++i) {
    const ExtraNginxServer& extra = extra_servers_[i];
    const std::string options = !extra.tls ? "" : extra.http2 ? " ssl http2" : " ssl";
    const std::string cert = !extra.tls                  ? ""
                             : extra.certificate.empty() ? pki + "good.pem"
                                                         : extra.certificate;
    servers.push_back({&extra_ports_[i], options, cert, &extra.directives,
                       extra.tls ? extra.certificate_key : ""});
  }

  std::vector<UniqueFd> sockets;
  std::vector<int> fds;
  std::string inherited = "NGINX=";
  for (const Server& server : servers) {
    UniqueFd fd = listeningSocket();
    // nginx expects its listening sockets to be non-blocking (it does so for its own ones).
    ::fcntl(fd.get(), F_SETFL, ::fcntl(fd.get(), F_GETFL) | O_NONBLOCK);
    *server.port = boundPort(fd.get());
    fds.push_back(fd.get());
    inherited += std::to_string(fd.get()) + ";";
    sockets.push_back(std::move(fd));
  }

  std::string locations = "    root " + dir_ + "/www;\n";
  locations += "    location = / { return 200 " + nginxQuote(kRootBody) + "; }\n";
  locations += "    location = /golang.org/x/text/@v/list { return 200 " +
               nginxQuote(kModuleListBody) + "; }\n";
  locations += "    location = /latest { return 200 " + nginxQuote(kLatestBody) + "; }\n";
  locations += "    location = /status/502 { return 502; }\n";
  locations += "    location = /status/404 { return 404; }\n";
  locations += "    location = /big { default_type application/octet-stream; }\n";
  std::string conf;
  if (::geteuid() == 0) conf += "user root;\n";
  conf += "daemon off;\nmaster_process on;\nworker_processes 1;\n";
  conf += "pid " + dir_ + "/nginx.pid;\n";
  conf += "error_log " + dir_ + "/nginx-error.log info;\n";
  conf += "events { worker_connections 1024; }\n";
  conf += "http {\n";
  access_log_file_ = dir_ + "/nginx-access.log";
  conf += "  access_log " + access_log_file_ + ";\n";
  for (const char* sub : {"client_body", "proxy", "fastcgi", "uwsgi", "scgi"}) {
    conf += "  " + std::string(sub) + "_temp_path " + dir_ + "/nginx-temp/" + sub + ";\n";
  }
  conf += "  default_type text/plain;\n  server_tokens off;\n";
  conf += "  ssl_protocols TLSv1.2 TLSv1.3;\n";
  conf += "  ssl_certificate_key " + key_file_ + ";\n";
  for (const Server& server : servers) {
    conf += "  server {\n    listen 127.0.0.1:" + std::to_string(*server.port) +
            server.listen_options + ";\n    server_name _;\n";
    if (!server.cert.empty()) conf += "    ssl_certificate " + server.cert + ";\n";
    if (!server.key.empty()) conf += "    ssl_certificate_key " + server.key + ";\n";
    conf += (server.directives != nullptr ? *server.directives + "\n" : locations) + "  }\n";
  }
  conf += "}\n";
  const std::string conf_file = dir_ + "/nginx.conf";
  writeFile(conf_file, conf);

  const std::string log_file = dir_ + "/nginx-error.log";
  const pid_t pid =
      spawn(log_file, {nginx, "-p", dir_, "-c", conf_file, "-e", log_file}, {inherited}, fds);
  watch(pid);
  children_.insert(children_.begin(), Child{"nginx", pid, log_file});
  // `sockets` closes the parent's copies: nginx owns the listening sockets from now on.
}

void NetFixture::waitForNginx(const Child& nginx) const {
  // The sockets already listen, so a TCP connect proves nothing: wait for an HTTP answer.
  // The request queues in the backlog until nginx accepts it.
  const auto deadline = SteadyClock::now() + kStartupTimeout;
  UniqueFd fd = aboveStdio(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  const sockaddr_in addr = loopback(plain_port_);
  if (::connect(fd.get(), reinterpret_cast<const sockaddr*>(&addr), sizeof(addr)) != 0) {
    // Only nginx holds the listening socket now, so it has exited already.
    throw std::runtime_error("nginx exited during start-up (connect: " +
                             std::system_category().message(errno) + ")" + logTail(nginx.log_file));
  }
  static constexpr std::string_view kRequest = "GET / HTTP/1.0\r\nHost: ready\r\n\r\n";
  if (::send(fd.get(), kRequest.data(), kRequest.size(), MSG_NOSIGNAL) !=
      static_cast<ssize_t>(kRequest.size())) {
    throwErrno("send to nginx");
  }
  std::string response;
  while (SteadyClock::now() < deadline) {
    if (reaped(nginx.pid)) {
      throw std::runtime_error("nginx exited during start-up" + logTail(nginx.log_file));
    }
    pollfd pfd{fd.get(), POLLIN, 0};
    if (::poll(&pfd, 1, static_cast<int>(kPollInterval.count())) <= 0) continue;
    std::array<char, 512> buf{};
    const ssize_t n = ::recv(fd.get(), buf.data(), buf.size(), 0);
    if (n <= 0) break;
    response.append(buf.data(), static_cast<std::size_t>(n));
    if (response.find("\r\n") != std::string::npos) break;
  }
  if (!response.starts_with("HTTP/1.1 200")) {
    throw std::runtime_error("nginx did not answer within 10 s (got \"" + response + "\")" +
                             logTail(nginx.log_file));
  }
}

// ---- dnsmasq ------------------------------------------------------------------------------------

NetFixture::Child NetFixture::spawnDnsmasq(bool primary, uint16_t port) {
  const std::string dnsmasq = findExecutable("dnsmasq");
  if (dnsmasq.empty()) throw std::runtime_error("dnsmasq not found");
  const std::string name = primary ? "dnsmasq-primary" : "dnsmasq-secondary";
  const std::string log_file = dir_ + "/" + name + ".log";
  std::vector<std::string> argv = {
      dnsmasq,
      "--keep-in-foreground",
      "--conf-file=/dev/null",
      "--no-resolv",
      "--no-hosts",
      "--no-poll",
      "--bind-interfaces",
      "--listen-address=127.0.0.1",
      "--port=" + std::to_string(port),
      "--pid-file=" + dir_ + "/" + name + ".pid",
      "--log-facility=" + log_file,
      "--log-queries",
      "--local=/test/",
      "--host-record=good.test,127.0.0.1",
      "--host-record=proxy.test,127.0.0.1",
      "--host-record=v6.test,::1",
      std::string("--host-record=split.test,") + (primary ? "127.0.0.1" : "127.0.0.2"),
      "--cname=alias.test,good.test",
      std::string("--local-ttl=") + (primary ? "60" : "30"),
  };
  if (primary) {
    argv.push_back("--server=/servfail.test/127.0.0.1#" + std::to_string(servfail_port_));
  }
  if (::geteuid() == 0) argv.emplace_back("--user=root");
  const pid_t pid = spawn(log_file, argv, {}, {});
  watch(pid);
  children_.push_back(Child{name, pid, log_file});
  return children_.back();
}

void NetFixture::startDnsmasq() {
  // Both start concurrently; one that lost the race for its port (it exits with EADDRINUSE) is
  // restarted on a fresh port.
  dns_primary_port_ = freeUdpTcpPort();
  do {
    dns_secondary_port_ = freeUdpTcpPort();
  } while (dns_secondary_port_ == dns_primary_port_);
  std::array<Child, 2> pending = {spawnDnsmasq(true, dns_primary_port_),
                                  spawnDnsmasq(false, dns_secondary_port_)};
  for (const bool primary : {true, false}) {
    uint16_t& port = primary ? dns_primary_port_ : dns_secondary_port_;
    Child child = pending[primary ? 0 : 1];
    for (int attempt = 1; !waitForDns(child, port); ++attempt) {
      std::erase_if(children_, [&child](const Child& c) { return c.pid == child.pid; });
      if (attempt == kDnsmasqAttempts) {
        throw std::runtime_error(child.name + " failed to start" + logTail(child.log_file));
      }
      port = freeUdpTcpPort();
      child = spawnDnsmasq(primary, port);
    }
  }
}

// True once dnsmasq answers; false if it exited (already reaped); throws on timeout.
bool NetFixture::waitForDns(const Child& dnsmasq, uint16_t port) {
  const auto deadline = SteadyClock::now() + kStartupTimeout;
  const std::string server = "127.0.0.1:" + std::to_string(port);
  while (SteadyClock::now() < deadline) {
    if (reaped(dnsmasq.pid)) return false;
    if (queryDns(server, "good.test", kTypeA, kDnsProbeTimeout).has_value()) return true;
    std::this_thread::sleep_for(kPollInterval);  // e.g. ECONNREFUSED: not bound yet
  }
  throw std::runtime_error(dnsmasq.name + " did not answer within 10 s" +
                           logTail(dnsmasq.log_file));
}

void NetFixture::startServfailResponder() {
  UniqueFd fd = bindLoopback(SOCK_DGRAM, 0);
  if (fd.get() < 0) throwErrno("bind udp 127.0.0.1:0");
  servfail_port_ = boundPort(fd.get());
  servfail_fd_ = fd.release();
  if (::pipe2(wake_pipe_.data(), O_CLOEXEC) != 0) throwErrno("pipe2");
  servfail_thread_ = std::thread([this] { servfailLoop(); });
}

// Answers every query with its own question, QR=1, RA=1, RCODE=SERVFAIL.
void NetFixture::servfailLoop() const {
  std::array<pollfd, 2> pfds = {pollfd{servfail_fd_, POLLIN, 0}, pollfd{wake_pipe_[0], POLLIN, 0}};
  std::array<unsigned char, 4096> buf{};
  for (;;) {
    if (::poll(pfds.data(), pfds.size(), -1) < 0) {
      if (errno == EINTR) continue;
      return;
    }
    if (pfds[1].revents != 0) return;
    if ((pfds[0].revents & POLLIN) == 0) continue;
    sockaddr_storage from{};
    socklen_t from_len = sizeof(from);
    const ssize_t n = ::recvfrom(servfail_fd_, buf.data(), buf.size(), 0,
                                 reinterpret_cast<sockaddr*>(&from), &from_len);
    if (n < 12) continue;
    buf[2] = static_cast<unsigned char>((buf[2] | 0x80) & ~0x04);  // QR=1, AA=0
    buf[3] = static_cast<unsigned char>(0x80 | 2);                 // RA=1, RCODE=SERVFAIL
    for (std::size_t i = 6; i < 10; ++i) buf[i] = 0;               // no answers/authority
    ::sendto(servfail_fd_, buf.data(), static_cast<std::size_t>(n), 0,
             reinterpret_cast<const sockaddr*>(&from), from_len);
  }
}

std::optional<DnsReply> NetFixture::queryDns(const std::string& server, const std::string& name,
                                             uint16_t qtype, std::chrono::milliseconds timeout) {
  sockaddr_in addr{};
  if (!parseHostPort(server, addr)) throw std::invalid_argument("bad DNS server: " + server);
  static thread_local auto next_id = static_cast<uint16_t>(::getpid() * 7919);
  const uint16_t id = ++next_id;

  std::string query;
  putU16(query, id);
  putU16(query, 0x0100);  // RD
  putU16(query, 1);
  putU16(query, 0);
  putU16(query, 0);
  putU16(query, 0);
  std::istringstream labels(name);
  for (std::string label; std::getline(labels, label, '.');) {
    if (label.empty() || label.size() > 63) throw std::invalid_argument("bad DNS name: " + name);
    query += static_cast<char>(label.size());
    query += label;
  }
  query += '\0';
  putU16(query, qtype);
  putU16(query, 1);  // IN

  UniqueFd fd(::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
  if (fd.get() < 0) throwErrno("socket");
  if (::connect(fd.get(), reinterpret_cast<const sockaddr*>(&addr), sizeof(addr)) != 0) {
    throwErrno("connect " + server);
  }
  if (::send(fd.get(), query.data(), query.size(), 0) < 0) return std::nullopt;

  const auto deadline = SteadyClock::now() + timeout;
  std::array<unsigned char, 4096> buf{};
  for (;;) {
    const auto left =
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline - SteadyClock::now());
    if (left.count() <= 0) return std::nullopt;
    pollfd pfd{fd.get(), POLLIN, 0};
    if (::poll(&pfd, 1, static_cast<int>(left.count())) <= 0) continue;
    const ssize_t got = ::recv(fd.get(), buf.data(), buf.size(), 0);
    if (got < 0) {
      if (errno == ECONNREFUSED) return std::nullopt;  // ICMP port unreachable: not up yet
      continue;
    }
    const auto size = static_cast<std::size_t>(got);
    if (size < 12 || getU16(buf.data()) != id || (buf[2] & 0x80) == 0) continue;

    DnsReply reply;
    reply.rcode = buf[3] & 0x0f;
    reply.authoritative = (buf[2] & 0x04) != 0;
    const uint16_t qdcount = getU16(buf.data() + 4);
    reply.answer_count = getU16(buf.data() + 6);
    std::size_t pos = 12;
    for (uint16_t i = 0; i < qdcount; ++i) {
      if (!skipName(buf.data(), size, pos) || pos + 4 > size) return std::nullopt;
      pos += 4;
    }
    for (uint16_t i = 0; i < reply.answer_count; ++i) {
      if (!skipName(buf.data(), size, pos) || pos + 10 > size) return std::nullopt;
      const uint16_t type = getU16(buf.data() + pos);
      const uint16_t rdlength = getU16(buf.data() + pos + 8);
      pos += 10;
      if (pos + rdlength > size) return std::nullopt;
      std::array<char, INET6_ADDRSTRLEN> text{};
      if (type == kTypeA && rdlength == 4) {
        ::inet_ntop(AF_INET, buf.data() + pos, text.data(), text.size());
        reply.addresses.emplace_back(text.data());
      } else if (type == kTypeAaaa && rdlength == 16) {
        ::inet_ntop(AF_INET6, buf.data() + pos, text.data(), text.size());
        reply.addresses.emplace_back(text.data());
      }
      pos += rdlength;
    }
    return reply;
  }
}

// ---- extension points ---------------------------------------------------------------------------

std::size_t NetFixture::addNginxServer(ExtraNginxServer server) {
  if (started_) throw std::logic_error("NetFixture::addNginxServer() after start()");
  extra_servers_.push_back(std::move(server));
  return extra_servers_.size() - 1;
}

uint16_t NetFixture::extraNginxPort(std::size_t index) const {
  if (index >= extra_ports_.size()) throw std::out_of_range("no such extra nginx server");
  return extra_ports_[index];
}

pid_t NetFixture::startChild(const std::string& name, const std::string& log_file,
                             const std::vector<std::string>& argv,
                             const std::vector<int>& inherit_fds) {
  if (!started_) throw std::logic_error("NetFixture::startChild() before start()");
  if (argv.empty()) throw std::invalid_argument("NetFixture::startChild(): empty argv");
  const pid_t pid = spawn(log_file, argv, {}, inherit_fds);
  watch(pid);
  children_.push_back(Child{name, pid, log_file});
  return pid;
}

void NetFixture::stopChild(pid_t pid) noexcept {
  const auto it = std::find_if(children_.begin(), children_.end(),
                               [pid](const Child& c) { return c.pid == pid; });
  if (it == children_.end()) return;
  if (!reaped(pid)) {
    signalGroup(pid, SIGTERM);
    if (!waitUntilReaped(pid, SteadyClock::now() + kStopGrace)) {
      signalGroup(pid, SIGKILL);
      int status = 0;
      ::waitpid(pid, &status, 0);
    }
  }
  children_.erase(it);
}

bool NetFixture::childExited(pid_t pid) {
  const auto it = std::find_if(children_.begin(), children_.end(),
                               [pid](const Child& c) { return c.pid == pid; });
  if (it == children_.end()) return true;
  if (!reaped(pid)) return false;
  children_.erase(it);
  return true;
}

}  // namespace gomodprobe::testing
