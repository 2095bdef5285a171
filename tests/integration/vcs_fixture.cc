#include "integration/vcs_fixture.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <system_error>

namespace gomodprobe::testing {

namespace {

namespace fs = std::filesystem;
using SteadyClock = std::chrono::steady_clock;

constexpr auto kCommandTimeout = std::chrono::seconds(60);
constexpr auto kStartupTimeout = std::chrono::seconds(10);

[[noreturn]] void throwErrno(const std::string& what) {
  throw std::runtime_error(what + ": " + std::system_category().message(errno));
}

// A descriptor closed by the destructor.
class Fd {
 public:
  explicit Fd(int fd) : fd_(fd) {
    if (fd_ < 0) throwErrno("socket");
  }
  ~Fd() {
    if (fd_ >= 0) ::close(fd_);
  }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  [[nodiscard]] int get() const { return fd_; }

 private:
  int fd_;
};

std::string goImportPage(const std::string& module, const std::string& repo) {
  return "<!DOCTYPE html>\n<html><head>\n<meta name=\"go-import\" content=\"" + module + " git " +
         repo + "\">\n</head><body>go get " + module + "</body></html>\n";
}

std::string backend(const std::string& dir, const std::string& socket) {
  return "      fastcgi_pass unix:" + socket +
         ";\n"
         "      fastcgi_param SCRIPT_FILENAME /usr/lib/git-core/git-http-backend;\n"
         "      fastcgi_param GIT_PROJECT_ROOT " +
         dir +
         "/git;\n"
         "      fastcgi_param GIT_HTTP_EXPORT_ALL 1;\n"
         "      fastcgi_param PATH_INFO $1;\n"
         "      fastcgi_param QUERY_STRING $query_string;\n"
         "      fastcgi_param REQUEST_METHOD $request_method;\n"
         "      fastcgi_param CONTENT_TYPE $content_type;\n"
         "      fastcgi_param CONTENT_LENGTH $content_length;\n"
         "      fastcgi_param REMOTE_USER $remote_user;\n"
         "      fastcgi_param REMOTE_ADDR $remote_addr;\n"
         "      fastcgi_param SERVER_PROTOCOL $server_protocol;\n"
         "      fastcgi_param HTTP_GIT_PROTOCOL $http_git_protocol;\n";
}

}  // namespace

VcsFixture::VcsFixture() = default;
VcsFixture::~VcsFixture() = default;  // net_ stops nginx and fcgiwrap, removes the directory

std::string VcsFixture::run(const std::vector<std::string>& argv, const std::string& cwd) const {
  std::vector<std::string> env = {"PATH=/usr/local/bin:/usr/bin:/bin",
                                  "HOME=" + dir(),
                                  "GIT_CONFIG_NOSYSTEM=1",
                                  "GIT_AUTHOR_NAME=gomodprobe",
                                  "GIT_AUTHOR_EMAIL=dev@gomodprobe",
                                  "GIT_COMMITTER_NAME=gomodprobe",
                                  "GIT_COMMITTER_EMAIL=dev@gomodprobe",
                                  "GIT_AUTHOR_DATE=2024-01-01T00:00:00Z",
                                  "GIT_COMMITTER_DATE=2024-01-01T00:00:00Z"};
  const GoRunResult result = runCommand(argv, env, cwd, kCommandTimeout);
  if (result.exit_code != 0) {
    std::string command;
    for (const auto& arg : argv) command += arg + " ";
    throw std::runtime_error("command failed (" + std::to_string(result.exit_code) +
                             "): " + command + "\n" + result.output);
  }
  return result.stdout_text;
}

void VcsFixture::start() {
  net_.start();
  makeRepositories();
  makeCertificate();
  writeSecrets();
  startServers();
  startDns();
  waitForNginx();
  started_ = true;
}

void VcsFixture::makeRepositories() {
  const std::string git = NetFixture::findExecutable("git");
  if (git.empty()) throw std::runtime_error("git not found");
  for (const std::string name : {"repo", "private", "dumb"}) {
    const std::string work = dir() + "/work/" + name;
    const std::string module = std::string(kHost) + "/team/" + name;
    writeFile(work + "/go.mod", "module " + module + "\n\ngo 1.19\n");
    writeFile(work + "/" + name + ".go", "package " + name + "\n\nconst Name = \"" + name + "\"\n");
    run({git, "-c", "init.defaultBranch=main", "init", "-q", work});
    run({git, "-C", work, "add", "."});
    run({git, "-C", work, "commit", "-q", "-m", "initial"});
    run({git, "-C", work, "tag", "v1.0.0"});
    const std::string bare = dir() + "/git/team/" + name;
    fs::create_directories(fs::path(bare).parent_path());
    run({git, "clone", "-q", "--bare", work, bare});
    if (name == "dumb") run({git, "--git-dir=" + bare, "update-server-info"});
  }
}

void VcsFixture::makeCertificate() {
  const std::string openssl = NetFixture::findExecutable("openssl");
  const std::string pki = fs::path(caFile()).parent_path().string();
  const std::string d = dir() + "/vcs-pki";
  fs::create_directories(d);
  writeFile(d + "/ext.cnf", "subjectAltName = DNS:" + std::string(kHost) + ", IP:127.0.0.1\n");
  run({openssl, "req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
       "-subj", "/CN=" + std::string(kHost), "-keyout", d + "/git.key", "-out", d + "/git.csr"});
  run({openssl, "x509", "-req", "-in", d + "/git.csr", "-CA", caFile(), "-CAkey", pki + "/ca.key",
       "-CAcreateserial", "-CAserial", d + "/ca.srl", "-days", "30", "-extfile", d + "/ext.cnf",
       "-out", d + "/git.pem"});
}

void VcsFixture::writeSecrets() {
  const std::string openssl = NetFixture::findExecutable("openssl");
  const std::string hash = run({openssl, "passwd", "-apr1", std::string(kPassword)});
  writeFile(dir() + "/vcs-htpasswd", std::string(kUser) + ":" + hash);
  writeFile(netrcFile(), "machine " + std::string(kHost) + " login " + std::string(kUser) +
                             " password " + std::string(kPassword) + "\n");
  writeFile(passwordFile(), std::string(kPassword) + "\n");
  writeFile(tokenFile(), std::string(kToken) + "\n");
  for (const auto& file : {netrcFile(), passwordFile(), tokenFile()}) {
    fs::permissions(file, fs::perms::owner_read | fs::perms::owner_write);
  }
  const std::string host(kHost);
  const std::string www = dir() + "/vcs-www/team/";
  writeFile(www + "repo", goImportPage(host + "/team/repo", "https://" + host + "/git/team/repo"));
  writeFile(www + "private",
            goImportPage(host + "/team/private", "https://" + host + "/auth/team/private"));
  writeFile(www + "half",
            goImportPage(host + "/team/half", "https://" + host + "/auth/team/private"));
  writeFile(www + "bearer",
            goImportPage(host + "/team/bearer", "https://" + host + "/bearer/team/repo"));
  writeFile(www + "dumb", goImportPage(host + "/team/dumb", "https://" + host + "/dumb/team/dumb"));
  writeFile(www + "missing",
            goImportPage(host + "/team/missing", "https://" + host + "/git/team/missing"));
}

void VcsFixture::startServers() {
  const std::string d = dir();
  // fcgiwrap takes its listening socket as fd 0 (libfcgi's FCGI_LISTENSOCK_FILENO); bash, as
  // dash refuses redirections from descriptors above 9.
  const std::string socket_path = d + "/fcgiwrap.sock";
  Fd unix_fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  sockaddr_un address{};
  address.sun_family = AF_UNIX;
  if (socket_path.size() >= sizeof(address.sun_path)) throw std::runtime_error("socket path long");
  std::copy(socket_path.begin(), socket_path.end(), address.sun_path);
  if (::bind(unix_fd.get(), reinterpret_cast<const sockaddr*>(&address), sizeof(address)) != 0 ||
      ::listen(unix_fd.get(), 64) != 0) {
    throwErrno("bind " + socket_path);
  }
  const std::string fcgiwrap = NetFixture::findExecutable("fcgiwrap");
  if (fcgiwrap.empty()) throw std::runtime_error("fcgiwrap not found (apt-get install fcgiwrap)");
  net_.startChild(
      "fcgiwrap", d + "/vcs-fcgiwrap.log",
      {"/bin/bash", "-c", "exec " + fcgiwrap + " -c 4 0<&" + std::to_string(unix_fd.get())},
      {unix_fd.get()});

  // nginx inherits 127.0.0.1:443 (NGINX="fd;"), so there is no start-up race.
  Fd tcp_fd(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
  const int one = 1;
  ::setsockopt(tcp_fd.get(), SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
  sockaddr_in in{};
  in.sin_family = AF_INET;
  in.sin_port = htons(443);
  in.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::bind(tcp_fd.get(), reinterpret_cast<const sockaddr*>(&in), sizeof(in)) != 0 ||
      ::listen(tcp_fd.get(), SOMAXCONN) != 0) {
    throwErrno("bind 127.0.0.1:443 (call enterTestNamespaces first)");
  }
  for (const char* sub : {"client_body", "proxy", "fastcgi", "uwsgi", "scgi"}) {
    fs::create_directories(d + "/vcs-nginx-temp/" + sub);
  }
  const std::string auth =
      "      auth_basic \"corp\";\n      auth_basic_user_file " + d + "/vcs-htpasswd;\n";
  const std::string bearer =
      "      if ($http_authorization != \"Bearer " + std::string(kToken) + "\") { return 401; }\n";
  std::string conf;
  if (::geteuid() == 0) conf += "user root;\n";
  conf += "daemon off;\nmaster_process on;\nworker_processes 1;\n";
  conf += "pid " + d + "/vcs-nginx.pid;\nerror_log " + nginxErrorLog() + " info;\n";
  conf += "events { worker_connections 256; }\nhttp {\n";
  conf += "  access_log " + d + "/vcs-nginx-access.log;\n";
  for (const char* sub : {"client_body", "proxy", "fastcgi", "uwsgi", "scgi"}) {
    conf += "  " + std::string(sub) + "_temp_path " + d + "/vcs-nginx-temp/" + sub + ";\n";
  }
  conf += "  default_type text/plain;\n  server_tokens off;\n  ssl_protocols TLSv1.2 TLSv1.3;\n";
  conf += "  server {\n    listen 127.0.0.1:443 ssl http2;\n    server_name _;\n";
  conf += "    ssl_certificate " + d + "/vcs-pki/git.pem;\n";
  conf += "    ssl_certificate_key " + d + "/vcs-pki/git.key;\n";
  conf += "    root " + d + "/vcs-www;\n";
  conf += "    location /team/ { default_type text/html; }\n";
  conf += "    location = /team/private {\n      default_type text/html;\n" + auth + "    }\n";
  conf += "    location = /team/bearer {\n      default_type text/html;\n" + bearer + "    }\n";
  conf += "    location ~ ^/git(/.*)$ {\n" + backend(d, socket_path) + "    }\n";
  conf += "    location ~ ^/auth(/.*)$ {\n" + auth + backend(d, socket_path) + "    }\n";
  conf += "    location ~ ^/bearer(/.*)$ {\n" + bearer + backend(d, socket_path) + "    }\n";
  conf += "    location /dumb/ { alias " + d + "/git/; default_type text/plain; }\n";
  conf += "  }\n}\n";
  writeFile(d + "/vcs-nginx.conf", conf);
  const std::string nginx = NetFixture::findExecutable("nginx");
  net_.startChild("vcs-nginx", nginxErrorLog(),
                  {"/usr/bin/env", "NGINX=" + std::to_string(tcp_fd.get()) + ";", nginx, "-p", d,
                   "-c", d + "/vcs-nginx.conf", "-e", nginxErrorLog()},
                  {tcp_fd.get()});
}

void VcsFixture::startDns() {
  // Port 53 of the private network namespace's loopback is free.
  const std::string dnsmasq = NetFixture::findExecutable("dnsmasq");
  if (dnsmasq.empty()) throw std::runtime_error("dnsmasq not found");
  std::vector<std::string> argv = {dnsmasq,
                                   "--keep-in-foreground",
                                   "--conf-file=/dev/null",
                                   "--no-resolv",
                                   "--no-hosts",
                                   "--no-poll",
                                   "--bind-interfaces",
                                   "--listen-address=127.0.0.1",
                                   "--port=53",
                                   "--pid-file=" + dir() + "/vcs-dnsmasq.pid",
                                   "--log-facility=" + dir() + "/vcs-dnsmasq.log",
                                   "--host-record=" + std::string(kHost) + ",127.0.0.1"};
  if (::geteuid() == 0) argv.emplace_back("--user=root");
  net_.startChild("vcs-dnsmasq", dir() + "/vcs-dnsmasq.out", argv);
  // Ready once it answers (a query sent before it binds gets no reply and is retried).
  const auto deadline = SteadyClock::now() + kStartupTimeout;
  while (SteadyClock::now() < deadline) {
    const auto reply = NetFixture::queryDns(dnsServer(), std::string(kHost), NetFixture::kTypeA,
                                            std::chrono::milliseconds(200));
    if (reply && reply->rcode == 0) return;
  }
  throw std::runtime_error("vcs dnsmasq did not answer" + logTail(dir() + "/vcs-dnsmasq.out"));
}

void VcsFixture::waitForNginx() const {
  // A plain-HTTP request on the TLS port gets nginx's 400 answer once it serves (the socket
  // listens already, so the request waits in the backlog).
  Fd fd(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  sockaddr_in in{};
  in.sin_family = AF_INET;
  in.sin_port = htons(443);
  in.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd.get(), reinterpret_cast<const sockaddr*>(&in), sizeof(in)) != 0) {
    throwErrno("connect 127.0.0.1:443");
  }
  static constexpr std::string_view kRequest = "GET / HTTP/1.0\r\n\r\n";
  (void)::send(fd.get(), kRequest.data(), kRequest.size(), MSG_NOSIGNAL);
  pollfd pfd{fd.get(), POLLIN, 0};
  const int timeout_ms = static_cast<int>(
      std::chrono::duration_cast<std::chrono::milliseconds>(kStartupTimeout).count());
  std::array<char, 64> buf{};
  if (::poll(&pfd, 1, timeout_ms) != 1 || ::recv(fd.get(), buf.data(), buf.size(), 0) <= 0) {
    throw std::runtime_error("vcs nginx did not answer" + logTail(nginxErrorLog()));
  }
}

GoRunResult VcsFixture::goModDownload(const std::string& module, bool with_netrc) const {
  const std::string run_dir = dir() + "/go-run-" + std::to_string(++runs_);
  fs::create_directories(run_dir + "/home");
  fs::create_directories(run_dir + "/work");
  if (with_netrc) fs::copy_file(netrcFile(), run_dir + "/home/.netrc");
  const char* path = std::getenv("PATH");  // NOLINT(concurrency-mt-unsafe)
  const std::vector<std::string> env = {
      std::string("PATH=") + (path != nullptr ? path : "/usr/local/bin:/usr/bin:/bin"),
      "HOME=" + run_dir + "/home",
      "GOPATH=" + run_dir + "/gopath",
      "GOCACHE=" + run_dir + "/gocache",
      "GOFLAGS=-modcacherw",
      "GO111MODULE=on",
      "GOENV=off",
      "GOTOOLCHAIN=local",
      "GOPROXY=direct",
      "GOPRIVATE=" + std::string(kHost),
      "SSL_CERT_FILE=" + caFile(),
      "GIT_SSL_CAINFO=" + caFile(),
      "GIT_CONFIG_NOSYSTEM=1",
  };
  return runCommand({GoModFixture::goBinary(), "mod", "download", "-json", module + "@v1.0.0"}, env,
                    run_dir + "/work", kCommandTimeout);
}

}  // namespace gomodprobe::testing
