#include "integration/go_fixture.h"

#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <csignal>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <sstream>
#include <stdexcept>
#include <system_error>
#include <thread>
#include <utility>

extern char** environ;  // NOLINT(readability-redundant-declaration): not declared in strict mode

namespace gomodprobe::testing {
namespace {

using SteadyClock = std::chrono::steady_clock;
namespace fs = std::filesystem;

// Tree building takes ~0.2 s and the helper is up in a few ms; the bounds only matter on a
// heavily loaded machine.
constexpr auto kTreeTimeout = std::chrono::seconds(30);
constexpr auto kSumdbStartTimeout = std::chrono::seconds(10);
constexpr auto kPollInterval = std::chrono::milliseconds(5);
constexpr std::string_view kListeningPrefix = "listening on 127.0.0.1:";
constexpr std::string_view kCorpusDir = "/src/cmd/go/testdata/mod";

[[noreturn]] void throwErrno(const std::string& what) {
  throw std::runtime_error(what + ": " + std::system_category().message(errno));
}

std::string trim(const std::string& text) {
  const auto begin = text.find_first_not_of(" \t\r\n");
  if (begin == std::string::npos) return {};
  const auto end = text.find_last_not_of(" \t\r\n");
  return text.substr(begin, end - begin + 1);
}

std::vector<std::string> readLines(const std::string& path) {
  std::vector<std::string> lines;
  std::istringstream in(readFile(path));
  for (std::string line; std::getline(in, line);) {
    if (!line.empty()) lines.push_back(line);
  }
  return lines;
}

std::string join(const std::vector<std::string>& items, std::string_view separator) {
  std::string out;
  for (const std::string& item : items) {
    if (!out.empty()) out += separator;
    out += item;
  }
  return out;
}

// Owns argv/envp storage for execve.
struct ExecArgs {
  std::vector<std::string> args;
  std::vector<std::string> env;
  std::vector<char*> argp;
  std::vector<char*> envp;

