#include "integration/fixture.h"

#include <curl/curl.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <openssl/x509_vfy.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <ctime>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

namespace gomodprobe::testing {
namespace {

using std::chrono::milliseconds;

struct CurlDeleter {
  void operator()(CURL* curl) const { curl_easy_cleanup(curl); }
};
struct SlistDeleter {
  void operator()(curl_slist* list) const { curl_slist_free_all(list); }
};

struct FetchOptions {
  bool verify = true;
  long timeout_ms = 5000;
};

struct Fetched {
  CURLcode code = CURLE_OK;
  long status = 0;
  long http_version = 0;
  long verify_result = 0;
  std::string body;
  std::string error;
  std::string expire_date;  // leaf "Expire date" from CURLOPT_CERTINFO
};

size_t appendBody(char* data, size_t size, size_t nmemb, void* user) {
  static_cast<std::string*>(user)->append(data, size * nmemb);
  return size * nmemb;
}

// GET scheme://host:port/path; *.test and localhost are pinned to 127.0.0.1 via CURLOPT_RESOLVE.
Fetched fetch(const NetFixture& net, const std::string& scheme, const std::string& host,
              uint16_t port, const std::string& path, FetchOptions options = {}) {
  std::unique_ptr<CURL, CurlDeleter> curl(curl_easy_init());
  Fetched out;
  std::array<char, CURL_ERROR_SIZE> error{};
  const std::string url = scheme + "://" + host + ":" + std::to_string(port) + path;
  std::unique_ptr<curl_slist, SlistDeleter> resolve(
      curl_slist_append(nullptr, (host + ":" + std::to_string(port) + ":127.0.0.1").c_str()));
  curl_easy_setopt(curl.get(), CURLOPT_URL, url.c_str());
  curl_easy_setopt(curl.get(), CURLOPT_RESOLVE, resolve.get());
  curl_easy_setopt(curl.get(), CURLOPT_NOPROXY, "*");
  curl_easy_setopt(curl.get(), CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(curl.get(), CURLOPT_CAINFO, net.caFile().c_str());
  curl_easy_setopt(curl.get(), CURLOPT_CAPATH, nullptr);
  curl_easy_setopt(curl.get(), CURLOPT_SSL_VERIFYPEER, options.verify ? 1L : 0L);
  curl_easy_setopt(curl.get(), CURLOPT_SSL_VERIFYHOST, options.verify ? 2L : 0L);
  curl_easy_setopt(curl.get(), CURLOPT_HTTP_VERSION, static_cast<long>(CURL_HTTP_VERSION_2TLS));
  curl_easy_setopt(curl.get(), CURLOPT_TIMEOUT_MS, options.timeout_ms);
  curl_easy_setopt(curl.get(), CURLOPT_CERTINFO, 1L);
  curl_easy_setopt(curl.get(), CURLOPT_ERRORBUFFER, error.data());
  curl_easy_setopt(curl.get(), CURLOPT_WRITEFUNCTION, appendBody);
  curl_easy_setopt(curl.get(), CURLOPT_WRITEDATA, &out.body);
  out.code = curl_easy_perform(curl.get());
  out.error = error.data();
  curl_easy_getinfo(curl.get(), CURLINFO_RESPONSE_CODE, &out.status);
  curl_easy_getinfo(curl.get(), CURLINFO_HTTP_VERSION, &out.http_version);
  curl_easy_getinfo(curl.get(), CURLINFO_SSL_VERIFYRESULT, &out.verify_result);
  curl_certinfo* certinfo = nullptr;
  if (curl_easy_getinfo(curl.get(), CURLINFO_CERTINFO, &certinfo) == CURLE_OK &&
      certinfo != nullptr && certinfo->num_of_certs > 0) {
    for (curl_slist* item = certinfo->certinfo[0]; item != nullptr; item = item->next) {
      const std::string line = item->data;
      if (line.starts_with("Expire date:")) out.expire_date = line.substr(12);
    }
  }
  return out;
}

class NetFixtureTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    const auto begin = std::chrono::steady_clock::now();
    try {
      net_ = std::make_unique<NetFixture>();
      net_->start();
    } catch (const std::exception& e) {
      start_error_ = e.what();
    }
    startup_ms_ =
        std::chrono::duration_cast<milliseconds>(std::chrono::steady_clock::now() - begin).count();
  }
  static void TearDownTestSuite() { net_.reset(); }

  void SetUp() override {
    ASSERT_TRUE(start_error_.empty()) << start_error_;
    RecordProperty("fixture_startup_ms", std::to_string(startup_ms_));
  }

  static const NetFixture& net() { return *net_; }

  static inline std::unique_ptr<NetFixture> net_;
  static inline std::string start_error_;
  static inline long long startup_ms_ = 0;
};

TEST_F(NetFixtureTest, StartsQuickly) {
  // ~0.2 s on an idle 2-core machine; the bound is loose so that ctest -j does not flake.
  std::printf("fixture start-up took %lld ms\n", startup_ms_);
  EXPECT_LT(startup_ms_, 5000);
}

TEST_F(NetFixtureTest, H2PortNegotiatesHttp2WithTestCa) {
  const Fetched r = fetch(net(), "https", "good.test", net().h2Port(), "/");
  ASSERT_EQ(r.code, CURLE_OK) << r.error;
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.http_version, CURL_HTTP_VERSION_2_0);
  EXPECT_EQ(r.body, NetFixture::kRootBody);
}

