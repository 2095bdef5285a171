// The web endpoints against the fixture: /probe runs configured targets only (metrics through
// `promtool check metrics`, the debug trace, 404 for anything else and no connection ever made to
// a URL given in the request), the landing page, basic auth on every path, TLS from a
// --web.config.file (also through the real binary), and the landing page rendered by headless
// Chromium with a screenshot under build/.

#include <crypt.h>
#include <curl/curl.h>
#include <fcntl.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <memory>
#include <regex>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "agent/agent.h"
#include "config/config_loader.h"
#include "integration/fixture.h"
#include "metrics/probe_collector.h"
#include "net/handles.h"
#include "probe/probe_factory.h"
#include "scheduler/scheduler.h"
#include "web/agent_handlers.h"
#include "web/basic_auth.h"
#include "web/web_config.h"
#include "web/web_server.h"

namespace gomodprobe {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

using Request = testing::HttpRequest;
using Reply = testing::HttpReply;
using testing::httpFetch;
using testing::httpGet;
using testing::runCommand;
using testing::writeFile;

// A bcrypt hash of `password` with a fresh random salt (libxcrypt).
std::string bcrypt(const std::string& password) {
  std::array<char, CRYPT_GENSALT_OUTPUT_SIZE> setting{};
  if (crypt_gensalt_rn("$2y$", 6, nullptr, 0, setting.data(), static_cast<int>(setting.size())) ==
      nullptr) {
    return {};
  }
  return web::BasicAuth::crypt(password, setting.data());
}

class WebTest : public testing::ProbeSuiteTest {
 protected:
  static std::string targetYaml(const std::string& name, const std::string& url,
                                const std::string& extra = "") {
    return "  - name: " + name + "\n    kind: http\n    url: " + url + "\n    resolvers: [\"" +
           net_->dnsPrimary() + "\"]\n    ip_protocol: ip4\n" + extra;
  }
  static std::string https(const std::string& host, std::uint16_t port) {
    return "https://" + host + ":" + std::to_string(port);
  }
  /// A passing target, two failing ones (expired certificate, refused connection).
  static std::string configYaml(const std::string& interval, const std::string& timeout = "3s") {
    return "global:\n  interval: " + interval + "\n  timeout: " + timeout +
           "\n  ca_file: " + net_->caFile() + "\ntargets:\n" +
           targetYaml("h2", https("good.test", net_->h2Port())) +
           targetYaml("expired", https("good.test", net_->expiredPort())) +
           targetYaml("refused", https("good.test", net_->refusedPort()));
  }

  /// An in-process agent and web server on 127.0.0.1:0.
  struct Stack {
    explicit Stack(const std::string& yaml, const web::WebConfig& web_config = {})
        : collector(std::make_shared<metrics::ProbeCollector>(metrics::currentBuildInfo())),
          agent(clock, *collector) {
      agent.start(config::parseConfig(yaml, "web-test.yml"));
      server = std::make_unique<web::WebServer>(
          "127.0.0.1:0", collector,
          web::agentHandlers(agent, *collector, clock, [] { return std::string(); }), web_config);
    }
    ~Stack() {
      server.reset();
      agent.stop();
    }
    Stack(const Stack&) = delete;
    Stack& operator=(const Stack&) = delete;

    [[nodiscard]] std::string base(const std::string& scheme = "http") const {
      return scheme + "://127.0.0.1:" + std::to_string(server->port());
    }