  ExecArgs(std::vector<std::string> a, std::vector<std::string> e)
      : args(std::move(a)), env(std::move(e)) {
    for (std::string& s : args) argp.push_back(s.data());
    argp.push_back(nullptr);
    for (std::string& s : env) envp.push_back(s.data());
    envp.push_back(nullptr);
  }
};

std::vector<std::string> currentEnvironment() {
  std::vector<std::string> env;
  for (char** e = environ; e != nullptr && *e != nullptr; ++e) env.emplace_back(*e);
  return env;
}

// fork + execve in a new process group with PR_SET_PDEATHSIG; stdin from /dev/null, stdout and
// stderr onto the given descriptors. Only async-signal-safe calls after fork().
pid_t spawnProcess(const ExecArgs& exec, const std::string& cwd, int out_fd, int err_fd) {
  const int devnull = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
  if (devnull < 0) throwErrno("open /dev/null");
  const std::string exec_failed = "exec " + exec.args.front() + " failed\n";
  const pid_t parent = ::getpid();
  const pid_t pid = ::fork();
  if (pid < 0) {
    ::close(devnull);
    throwErrno("fork");
  }
  if (pid == 0) {
    ::setpgid(0, 0);
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (::getppid() != parent) ::_exit(127);
    ::dup2(devnull, STDIN_FILENO);
    ::dup2(out_fd, STDOUT_FILENO);
    ::dup2(err_fd, STDERR_FILENO);
    if (!cwd.empty() && ::chdir(cwd.c_str()) != 0) ::_exit(127);
    sigset_t none;
    ::sigemptyset(&none);
    ::sigprocmask(SIG_SETMASK, &none, nullptr);  // NOLINT(concurrency-mt-unsafe): single thread
    ::signal(SIGPIPE, SIG_DFL);
    ::execve(exec.argp[0], exec.argp.data(), exec.envp.data());
    [[maybe_unused]] const ssize_t n =
        ::write(STDERR_FILENO, exec_failed.data(), exec_failed.size());
    ::_exit(127);
  }
  ::close(devnull);
  ::setpgid(pid, pid);  // may race with the child's own call; either one suffices
  return pid;
}

// Waits for pid until the deadline, then SIGKILLs its group; returns the wait status or -1 if
// it had to be killed.
int waitOrKill(pid_t pid, SteadyClock::time_point deadline) {
  int status = 0;
  for (;;) {
    const pid_t r = ::waitpid(pid, &status, WNOHANG);
    if (r == pid) return status;
    if (r < 0 && errno != EINTR) return -1;
    if (SteadyClock::now() >= deadline) break;
    std::this_thread::sleep_for(kPollInterval);
  }
  if (::kill(-pid, SIGKILL) != 0) ::kill(pid, SIGKILL);
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  return -1;
}

// A process writing to a log file (the tree builds); killed and reaped if still running when
// destroyed (e.g. NetFixture::start() threw meanwhile).
class LoggedProcess {
 public:
  LoggedProcess(std::string name, const std::vector<std::string>& argv, std::string log_file)
      : name_(std::move(name)), log_file_(std::move(log_file)) {
    const int log = ::open(log_file_.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (log < 0) throwErrno("open " + log_file_);
    const ExecArgs exec(argv, currentEnvironment());
    try {
      pid_ = spawnProcess(exec, "", log, log);
    } catch (...) {
      ::close(log);
      throw;
    }
    ::close(log);
  }
  ~LoggedProcess() {
    if (pid_ > 0) waitOrKill(pid_, SteadyClock::now());
  }
  LoggedProcess(const LoggedProcess&) = delete;
  LoggedProcess& operator=(const LoggedProcess&) = delete;
  LoggedProcess(LoggedProcess&&) = delete;
  LoggedProcess& operator=(LoggedProcess&&) = delete;

  // Throws with the log unless the process exits with status 0 before the deadline.
  void finish(SteadyClock::time_point deadline) {
    const int status = waitOrKill(std::exchange(pid_, -1), deadline);
    if (status < 0) {
      throw std::runtime_error("GoModFixture: " + name_ + " timed out" + logTail(log_file_));
    }
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
      throw std::runtime_error("GoModFixture: " + name_ + " failed (wait status " +
                               std::to_string(status) + ")" + logTail(log_file_));
    }
  }

 private:
  std::string name_;
  std::string log_file_;
  pid_t pid_ = -1;
};

// Runs a command with stdout and stderr captured (both, interleaved, and stdout alone).
GoRunResult runCaptured(const std::vector<std::string>& argv, const std::vector<std::string>& env,
                        const std::string& cwd, std::chrono::seconds timeout) {
  std::array<int, 2> out_pipe = {-1, -1};
  std::array<int, 2> err_pipe = {-1, -1};
  if (::pipe2(out_pipe.data(), O_CLOEXEC) != 0) throwErrno("pipe2");
  if (::pipe2(err_pipe.data(), O_CLOEXEC) != 0) {
    ::close(out_pipe[0]);
    ::close(out_pipe[1]);
    throwErrno("pipe2");
  }
  const ExecArgs exec(argv, env);
  pid_t pid = -1;
  try {
    pid = spawnProcess(exec, cwd, out_pipe[1], err_pipe[1]);
  } catch (...) {
    for (const int fd : {out_pipe[0], out_pipe[1], err_pipe[0], err_pipe[1]}) ::close(fd);
    throw;
  }
  ::close(out_pipe[1]);
  ::close(err_pipe[1]);

  GoRunResult result;
  const auto deadline = SteadyClock::now() + timeout;
  std::array<pollfd, 2> pfds = {pollfd{out_pipe[0], POLLIN, 0}, pollfd{err_pipe[0], POLLIN, 0}};
  int open_pipes = 2;
  std::array<char, 8192> buf{};
  while (open_pipes > 0) {
    const auto left =
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline - SteadyClock::now());
    if (left.count() <= 0) {
      result.timed_out = true;
      break;
    }
    const int ready = ::poll(pfds.data(), pfds.size(), static_cast<int>(left.count()));
    if (ready < 0 && errno != EINTR) break;
    for (std::size_t i = 0; i < pfds.size(); ++i) {
      if (pfds[i].fd < 0 || pfds[i].revents == 0) continue;
      const ssize_t n = ::read(pfds[i].fd, buf.data(), buf.size());
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) {
        ::close(pfds[i].fd);
        pfds[i].fd = -1;
        --open_pipes;
        continue;
      }
      result.output.append(buf.data(), static_cast<std::size_t>(n));
      if (i == 0) result.stdout_text.append(buf.data(), static_cast<std::size_t>(n));
    }
  }
  for (const pollfd& pfd : pfds) {
    if (pfd.fd >= 0) ::close(pfd.fd);
  }
  // Pipes closed: the command has exited or is about to (or timed out: killed right away).
  const int status = waitOrKill(
      pid, result.timed_out ? SteadyClock::now() : SteadyClock::now() + std::chrono::seconds(5));
  if (status >= 0 && WIFEXITED(status)) result.exit_code = WEXITSTATUS(status);
  if (result.timed_out) {
    result.output += "\n[GoModFixture: killed after " + std::to_string(timeout.count()) + " s]\n";
  }
  return result;
}