TEST_F(NetFixtureTest, H1OnlyPortNegotiatesHttp11) {
  const Fetched r = fetch(net(), "https", "proxy.test", net().h1OnlyPort(), "/");
  ASSERT_EQ(r.code, CURLE_OK) << r.error;
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.http_version, CURL_HTTP_VERSION_1_1);
  EXPECT_EQ(r.body, NetFixture::kRootBody);
}

TEST_F(NetFixtureTest, GoodCertCoversIpAndLocalhostSans) {
  for (const char* host : {"127.0.0.1", "localhost", "split.test"}) {
    const Fetched r = fetch(net(), "https", host, net().h2Port(), "/");
    EXPECT_EQ(r.code, CURLE_OK) << host << ": " << r.error;
  }
}

TEST_F(NetFixtureTest, EveryPortServesTheSameLocations) {
  struct Case {
    std::string scheme;
    uint16_t port;
  };
  for (const Case& c : {Case{"http", net().plainPort()}, Case{"https", net().h2Port()},
                        Case{"https", net().h1OnlyPort()}}) {
    SCOPED_TRACE(c.scheme + " " + std::to_string(c.port));
    Fetched r = fetch(net(), c.scheme, "good.test", c.port, "/golang.org/x/text/@v/list");
    EXPECT_EQ(r.status, 200);
    EXPECT_EQ(r.body, NetFixture::kModuleListBody);
    r = fetch(net(), c.scheme, "good.test", c.port, "/latest");
    EXPECT_EQ(r.status, 200);
    EXPECT_EQ(r.body, NetFixture::kLatestBody);
    EXPECT_EQ(fetch(net(), c.scheme, "good.test", c.port, "/status/502").status, 502);
    EXPECT_EQ(fetch(net(), c.scheme, "good.test", c.port, "/status/404").status, 404);
    EXPECT_EQ(fetch(net(), c.scheme, "good.test", c.port, "/no/such/path").status, 404);
    r = fetch(net(), c.scheme, "good.test", c.port, "/big");
    EXPECT_EQ(r.status, 200);
    EXPECT_EQ(r.body.size(), NetFixture::kBigBodySize);
    EXPECT_TRUE(r.body == NetFixture::bigBody());
  }
}

TEST_F(NetFixtureTest, ExpiredCertFailsVerification) {
  const Fetched r = fetch(net(), "https", "good.test", net().expiredPort(), "/");
  EXPECT_EQ(r.code, CURLE_PEER_FAILED_VERIFICATION) << r.error;
  EXPECT_EQ(r.verify_result, X509_V_ERR_CERT_HAS_EXPIRED) << r.error;
  const Fetched insecure =
      fetch(net(), "https", "good.test", net().expiredPort(), "/", {.verify = false});
  EXPECT_EQ(insecure.code, CURLE_OK) << insecure.error;
  EXPECT_NE(insecure.expire_date.find("2021"), std::string::npos) << insecure.expire_date;
}

TEST_F(NetFixtureTest, WrongHostCertFailsHostnameCheck) {
  const Fetched r = fetch(net(), "https", "good.test", net().wrongHostPort(), "/");
  EXPECT_EQ(r.code, CURLE_PEER_FAILED_VERIFICATION) << r.error;
  // libcurl checks the name itself after the chain verified; the message is its own.
  EXPECT_NE(r.error.find("no alternative certificate subject name matches"), std::string::npos)
      << r.error;
  const Fetched right_name = fetch(net(), "https", "wrong.example", net().wrongHostPort(), "/");
  EXPECT_EQ(right_name.code, CURLE_OK) << right_name.error;
}

TEST_F(NetFixtureTest, UnknownCaFailsVerification) {
  const Fetched r = fetch(net(), "https", "good.test", net().unknownCaPort(), "/");
  EXPECT_EQ(r.code, CURLE_PEER_FAILED_VERIFICATION) << r.error;
  EXPECT_EQ(r.verify_result, X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY) << r.error;
}

TEST_F(NetFixtureTest, GoodCertNotAfterMatchesServedCertificate) {
  const Fetched r = fetch(net(), "https", "good.test", net().h2Port(), "/");
  ASSERT_EQ(r.code, CURLE_OK) << r.error;
  std::tm tm{};
  ASSERT_NE(strptime(r.expire_date.c_str(), "%b %d %H:%M:%S %Y GMT", &tm), nullptr)
      << r.expire_date;
  EXPECT_EQ(static_cast<double>(timegm(&tm)), net().goodCertNotAfter()) << r.expire_date;
  const auto now = static_cast<double>(std::time(nullptr));
  EXPECT_GT(net().goodCertNotAfter(), now + 80.0 * 86400);
}