    SystemClock clock;
    std::shared_ptr<metrics::ProbeCollector> collector;
    agent::Agent agent;
    std::unique_ptr<web::WebServer> server;
  };
};

TEST_F(WebTest, ProbeRunsAConfiguredTargetNowAndReturnsOnlyThatRunsMetrics) {
  // With a 1 h interval the scheduler leaves these targets alone during the test.
  for (const char* name : {"h2", "expired", "refused"}) {
    ASSERT_GT(scheduler::Scheduler::offsetFor(name, std::chrono::hours(1)), std::chrono::minutes(5))
        << name;
  }
  Stack stack(configYaml("1h"));

  Reply reply = httpGet(stack.base() + "/probe?target=h2");
  ASSERT_EQ(reply.status, 200) << reply.body;
  EXPECT_EQ(reply.content_type, "text/plain; version=0.0.4; charset=utf-8");
  EXPECT_THAT(reply.body, HasSubstr("gomodprobe_probe_success{target=\"h2\",kind=\"http\"} 1\n"));
  EXPECT_THAT(reply.body, HasSubstr("gomodprobe_probes_total{target=\"h2\",kind=\"http\"} 1\n"));
  EXPECT_THAT(
      reply.body,
      HasSubstr("gomodprobe_http_negotiated_version{target=\"h2\",http_version=\"2\"} 2\n"));
  EXPECT_THAT(reply.body, Not(HasSubstr("target=\"expired\"")));
  EXPECT_THAT(reply.body, Not(HasSubstr("gomodprobe_build_info")));
  const std::string file = net_->dir() + "/probe-metrics.txt";
  writeFile(file, reply.body);
  const auto promtool = runCommand("promtool check metrics < " + file);
  EXPECT_EQ(promtool.exit_code, 0) << promtool.output;

  reply = httpGet(stack.base() + "/probe?target=expired");
  ASSERT_EQ(reply.status, 200);
  EXPECT_THAT(reply.body,
              HasSubstr("gomodprobe_probe_success{target=\"expired\",kind=\"http\"} 0\n"));
  EXPECT_THAT(reply.body, HasSubstr("gomodprobe_probe_failures_total{target=\"expired\",kind="
                                    "\"http\",reason=\"tls_cert_expired\"} 1\n"));

  // On-demand runs are not scheduled runs: the agent's own series did not move.
  for (const auto& snapshot : stack.collector->targetSnapshots()) {
    EXPECT_EQ(snapshot.probes, 0U) << snapshot.name;
    EXPECT_FALSE(snapshot.last) << snapshot.name;
  }
}

TEST_F(WebTest, ProbeDebugReturnsTheStepByStepTrace) {
  Stack stack(configYaml("1h"));
  Reply reply = httpGet(stack.base() + "/probe?target=refused&debug=true");
  ASSERT_EQ(reply.status, 200) << reply.body;
  EXPECT_EQ(reply.content_type, "text/plain; charset=utf-8");
  EXPECT_THAT(reply.body,
              HasSubstr("Probe of target \"refused\" (http): FAILED (connect_refused)"));
  EXPECT_THAT(reply.body, HasSubstr("dns " + net_->dnsPrimary()));
  EXPECT_THAT(reply.body, HasSubstr("http/1.1 FAIL status=0"));
  EXPECT_THAT(reply.body, HasSubstr("reason=connect_refused"));
  EXPECT_THAT(reply.body, HasSubstr("Metrics that would have been returned:\n"));

  reply = httpGet(stack.base() + "/probe?target=h2&debug=true");
  ASSERT_EQ(reply.status, 200);
  EXPECT_THAT(reply.body, HasSubstr("http/2   ok   status=200 negotiated=2"));
  EXPECT_TRUE(std::regex_search(reply.body, std::regex("connect=[0-9.]+ms tls=[0-9.]+ms")))
      << reply.body;
}

TEST_F(WebTest, ProbeRefusesUnknownNamesAndNeverFetchesAGivenUrl) {
  // A server for the attacker's URLs: it must never see a connection.
  const int evil = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  ASSERT_GE(evil, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(::bind(evil, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  ASSERT_EQ(::listen(evil, 16), 0);
  socklen_t len = sizeof addr;
  ::getsockname(evil, reinterpret_cast<sockaddr*>(&addr), &len);
  const std::string evil_url = "http://127.0.0.1:" + std::to_string(ntohs(addr.sin_port));
  const std::string encoded = "http%3A%2F%2F127.0.0.1%3A" + std::to_string(ntohs(addr.sin_port));

  Stack stack(configYaml("1h"));
  const std::string probe = stack.base() + "/probe";
  EXPECT_EQ(httpGet(probe + "?target=" + evil_url).status, 404);
  EXPECT_EQ(httpGet(probe + "?target=" + encoded + "%2F").status, 404);
  EXPECT_EQ(httpGet(probe + "?target=nothere").status, 404);
  EXPECT_EQ(httpGet(probe + "?target=H2").status, 404) << "names are exact";
  EXPECT_EQ(httpGet(probe + "?target=" + evil_url + "&debug=true").status, 404);
  EXPECT_EQ(httpGet(probe + "?module=http_2xx&target=" + encoded).status, 400);
  EXPECT_EQ(httpGet(probe + "?target=h2&module=http_2xx").status, 400);
  EXPECT_EQ(httpGet(probe + "?target=h2&url=" + encoded).status, 400);
  EXPECT_EQ(httpGet(probe + "?target=h2&target=" + encoded).status, 400);
  EXPECT_EQ(httpGet(probe).status, 400);
  const Reply unknown = httpGet(probe + "?target=%3Cscript%3E");
  EXPECT_EQ(unknown.status, 404);
  EXPECT_THAT(unknown.body, Not(HasSubstr("<script>"))) << "the name is not echoed";

  // Every request above has been answered; none of them connected to the evil server.
  const int accepted = ::accept(evil, nullptr, nullptr);
  EXPECT_EQ(accepted, -1);
  EXPECT_EQ(errno, EAGAIN);
  if (accepted >= 0) ::close(accepted);
  ::close(evil);
}

TEST_F(WebTest, LandingPageShowsEveryTargetWithItsLastResultAndReason) {
  Stack stack(configYaml("1s", "800ms"));
  // Wait (bounded) until every target has a result.
  // Every one of the three targets: the agent declares them to the collector on its own thread, so
  // an empty list (not declared yet) must not count as "all ran".
  auto all_ran = [&] {
    const auto snapshots = stack.collector->targetSnapshots();
    if (snapshots.size() != 3) return false;
    for (const auto& s : snapshots) {
      if (!s.last) return false;
    }
    return true;
  };
  for (int i = 0; i < 300 && !all_ran(); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));  // polling, bounded
  }
  ASSERT_TRUE(all_ran());
  const Reply page = httpGet(stack.base() + "/");
  ASSERT_EQ(page.status, 200);
  EXPECT_EQ(page.content_type, "text/html; charset=utf-8");
  EXPECT_THAT(page.body, HasSubstr("<table id=\"targets\">"));
  EXPECT_THAT(page.body, HasSubstr("<tr class=\"ok\" id=\"target-h2\">"));
  EXPECT_THAT(page.body, HasSubstr("<tr class=\"fail\" id=\"target-expired\">"));
  EXPECT_THAT(page.body, HasSubstr("<td class=\"reason\">tls_cert_expired</td>"));
  EXPECT_THAT(page.body, HasSubstr("<td class=\"reason\">connect_refused</td>"));
  EXPECT_THAT(page.body, HasSubstr("<b>http/2</b> <span class=\"good\">ok</span> status 200 via "
                                   "HTTP/2"));
  EXPECT_THAT(page.body, HasSubstr("href=\"/probe?target=expired&amp;debug=true\""));
  EXPECT_EQ(httpGet(stack.base() + "/nope").status, 404);
}

TEST_F(WebTest, MetricsAndLandingPageAreStreamedChunkedToHttp11AndSentWithALengthToHttp10) {
  Stack stack(configYaml("1h"));
  struct Case {
    std::string path;
    std::string content_type;
    std::vector<std::string> contains;
  };
  const std::vector<Case> cases = {
      {"/metrics",
       "text/plain; version=0.0.4; charset=utf-8",
       {"gomodprobe_build_info", "gomodprobe_probes_in_flight"}},
      {"/", "text/html; charset=utf-8", {"<tr class=\"pending\" id=\"target-h2\">", "</html>"}},
  };
  // The landing page says when it was rendered; nothing else in either body depends on the clock
  // (no run happens with a 1 h interval, so every row is "pending"; only the in-flight gauge and
  // the build info could differ in the exposition, and neither does here).
  const auto untimed = [](const std::string& body) {
    return std::regex_replace(body, std::regex("Rendered [^<]*"), "Rendered");
  };
  for (const Case& c : cases) {
    const Reply chunked = httpGet(stack.base() + c.path);
    ASSERT_EQ(chunked.status, 200) << c.path;
    EXPECT_EQ(chunked.content_type, c.content_type) << c.path;
    EXPECT_THAT(chunked.headers, HasSubstr("Transfer-Encoding: chunked")) << c.path;
    EXPECT_THAT(chunked.headers, Not(HasSubstr("Content-Length"))) << c.path;
    Request old_client{stack.base() + c.path};
    old_client.http_version = CURL_HTTP_VERSION_1_0;
    const Reply whole = httpFetch(old_client);
    ASSERT_EQ(whole.status, 200) << c.path;
    EXPECT_THAT(whole.headers, HasSubstr("Content-Length: " + std::to_string(whole.body.size())))
        << c.path;
    EXPECT_THAT(whole.headers, Not(HasSubstr("chunked"))) << c.path;
    EXPECT_EQ(untimed(chunked.body), untimed(whole.body)) << c.path;  // the same body either way
    for (const std::string& text : c.contains) EXPECT_THAT(chunked.body, HasSubstr(text)) << c.path;
  }
}

TEST_F(WebTest, BasicAuthProtectsEveryPath) {
  web::WebConfig web_config;
  web_config.basic_auth_users = {{"alice", bcrypt("s3cret pass")}, {"bob", bcrypt("other")}};
  ASSERT_EQ(web_config.basic_auth_users["alice"].size(), 60U);
  Stack stack(configYaml("1h"), web_config);
  for (const std::string path : {"/", "/metrics", "/-/healthy", "/probe?target=h2", "/nope"}) {
    const std::string url = stack.base() + path;
    Reply reply = httpGet(url);
    EXPECT_EQ(reply.status, 401) << path;
    EXPECT_THAT(reply.headers, HasSubstr("WWW-Authenticate: Basic realm=\"gomodprobe\"")) << path;
    EXPECT_EQ(httpFetch(Request{url, false, "alice:wrong"}).status, 401) << path;
    EXPECT_EQ(httpFetch(Request{url, false, "bob:s3cret pass"}).status, 401) << path;
    EXPECT_EQ(httpFetch(Request{url, false, "mallory:s3cret pass"}).status, 401) << path;
    reply = httpFetch(Request{url, false, "alice:s3cret pass"});
    EXPECT_EQ(reply.status, path == "/nope" ? 404 : 200) << path;
  }
  EXPECT_EQ(httpFetch(Request{stack.base() + "/-/reload", true}).status, 401);
  EXPECT_EQ(httpFetch(Request{stack.base() + "/-/reload", true, "alice:s3cret pass"}).status, 200);
  EXPECT_EQ(httpFetch(Request{stack.base() + "/metrics", false, "bob:other"}).status, 200);
}

TEST_F(WebTest, ServesTlsWithTheConfiguredCertificate) {
  web::WebConfig web_config;
  web_config.tls = web::TlsServerConfig{net_->goodCertFile(), net_->keyFile()};
  Stack stack(configYaml("1h"), web_config);
  Reply reply = httpFetch(Request{stack.base("https") + "/metrics", false, "", net_->caFile()});
  ASSERT_EQ(reply.code, CURLE_OK) << curl_easy_strerror(reply.code);
  EXPECT_EQ(reply.status, 200);
  EXPECT_THAT(reply.body, HasSubstr("gomodprobe_build_info"));
  reply = httpFetch(Request{stack.base("https") + "/probe?target=h2", false, "", net_->caFile()});
  EXPECT_EQ(reply.status, 200);
  EXPECT_THAT(reply.body, HasSubstr("gomodprobe_probe_success{target=\"h2\",kind=\"http\"} 1"));
  // The certificate is the one configured: a client trusting another CA refuses it.
  EXPECT_EQ(httpFetch(Request{stack.base("https") + "/", false, "", net_->otherCaFile()}).code,
            CURLE_PEER_FAILED_VERIFICATION);
  // Plain HTTP on the TLS port gets no HTTP answer.
  EXPECT_EQ(httpGet(stack.base() + "/metrics").status, 0);
}

TEST_F(WebTest, TlsMinVersionAndClientCertificates) {
  // A client certificate (clientAuth) that is its own CA.
  const std::string dir = net_->dir();
  const auto made = runCommand(
      "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 1 -subj "
      "/CN=web-client -addext extendedKeyUsage=clientAuth -keyout " +
      dir + "/client.key -out " + dir + "/client.crt");
  ASSERT_EQ(made.exit_code, 0) << made.output;

  web::WebConfig web_config;
  web_config.tls = web::TlsServerConfig{net_->goodCertFile(), net_->keyFile(), dir + "/client.crt",
                                        true, web::TlsVersion::Tls13};
  Stack stack(configYaml("1h"), web_config);
  const std::string url = stack.base("https") + "/-/healthy";
  Request request{url, false, "", net_->caFile(), dir + "/client.crt", dir + "/client.key"};
  EXPECT_EQ(httpFetch(request).status, 200);
  request.max_tls = CURL_SSLVERSION_MAX_TLSv1_2;
  EXPECT_NE(httpFetch(request).code, CURLE_OK) << "min_version TLS13 refuses TLS 1.2";
  EXPECT_NE(httpFetch(Request{url, false, "", net_->caFile()}).code, CURLE_OK)
      << "RequireAndVerifyClientCert refuses a client without a certificate";
}

TEST_F(WebTest, BadTlsFilesFailAtStartWithTheReason) {
  web::WebConfig web_config;
  web_config.tls = web::TlsServerConfig{net_->caFile(), net_->keyFile()};  // key does not match
  try {
    Stack stack(configYaml("1h"), web_config);
    ADD_FAILURE() << "a mismatched key was accepted";
  } catch (const std::runtime_error& e) {
    EXPECT_THAT(e.what(), HasSubstr("key_file " + net_->keyFile()));
  }
}

TEST_F(WebTest, BinaryTakesTlsAndBasicAuthFromWebConfigFile) {
  const std::string dir = net_->dir();
  writeFile(dir + "/agent.yml", configYaml("1h"));
  writeFile(dir + "/web.yml", "tls_server_config:\n  cert_file: " + net_->goodCertFile() +
                                  "\n  key_file: " + net_->keyFile() +
                                  "\nbasic_auth_users:\n  prometheus: '" + bcrypt("scrape-me") +
                                  "'\n");
  testing::Daemon daemon(GOMODPROBE_BINARY,
                         {"--config.file", dir + "/agent.yml", "--web.config.file",
                          dir + "/web.yml", "--web.listen-address", "127.0.0.1:0"},
                         dir + "/web-daemon.log");
  const int port = daemon.port();
  ASSERT_GT(port, 0) << daemon.log();
  const std::string base = "https://127.0.0.1:" + std::to_string(port);
  EXPECT_EQ(httpFetch(Request{base + "/metrics", false, "", net_->caFile()}).status, 401);
  EXPECT_EQ(httpFetch(Request{base + "/metrics", false, "prometheus:nope", net_->caFile()}).status,
            401);
  const Reply reply =
      httpFetch(Request{base + "/probe?target=h2", false, "prometheus:scrape-me", net_->caFile()});
  EXPECT_EQ(reply.status, 200);
  EXPECT_THAT(reply.body, HasSubstr("gomodprobe_probe_success{target=\"h2\",kind=\"http\"} 1"));
  EXPECT_THAT(daemon.log(), Not(HasSubstr("scrape-me")));
}

TEST_F(WebTest, BinaryRejectsABadWebConfigFileWithItsPosition) {
  const std::string dir = net_->dir();
  writeFile(dir + "/agent.yml", configYaml("1h"));
  writeFile(dir + "/bad-web.yml", "basic_auth_users:\n  alice: plaintext\n");
  testing::Daemon daemon(GOMODPROBE_BINARY,
                         {"--config.file", dir + "/agent.yml", "--web.config.file",
                          dir + "/bad-web.yml", "--web.listen-address", "127.0.0.1:0"},
                         dir + "/bad-web-daemon.log");
  EXPECT_EQ(daemon.wait(), 1);
  EXPECT_THAT(daemon.log(), HasSubstr(dir + "/bad-web.yml:2:10:"));
  EXPECT_THAT(daemon.log(), Not(HasSubstr("plaintext")));
}

// Width and height from a PNG's IHDR chunk (0, 0 when it is not a PNG).
std::pair<std::uint32_t, std::uint32_t> pngSize(const std::string& png) {
  if (png.size() < 24 || png.compare(0, 8, "\x89PNG\r\n\x1a\n") != 0 ||
      png.compare(12, 4, "IHDR") != 0) {
    return {0, 0};
  }
  auto be32 = [&](std::size_t at) {
    std::uint32_t v = 0;
    for (std::size_t i = 0; i < 4; ++i) v = (v << 8) | static_cast<unsigned char>(png[at + i]);
    return v;
  };
  return {be32(16), be32(20)};
}

TEST_F(WebTest, HeadlessChromiumRendersTheLandingPage) {
  const std::string chromium = testing::NetFixture::findExecutable("chromium");
  ASSERT_FALSE(chromium.empty()) << "chromium is not installed (scripts/deps.sh installs it)";
  const std::string dir = net_->dir();
  writeFile(dir + "/chromium-agent.yml", configYaml("1s", "800ms"));
  testing::Daemon daemon(
      GOMODPROBE_BINARY,
      {"--config.file", dir + "/chromium-agent.yml", "--web.listen-address", "127.0.0.1:0"},
      dir + "/chromium-daemon.log");
  const int port = daemon.port();
  ASSERT_GT(port, 0) << daemon.log();
  const std::string url = "http://127.0.0.1:" + std::to_string(port) + "/";
  // Wait (bounded) until every target has run once.
  std::string page;
  for (int i = 0; i < 300; ++i) {
    page = httpGet(url).body;
    if (page.find(" 0 not run yet") != std::string::npos) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));  // polling, bounded
  }
  ASSERT_THAT(page, HasSubstr(" 0 not run yet"));