// The string members of a flat JSON object (as printed by `go mod download -json`); other
// members are skipped. Malformed input yields what was parsed so far.
class FlatJson {
 public:
  explicit FlatJson(std::string_view text) : text_(text) {}

  std::map<std::string, std::string> parse() {
    std::map<std::string, std::string> out;
    skipSpace();
    if (!consume('{')) return out;
    for (;;) {
      skipSpace();
      if (consume('}')) return out;
      std::string key;
      if (!parseString(key)) return out;
      skipSpace();
      if (!consume(':')) return out;
      skipSpace();
      if (pos_ < text_.size() && text_[pos_] == '"') {
        std::string value;
        if (!parseString(value)) return out;
        out[key] = value;
      } else if (!skipValue()) {
        return out;
      }
      skipSpace();
      consume(',');
    }
  }

 private:
  void skipSpace() {
    while (pos_ < text_.size() && std::string_view(" \t\r\n").find(text_[pos_]) != kNpos) ++pos_;
  }
  bool consume(char c) {
    if (pos_ < text_.size() && text_[pos_] == c) {
      ++pos_;
      return true;
    }
    return false;
  }
  static void appendUtf8(std::string& out, unsigned cp) {
    if (cp < 0x80) {
      out += static_cast<char>(cp);
    } else if (cp < 0x800) {
      out += static_cast<char>(0xc0 | (cp >> 6));
      out += static_cast<char>(0x80 | (cp & 0x3f));
    } else if (cp < 0x10000) {
      out += static_cast<char>(0xe0 | (cp >> 12));
      out += static_cast<char>(0x80 | ((cp >> 6) & 0x3f));
      out += static_cast<char>(0x80 | (cp & 0x3f));
    } else {
      out += static_cast<char>(0xf0 | (cp >> 18));
      out += static_cast<char>(0x80 | ((cp >> 12) & 0x3f));
      out += static_cast<char>(0x80 | ((cp >> 6) & 0x3f));
      out += static_cast<char>(0x80 | (cp & 0x3f));
    }
  }
  bool parseHex4(unsigned& cp) {
    if (pos_ + 4 > text_.size()) return false;
    cp = 0;
    for (int i = 0; i < 4; ++i) {
      const char c = text_[pos_++];
      cp <<= 4;
      if (c >= '0' && c <= '9') {
        cp |= static_cast<unsigned>(c - '0');
      } else if (c >= 'a' && c <= 'f') {
        cp |= static_cast<unsigned>(c - 'a' + 10);
      } else if (c >= 'A' && c <= 'F') {
        cp |= static_cast<unsigned>(c - 'A' + 10);
      } else {
        return false;
      }
    }
    return true;
  }
  bool parseString(std::string& out) {
    if (!consume('"')) return false;
    while (pos_ < text_.size()) {
      const char c = text_[pos_++];
      if (c == '"') return true;
      if (c != '\\') {
        out += c;
        continue;
      }
      if (pos_ >= text_.size()) return false;
      const char e = text_[pos_++];
      switch (e) {
        case 'b':
          out += '\b';
          break;
        case 'f':
          out += '\f';
          break;
        case 'n':
          out += '\n';
          break;
        case 'r':
          out += '\r';
          break;
        case 't':
          out += '\t';
          break;
        case 'u': {
          unsigned cp = 0;
          if (!parseHex4(cp)) return false;
          if (cp >= 0xd800 && cp < 0xdc00 && text_.substr(pos_, 2) == "\\u") {
            pos_ += 2;
            unsigned low = 0;
            if (!parseHex4(low)) return false;
            cp = 0x10000 + ((cp - 0xd800) << 10) + (low - 0xdc00);
          }
          appendUtf8(out, cp);
          break;
        }
        default:
          out += e;
          break;  // '"', '\\', '/'
      }
    }
    return false;
  }
  // Skips a number, literal, array or object (strings inside included).
  bool skipValue() {
    int depth = 0;
    while (pos_ < text_.size()) {
      const char c = text_[pos_];
      if (c == '"') {
        std::string ignored;
        if (!parseString(ignored)) return false;
        continue;
      }
      if (c == '{' || c == '[') ++depth;
      if (c == '}' || c == ']') {
        if (depth == 0) return true;
        --depth;
      }
      if (c == ',' && depth == 0) return true;
      ++pos_;
    }
    return false;
  }

