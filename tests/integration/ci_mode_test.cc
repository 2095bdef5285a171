// `gomodprobe check` as a CI pre-step, with the real binary against the fixture: `--output junit`
// read back by python3's XML parser, and `--push.gateway` against a fake Pushgateway (a one-request
// HTTP/1.1 server in this process) that records the method, path and body it got.

#include <arpa/inet.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>

#include "integration/fixture.h"
#include "metrics/probe_collector.h"
#include "metrics/push.h"

namespace gomodprobe {
namespace {

using ::testing::HasSubstr;

struct CommandResult {
  int exit_code = -1;
  std::string out;  // stdout only
};

CommandResult run(const std::string& command) {
  CommandResult result;
  FILE* pipe = ::popen(command.c_str(), "r");
  if (pipe == nullptr) return result;
  char buffer[4096];
  std::size_t n = 0;
  while ((n = std::fread(buffer, 1, sizeof buffer, pipe)) > 0) result.out.append(buffer, n);
  const int status = ::pclose(pipe);
  result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return result;
}

int listeningSocket(int* port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address);
  ::listen(fd, 8);
  socklen_t length = sizeof address;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length);
  *port = ntohs(address.sin_port);
  return fd;
}

/// A fake Pushgateway: accepts one connection on 127.0.0.1:0, reads one HTTP/1.1 request
/// (answering `Expect: 100-continue`), records it and answers 200.
class FakePushgateway {
 public:
  FakePushgateway() {
    listen_fd_ = listeningSocket(&port_);
    thread_ = std::thread([this] { serveOne(); });
  }
  ~FakePushgateway() {
    if (thread_.joinable()) thread_.join();
    ::close(listen_fd_);
  }
  FakePushgateway(const FakePushgateway&) = delete;
  FakePushgateway& operator=(const FakePushgateway&) = delete;

  [[nodiscard]] int port() const { return port_; }
  /// Waits (bounded by the server's own 20 s accept limit) for the request to be handled.
  void wait() {
    if (thread_.joinable()) thread_.join();
  }
  std::string method, path, headers, body;  // read after wait()