TEST_F(NetFixtureTest, RefusedPortRefusesConnections) {
  const Fetched r = fetch(net(), "http", "good.test", net().refusedPort(), "/");
  EXPECT_EQ(r.code, CURLE_COULDNT_CONNECT) << r.error;
}

TEST_F(NetFixtureTest, HangPortConnectsButNeverAnswers) {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  ASSERT_GE(fd, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(net().hangPort());
  EXPECT_EQ(::connect(fd, reinterpret_cast<const sockaddr*>(&addr), sizeof(addr)), 0)
      << "the kernel completes the handshake";
  pollfd pfd{fd, POLLIN, 0};
  EXPECT_EQ(::poll(&pfd, 1, 200), 0) << "nothing is ever sent";
  ::close(fd);

  const Fetched r = fetch(net(), "https", "good.test", net().hangPort(), "/", {.timeout_ms = 300});
  EXPECT_EQ(r.code, CURLE_OPERATION_TIMEDOUT) << r.error;
}

std::vector<std::string> addresses(const std::string& server, const std::string& name,
                                   uint16_t qtype, int expected_rcode) {
  const auto reply = NetFixture::queryDns(server, name, qtype, milliseconds(2000));
  if (!reply) {
    ADD_FAILURE() << name << " type " << qtype << ": no reply from " << server;
    return {};
  }
  EXPECT_EQ(reply->rcode, expected_rcode) << name << " type " << qtype << " at " << server;
  EXPECT_EQ(reply->answer_count, reply->addresses.size());
  return reply->addresses;
}

using Addresses = std::vector<std::string>;

TEST_F(NetFixtureTest, DnsServersAnswerTheDocumentedRecords) {
  constexpr uint16_t kA = NetFixture::kTypeA;
  constexpr uint16_t kAaaa = NetFixture::kTypeAaaa;
  for (const std::string& server : {net().dnsPrimary(), net().dnsSecondary()}) {
    SCOPED_TRACE(server);
    EXPECT_EQ(addresses(server, "good.test", kA, 0), Addresses{"127.0.0.1"});
    EXPECT_EQ(addresses(server, "good.test", kAaaa, 0), Addresses{});
    EXPECT_EQ(addresses(server, "proxy.test", kA, 0), Addresses{"127.0.0.1"});
    EXPECT_EQ(addresses(server, "proxy.test", kAaaa, 0), Addresses{});
    EXPECT_EQ(addresses(server, "v6.test", kAaaa, 0), Addresses{"::1"});
    EXPECT_EQ(addresses(server, "v6.test", kA, 0), Addresses{});
    EXPECT_EQ(addresses(server, "split.test", kAaaa, 0), Addresses{});
    EXPECT_EQ(addresses(server, "nosuch.test", kA, 3), Addresses{});
    EXPECT_EQ(addresses(server, "nosuch.test", kAaaa, 3), Addresses{});
    EXPECT_EQ(addresses(server, "example.com", kA, 5), Addresses{});
  }
  EXPECT_EQ(addresses(net().dnsPrimary(), "split.test", kA, 0), Addresses{"127.0.0.1"});
  EXPECT_EQ(addresses(net().dnsSecondary(), "split.test", kA, 0), Addresses{"127.0.0.2"});
  EXPECT_EQ(addresses(net().dnsPrimary(), "servfail.test", kA, 2), Addresses{});
  EXPECT_EQ(addresses(net().dnsPrimary(), "servfail.test", kAaaa, 2), Addresses{});
  EXPECT_EQ(addresses(net().dnsSecondary(), "servfail.test", kA, 3), Addresses{});
}

TEST_F(NetFixtureTest, DnsPrimaryAnswersAuthoritativelyForLocalData) {
  const auto reply =
      NetFixture::queryDns(net().dnsPrimary(), "good.test", NetFixture::kTypeA, milliseconds(2000));
  ASSERT_TRUE(reply.has_value());
  EXPECT_TRUE(reply->authoritative);
}

TEST(NetFixtureLifecycleTest, DestructorStopsChildrenAndRemovesDir) {
  std::vector<pid_t> pids;
  std::string dir;
  {
    NetFixture net;
    net.start();
    pids = net.childPids();
    dir = net.dir();
    ASSERT_EQ(pids.size(), 3U);
    for (const pid_t pid : pids) EXPECT_EQ(::kill(pid, 0), 0) << pid;
  }
  for (const pid_t pid : pids) {
    EXPECT_EQ(::kill(pid, 0), -1) << "pid " << pid << " survived the fixture";
    EXPECT_EQ(errno, ESRCH);
  }
  EXPECT_FALSE(std::filesystem::exists(dir)) << dir;
}

TEST(NetFixtureLifecycleTest, FindExecutableSearchesSbin) {
  EXPECT_EQ(NetFixture::findExecutable("dnsmasq"), "/usr/sbin/dnsmasq");
  EXPECT_EQ(NetFixture::findExecutable("gomodprobe-no-such-tool"), "");
}

}  // namespace
}  // namespace gomodprobe::testing