  static constexpr auto kNpos = std::string_view::npos;
  std::string_view text_;
  std::size_t pos_ = 0;
};

}  // namespace

GoRunResult runCommand(const std::vector<std::string>& argv, const std::vector<std::string>& env,
                       const std::string& cwd, std::chrono::seconds timeout) {
  return runCaptured(argv, env, cwd, timeout);
}

// ---- lifecycle ----------------------------------------------------------------------------------

GoModFixture::GoModFixture() = default;

GoModFixture::~GoModFixture() {
  if (sumdb_pid_ > 0) net_.stopChild(sumdb_pid_);
  if (sumdb_fd_ >= 0) ::close(sumdb_fd_);
  // net_ (a member, destroyed after this body) stops nginx and dnsmasq and removes dir().
}

std::string GoModFixture::helperBinary() {
#ifdef GOMODFIXTURE_BINARY
  std::string path = GOMODFIXTURE_BINARY;
#else
  std::string path;
#endif
  if (const char* env = std::getenv("GOMODFIXTURE_BINARY")) {  // NOLINT(concurrency-mt-unsafe)
    path = env;
  }
  return path;
}

std::string GoModFixture::goBinary() {
  std::string go = NetFixture::findExecutable("go");
  for (const char* candidate : {"/usr/lib/go/bin/go", "/usr/local/go/bin/go"}) {
    if (go.empty()) go = NetFixture::findExecutable(candidate);
  }
  return go;
}