 private:
  void serveOne() {
    pollfd p{listen_fd_, POLLIN, 0};
    if (::poll(&p, 1, 20'000) != 1) return;
    const int fd = ::accept(listen_fd_, nullptr, nullptr);
    if (fd < 0) return;
    std::string data;
    char buffer[8192];
    std::size_t header_end = std::string::npos;
    std::size_t length = 0;
    bool continued = false;
    for (;;) {
      if (header_end == std::string::npos) {
        header_end = data.find("\r\n\r\n");
        if (header_end != std::string::npos) {
          headers = data.substr(0, header_end);
          const auto line_end = headers.find("\r\n");
          const std::string request_line = headers.substr(0, line_end);
          method = request_line.substr(0, request_line.find(' '));
          path =
              request_line.substr(method.size() + 1, request_line.rfind(' ') - method.size() - 1);
          std::string lower;
          for (const char c : headers) lower += static_cast<char>(std::tolower(c));
          const auto cl = lower.find("\r\ncontent-length:");
          if (cl != std::string::npos) length = std::stoul(lower.substr(cl + 17));
          if (!continued && lower.find("expect: 100-continue") != std::string::npos) {
            const std::string cont = "HTTP/1.1 100 Continue\r\n\r\n";
            (void)::write(fd, cont.data(), cont.size());
            continued = true;
          }
        }
      }
      if (header_end != std::string::npos && data.size() >= header_end + 4 + length) break;
      pollfd r{fd, POLLIN, 0};
      if (::poll(&r, 1, 10'000) != 1) break;
      const ssize_t n = ::read(fd, buffer, sizeof buffer);
      if (n <= 0) break;
      data.append(buffer, static_cast<std::size_t>(n));
    }
    if (header_end != std::string::npos) body = data.substr(header_end + 4);
    const std::string reply = "HTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: close\r\n\r\n";
    (void)::write(fd, reply.data(), reply.size());
    ::close(fd);
  }

  int listen_fd_ = -1;
  int port_ = 0;
  std::thread thread_;
};

class CiModeTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    net_ = std::make_unique<testing::NetFixture>();
    net_->start();
    config_ = net_->dir() + "/ci.yml";
    std::ofstream(config_) << "global:\n  timeout: 2s\n  labels: {site: fra1}\n  ca_file: "
                           << net_->caFile() << "\ntargets:\n"
                           << target("good",
                                     "http://good.test:" + std::to_string(net_->plainPort()))
                           << target("refused",
                                     "http://good.test:" + std::to_string(net_->refusedPort()));
  }
  static void TearDownTestSuite() { net_.reset(); }
  static std::string target(const std::string& name, const std::string& url) {
    return "  - name: " + name + "\n    kind: http\n    url: " + url + "\n    resolvers: [\"" +
           net_->dnsPrimary() + "\"]\n    ip_protocol: ip4\n    http_versions: [\"1.1\"]\n";
  }
  static inline std::unique_ptr<testing::NetFixture> net_;
  static inline std::string config_;
};

TEST_F(CiModeTest, JunitOutputIsWellFormedWithAFailureForTheFailedTarget) {
  const auto r = run(std::string(GOMODPROBE_BINARY) + " check --output junit --config.file " +
                     config_ + " 2>/dev/null");
  EXPECT_EQ(r.exit_code, 1) << "one target fails";
  const std::string file = net_->dir() + "/junit.xml";
  std::ofstream(file) << r.out;
  const auto parsed = run(
      "python3 -c 'import json,sys,xml.etree.ElementTree as E; r=E.parse(sys.argv[1]).getroot(); "
      "print(json.dumps([r.tag, r.get(\"tests\"), r.get(\"failures\")] + [[c.get(\"name\"), "
      "c.get(\"classname\"), None if c.find(\"failure\") is None else "
      "c.find(\"failure\").get(\"message\")] for c in r.findall(\"testcase\")]))' " +
      file);
  ASSERT_EQ(parsed.exit_code, 0) << "not well-formed:\n" << r.out;
  EXPECT_EQ(nlohmann::json::parse(parsed.out),
            nlohmann::json::parse(R"(["testsuite", "2", "1", ["good", "http", null],
                                      ["refused", "http", "connect_refused"]])"));
}

TEST_F(CiModeTest, PushesTheRunToThePushgatewayGroup) {
  FakePushgateway gateway;
  const auto r =
      run(std::string(GOMODPROBE_BINARY) + " check --output json --config.file " + config_ +
          " --push.gateway http://127.0.0.1:" + std::to_string(gateway.port()) +
          " --push.job ci-premerge --push.instance runner-7 2>&1");
  gateway.wait();
  EXPECT_EQ(r.exit_code, 1) << r.out;
  EXPECT_EQ(gateway.method, "PUT") << "replaces the runner's group";
  EXPECT_EQ(gateway.path, "/metrics/job/ci-premerge/instance/runner-7/site/fra1")
      << "global.labels join the grouping key";
  EXPECT_THAT(gateway.headers, HasSubstr("text/plain; version=0.0.4"));
  EXPECT_THAT(gateway.body, HasSubstr("gomodprobe_probe_success{target=\"good\",kind=\"http\"} 1"));
  EXPECT_THAT(gateway.body,
              HasSubstr("gomodprobe_probe_success{target=\"refused\",kind=\"http\"} 0"));
  EXPECT_THAT(gateway.body, HasSubstr("gomodprobe_probe_failures_total{target=\"refused\","
                                      "kind=\"http\",reason=\"connect_refused\"} 1"));
  // The pushed body is valid exposition format.
  const std::string file = net_->dir() + "/pushed.txt";
  std::ofstream(file) << gateway.body;
  const auto promtool = run("promtool check metrics < " + file + " 2>&1");
  EXPECT_EQ(promtool.exit_code, 0) << promtool.out;
}

TEST_F(CiModeTest, InstanceDefaultsToTheHostName) {
  FakePushgateway gateway;
  const auto r = run(std::string(GOMODPROBE_BINARY) + " check --config.file " + config_ +
                     " --push.gateway http://127.0.0.1:" + std::to_string(gateway.port()) +
                     " >/dev/null 2>&1");
  gateway.wait();
  EXPECT_EQ(r.exit_code, 1);
  char host[256] = {};
  ASSERT_EQ(::gethostname(host, sizeof host - 1), 0);
  std::string expected = "/metrics/job/gomodprobe";
  for (const auto& [name, value] : metrics::groupingLabels(host, {{"site", "fra1"}})) {
    expected += "/" + name + "/" + value;
  }
  EXPECT_EQ(gateway.path, expected);
  EXPECT_THAT(gateway.path, HasSubstr("/instance")) << "the host name is the instance";
}

TEST_F(CiModeTest, UnreachableGatewayExitsThreeAndASilentOneTimesOut) {
  int port = 0;
  const int closed = listeningSocket(&port);
  ::close(closed);  // nothing listens there any more: connection refused
  auto r = run(std::string(GOMODPROBE_BINARY) + " check --config.file " + config_ +
               " --push.gateway http://127.0.0.1:" + std::to_string(port) + " 2>&1 >/dev/null");
  EXPECT_EQ(r.exit_code, 3);
  EXPECT_THAT(r.out, HasSubstr("push gateway:"));

  // A gateway that accepts the connection but never answers: pushMetrics gives up at its bound.
  int silent_port = 0;
  const int silent = listeningSocket(&silent_port);  // listening, never accepting
  auto collector = std::make_shared<metrics::ProbeCollector>(metrics::currentBuildInfo());
  metrics::PushTarget target;
  target.gateway_url = "http://127.0.0.1:" + std::to_string(silent_port);
  target.instance = "runner-7";
  target.timeout = std::chrono::milliseconds(300);
  const auto started = std::chrono::steady_clock::now();
  const std::string error = metrics::pushMetrics(target, collector);
  const auto took = std::chrono::steady_clock::now() - started;
  EXPECT_EQ(error, "push gateway: no answer within 300 ms");
  EXPECT_LT(took, std::chrono::seconds(5));
  ::close(silent);
}

}  // namespace
}  // namespace gomodprobe