  const std::string flags =
      " --headless --no-sandbox --disable-gpu --disable-background-networking"
      " --disable-dev-shm-usage --no-first-run --user-data-dir=" +
      dir + "/chromium-profile --window-size=1280,900 ";
  const auto dom = runCommand(chromium + flags + "--dump-dom " + url + " 2>/dev/null");
  ASSERT_EQ(dom.exit_code, 0) << dom.output;
  EXPECT_THAT(dom.output, HasSubstr("<table id=\"targets\">"));
  EXPECT_THAT(dom.output, HasSubstr("<td class=\"reason\">tls_cert_expired</td>"));
  EXPECT_THAT(dom.output, HasSubstr("<td class=\"reason\">connect_refused</td>"));
  EXPECT_THAT(dom.output, HasSubstr("<tr class=\"ok\" id=\"target-h2\">"));

  const std::string screenshot = std::string(GOMODPROBE_BUILD_DIR) + "/web-landing-page.png";
  std::filesystem::remove(screenshot);
  const auto shot = runCommand(chromium + flags + "--screenshot=" + screenshot + " " + url);
  ASSERT_EQ(shot.exit_code, 0) << shot.output;
  const std::string png = testing::readFile(screenshot);
  const auto [width, height] = pngSize(png);
  EXPECT_EQ(width, 1280U);
  EXPECT_EQ(height, 900U);
  // A blank 1280x900 PNG compresses to a few KiB; a rendered table with text does not.
  EXPECT_GT(png.size(), 20'000U);
  std::printf("landing page screenshot: %s (%zu bytes, %ux%u)\n", screenshot.c_str(), png.size(),
              width, height);
}

}  // namespace
}  // namespace gomodprobe