void GoModFixture::start() {
  if (started_) throw std::logic_error("GoModFixture::start() called twice");
  started_ = true;

  helper_ = helperBinary();
  if (helper_.empty() || ::access(helper_.c_str(), X_OK) != 0) {
    throw std::runtime_error("gomodfixture helper not found (GOMODFIXTURE_BINARY=\"" + helper_ +
                             "\"); build the gomodfixture target");
  }
  go_ = goBinary();
  if (go_.empty()) throw std::runtime_error("go command not found");
  const std::string goroot = trim(runCaptured({go_, "env", "GOROOT"},
                                              {"PATH=/usr/local/bin:/usr/bin:/bin", "GOENV=off",
                                               "HOME=" + dir(), "GOCACHE=off"},
                                              "", std::chrono::seconds(30))
                                      .stdout_text);
  const std::string corpus = goroot + std::string(kCorpusDir);
  if (goroot.empty() || !fs::is_directory(corpus)) {
    throw std::runtime_error("Go module corpus not found at \"" + corpus + "\"");
  }

  // The trees build while NetFixture starts (certificates, nginx, dnsmasq).
  auto tree = [&](ProxyVariant variant, const std::string& name,
                  std::vector<std::string> extra) -> std::unique_ptr<LoggedProcess> {
    std::vector<std::string> argv = {helper_, "tree", "-src", corpus, "-out", treeDir(variant)};
    argv.insert(argv.end(), extra.begin(), extra.end());
    return std::make_unique<LoggedProcess>("tree " + name, argv, dir() + "/tree-" + name + ".log");
  };
  const std::string tampered(kTamperedModule);
  std::vector<std::unique_ptr<LoggedProcess>> builds;
  builds.push_back(tree(ProxyVariant::kGood, "good", {}));
  builds.push_back(tree(ProxyVariant::kTamperedZip, "tampered-zip",
                        {"-only", tampered, "-tamper-zip", tampered}));
  builds.push_back(tree(ProxyVariant::kTamperedMod, "tampered-mod",
                        {"-only", tampered, "-tamper-mod", tampered}));
  builds.push_back(
      std::make_unique<LoggedProcess>("key",
                                      std::vector<std::string>{helper_, "key", "-name", sumdbName(),
                                                               "-seed", std::to_string(kOtherSeed)},
                                      dir() + "/wrong-key.txt"));

  // The helper's listening socket: bound once, so nginx's proxy_pass target never changes.
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) throwErrno("socket");
  sumdb_fd_ = fd > 2 ? fd : ::fcntl(fd, F_DUPFD_CLOEXEC, 3);
  if (sumdb_fd_ != fd) ::close(fd);
  if (sumdb_fd_ < 0) throwErrno("fcntl(F_DUPFD_CLOEXEC)");
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::bind(sumdb_fd_, reinterpret_cast<const sockaddr*>(&addr), sizeof(addr)) != 0) {
    throwErrno("bind 127.0.0.1:0");
  }
  if (::listen(sumdb_fd_, SOMAXCONN) != 0) throwErrno("listen");
  socklen_t len = sizeof(addr);
  if (::getsockname(sumdb_fd_, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
    throwErrno("getsockname");
  }
  sumdb_port_ = ntohs(addr.sin_port);

  // Every tree prefix proxies the one checksum database, like a (possibly malicious) real
  // proxy that passes /sumdb/ through: the go command verifies what it gets against it. The
  // tampered trees are overlays (just the tampered module) in front of the good tree. "^~" keeps
  // the regex locations of the overlays away from the sumdb paths.
  std::string d;
  const std::string upstream = "http://127.0.0.1:" + std::to_string(sumdb_port_) + "/";
  for (const ProxyVariant variant :
       {ProxyVariant::kGood, ProxyVariant::kTamperedZip, ProxyVariant::kTamperedMod}) {
    const std::string prefix = proxyPath(variant) + "/";
    const std::string sumdb = prefix + "sumdb/" + sumdbName() + "/";
    d += "    location = " + sumdb + "supported { return 200; }\n";
    d += "    location ^~ " + sumdb + " {\n      proxy_pass ";
    d += upstream + ";\n";
    d += "      proxy_read_timeout 30s;\n    }\n";
    d += "    location ^~ " + prefix + "sumdb/ { return 404; }\n";
    if (variant == ProxyVariant::kGood) {
      d += "    location " + prefix + " { alias " + treeDir(variant) + "/; }\n";
    } else {
      d += "    location ~ ^" + prefix + "(.*)$ {\n      root " + dir() + ";\n";
      d += "      try_files /" + fs::path(treeDir(variant)).filename().string() + "/$1 /" +
           fs::path(treeDir(ProxyVariant::kGood)).filename().string() + "/$1 =404;\n    }\n";
    }
  }
  d += "    location " + proxyPath(ProxyVariant::k502) + "/ { return 502; }\n";
  d += "    location " + proxyPath(ProxyVariant::k404) + "/ { return 404; }\n";
  d += "    location / { return 404; }";
  nginx_index_ = net_.addNginxServer({.tls = true, .http2 = true, .directives = d});

  net_.start();

  const auto deadline = SteadyClock::now() + kTreeTimeout;
  for (const auto& build : builds) build->finish(deadline);
  builds.clear();
  wrong_key_ = trim(readFile(dir() + "/wrong-key.txt"));
  loadTree();
  startSumdb(kDefaultSeed, {});
}

void GoModFixture::loadTree() {
  gosum_lines_ = readLines(treeDir(ProxyVariant::kGood) + "/gosum.txt");
  modules_ = readLines(treeDir(ProxyVariant::kGood) + "/modules.txt");
  if (gosum_lines_.empty() || modules_.empty()) {
    throw std::runtime_error("GoModFixture: the good tree is empty" +
                             logTail(dir() + "/tree-good.log"));
  }
}

void GoModFixture::startSumdb(uint64_t seed, const std::vector<std::string>& preload) {
  sumdb_log_ = dir() + "/sumdb-" + std::to_string(++sumdb_instance_) + ".log";
  const std::string key_file = dir() + "/sumdb-key.txt";
  std::error_code ec;
  fs::remove(key_file, ec);
  const std::vector<std::string> argv = {
      helper_,      "sumdb",
      "-name",      sumdbName(),
      "-gosum",     treeDir(ProxyVariant::kGood) + "/gosum.txt",
      "-listen-fd", std::to_string(sumdb_fd_),
      "-key-out",   key_file,
      "-seed",      std::to_string(seed),
      "-preload",   join(preload, ","),
  };
  sumdb_pid_ = net_.startChild("sumdb", sumdb_log_, argv, {sumdb_fd_});

  // Wait for the "listening on" line (the key file is written before it).
  const auto deadline = SteadyClock::now() + kSumdbStartTimeout;
  for (;;) {
    const std::string log = readFile(sumdb_log_);
    if (log.starts_with(kListeningPrefix) ||
        log.find("\n" + std::string(kListeningPrefix)) != std::string::npos) {
      break;
    }
    if (net_.childExited(sumdb_pid_)) {
      sumdb_pid_ = -1;
      throw std::runtime_error("GoModFixture: the sumdb helper exited" + logTail(sumdb_log_));
    }
    if (SteadyClock::now() >= deadline) {
      throw std::runtime_error("GoModFixture: the sumdb helper did not start within 10 s" +
                               logTail(sumdb_log_));
    }
    std::this_thread::sleep_for(kPollInterval);
  }
  sumdb_key_ = trim(readFile(key_file));
}

void GoModFixture::restartSumdb(uint64_t seed, const std::vector<std::string>& preload) {
  if (!started_) throw std::logic_error("GoModFixture::restartSumdb() before start()");
  if (sumdb_pid_ > 0) net_.stopChild(sumdb_pid_);
  sumdb_pid_ = -1;
  startSumdb(seed, preload);
}

// ---- accessors ----------------------------------------------------------------------------------

uint16_t GoModFixture::port() const { return net_.extraNginxPort(nginx_index_); }

std::string GoModFixture::proxyPath(ProxyVariant variant) {
  switch (variant) {
    case ProxyVariant::kGood:
      return "/goproxy";
    case ProxyVariant::kTamperedZip:
      return "/tampered-zip";
    case ProxyVariant::kTamperedMod:
      return "/tampered-mod";
    case ProxyVariant::k502:
      return "/p502";
    case ProxyVariant::k404:
      return "/p404";
  }
  throw std::invalid_argument("bad ProxyVariant");
}

std::string GoModFixture::proxyUrl(ProxyVariant variant) const {
  return "https://127.0.0.1:" + std::to_string(port()) + proxyPath(variant);
}

std::string GoModFixture::treeDir(ProxyVariant variant) const {
  switch (variant) {
    case ProxyVariant::kGood:
      return dir() + "/tree-good";
    case ProxyVariant::kTamperedZip:
      return dir() + "/tree-tampered-zip";
    case ProxyVariant::kTamperedMod:
      return dir() + "/tree-tampered-mod";
    case ProxyVariant::k502:
    case ProxyVariant::k404:
      break;
  }
  throw std::invalid_argument("ProxyVariant without a tree");
}

std::string GoModFixture::sumdbDirectUrl() const {
  return "http://127.0.0.1:" + std::to_string(sumdb_port_);
}

std::string GoModFixture::sumdbProxyUrl() const {
  return proxyUrl(ProxyVariant::kGood) + "/sumdb/" + sumdbName();
}

std::string GoModFixture::gosumdb(const std::string& url) const {
  return url.empty() ? sumdb_key_ : sumdb_key_ + " " + url;
}

std::string GoModFixture::gosumHash(std::string_view module_at_version, bool go_mod) const {
  const auto at = module_at_version.rfind('@');
  if (at == std::string_view::npos) return {};
  std::string prefix(module_at_version.substr(0, at));
  prefix += ' ';
  prefix += module_at_version.substr(at + 1);
  prefix += go_mod ? "/go.mod " : " ";
  for (const std::string& line : gosum_lines_) {
    if (line.starts_with(prefix)) return line.substr(prefix.size());
  }
  return {};
}

// ---- the go command -----------------------------------------------------------------------------

GoRunResult GoModFixture::runGo(const std::vector<std::string>& args,
                                const std::vector<std::string>& env,
                                const GoRunOptions& options) const {
  if (!started_) throw std::logic_error("GoModFixture::runGo() before start()");
  const int run = ++run_counter_;
  const std::string run_dir = dir() + "/go/run-" + std::to_string(run);
  const std::string state_dir =
      options.state.empty() ? run_dir : dir() + "/go/state-" + options.state;
  const std::string workdir = options.workdir.empty() ? run_dir + "/work" : options.workdir;
  for (const std::string& sub : {state_dir + "/home", state_dir + "/gopath", workdir}) {
    fs::create_directories(sub);
  }

  std::map<std::string, std::string> vars;
  const char* path = std::getenv("PATH");  // NOLINT(concurrency-mt-unsafe)
  vars["PATH"] = path != nullptr ? path : "/usr/local/bin:/usr/bin:/bin";
  vars["HOME"] = state_dir + "/home";
  vars["GOPATH"] = state_dir + "/gopath";
  vars["GOMODCACHE"] = state_dir + "/gopath/pkg/mod";
  vars["GOCACHE"] = state_dir + "/gocache";
  vars["GOFLAGS"] = "-modcacherw";
  vars["GO111MODULE"] = "on";
  vars["GOENV"] = "off";
  vars["GOTOOLCHAIN"] = "local";
  vars["SSL_CERT_FILE"] = net_.caFile();
  vars["GOPROXY"] = "off";
  vars["GOSUMDB"] = "off";
  for (const std::string& entry : env) {
    const auto eq = entry.find('=');
    if (eq == std::string::npos) {
      vars.erase(entry);
    } else {
      vars[entry.substr(0, eq)] = entry.substr(eq + 1);
    }
  }
  std::vector<std::string> envp;
  envp.reserve(vars.size());
  for (const auto& [key, value] : vars) envp.emplace_back(key + "=").append(value);
  std::vector<std::string> argv = {go_};
  argv.insert(argv.end(), args.begin(), args.end());
  return runCaptured(argv, envp, workdir, options.timeout);
}

GoModDownload GoModFixture::goModDownloadJson(const std::string& module_at_version,
                                              const std::string& goproxy,
                                              const std::string& gosumdb,
                                              const GoRunOptions& options) const {
  const GoRunResult run = runGo({"mod", "download", "-json", module_at_version},
                                {"GOPROXY=" + goproxy, "GOSUMDB=" + gosumdb}, options);
  GoModDownload out;
  out.exit_code = run.exit_code;
  out.output = run.output;
  std::map<std::string, std::string> fields = FlatJson(run.stdout_text).parse();
  out.path = fields["Path"];
  out.version = fields["Version"];
  out.error = fields["Error"];
  out.info = fields["Info"];
  out.go_mod = fields["GoMod"];
  out.zip = fields["Zip"];
  out.dir = fields["Dir"];
  out.sum = fields["Sum"];
  out.go_mod_sum = fields["GoModSum"];
  return out;
}

}  // namespace gomodprobe::testing
