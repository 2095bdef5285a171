// The fault matrix (issue 6, item 4): ONE real gomodprobe daemon (build/src/gomodprobe) probes
// every fault below at once, on loopback servers started here, for many rounds. Each case is its
// own test, FaultMatrix/FaultCaseTest.ReportsReasonKeepsRunningMemoryFlat/<case>_is_<reason>, and
// asserts
//   - the exact `reason` label: every run of the target failed with it
//     (gomodprobe_probe_failures_total{reason} == gomodprobe_probes_total, no other reason), or,
//     for the controls ("_is_ok"), every run succeeded;
//   - that the agent kept running: the target was probed kMeasuredRuns more times after the
//     baseline, the process is alive at the end and answers /-/healthy;
//   - that memory returned to baseline: the VmRSS floor after those runs is within
//     kRssGrowthBoundKb of the floor after the first kWarmupRuns runs, and the open descriptors
//     too (kFdGrowthBound);
//   - case-specific facts where they pin down the fault (phase reached, negotiated version, the
//     run's detail on the landing page, requests the server saw per run).
//
// How it runs. FaultMatrixRun.RecordsOneAgentAgainstEveryFault (runMatrix()) starts the servers,
// runs the daemon and records what the cases assert on: /metrics after the warm-up and at the end,
// the landing page, VmRSS, access-log counts. ctest runs that test once as the FIXTURES_SETUP of
// the "fault_matrix" fixture with GOMODPROBE_FAULT_MATRIX_DIR set (tests/CMakeLists.txt); it writes
// the records there and each case, run by ctest in its own process, reads them. Run directly
// (gtest, no GOMODPROBE_FAULT_MATRIX_DIR) the cases run the matrix in-process once.
//
// Two agent generations share one --storage.path: generation 1 probes only the checksum-database
// targets whose database is then forked or rolled back, until each verified its tree; it is
// stopped, the databases are restarted with another history, and generation 2 (every target) must
// report the change as sumdb_inconsistent from its stored state. The measurements are generation
// 2's.
//
// Timing: interval 2 s, timeout 1.5 s (the 2-core CI machine is shared and often loaded: the
// controls, up to five TLS handshakes in a row, must not time out). ~35-45 s in all. Three times
// as long in the AddressSanitizer build (kTimeScale).

#include <arpa/inet.h>
#include <curl/curl.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>
#include <zlib.h>

#include <array>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iostream>
#include <map>
#include <memory>
#include <optional>
#include <regex>
#include <sstream>
#include <stdexcept>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include "integration/fixture.h"
#include "integration/go_fixture.h"
#include "integration/proxy_fixture.h"
#include "support/loopback.h"

namespace gomodprobe {
namespace {

namespace fs = std::filesystem;
using SteadyClock = std::chrono::steady_clock;
using testing::GoModFixture;
using testing::httpGet;
using testing::loopback;
using testing::NetFixture;
using testing::openFds;
using testing::procStatus;
using testing::ProxyVariant;
using testing::sample;
using testing::samples;
using testing::UniqueFd;
using testing::writeFile;

// ---- tuning -------------------------------------------------------------------------------------

/// The AddressSanitizer build (scripts/test-sanitizers.sh) runs an instrumented agent several
/// times slower: at load 10-14 its goproxy/sumdb runs (several TLS handshakes each) overran
/// 1.5 s. There the interval and timeout are three times as long, which makes the matrix ~65 s
/// longer (≈ 17 rounds × 4 s more; FaultMatrixRun under ASan measured 45 s → 112 s at load 2-3);
/// the normal tree keeps 2 s / 1.5 s (~41 s).
constexpr int kTimeScale = testing::kAddressSanitizer ? 3 : 1;
constexpr auto kIntervalDuration = std::chrono::seconds(2 * kTimeScale);
constexpr auto kTimeout = std::chrono::milliseconds(1500 * kTimeScale);
/// The dns_timeout case's own timeout: below c-ares' 3 s (1 s + 2 s per lookup, see
/// src/net/event_loop.cc) in every build, so that the probe's deadline, not c-ares, ends the
/// lookup to the silent resolver (detail "no answer before the deadline").
constexpr auto kDnsTimeoutCaseTimeout = std::chrono::milliseconds(1500);
/// Runs of every target before the RSS baseline: the first runs allocate what stays (TLS
/// contexts, c-ares channels, metric series, malloc arenas of the loop thread).
constexpr int kWarmupRuns = 3;
/// Runs of every target after the baseline (≈ 40 targets × 12 = ~500 runs, ~500 TLS handshakes).
constexpr int kMeasuredRuns = 12;
/// Allowed growth of the VmRSS floor (lowest sample over one interval, see floorsOver()) from the
/// baseline to the end, in KiB. Measured on the shared 2-core dev VM at load 10-12: floors of
/// 24.3-26.4 MiB, growth +0.25 to +0.65 MiB over the 12 measured rounds (4 runs), and flat
/// within ±0.2 MiB from round 8 to round 58 in a soak run (kMeasuredRuns = 55): allocator and
/// curl/OpenSSL state settling, not a leak. Single instant samples swing by ±2 MiB (handshakes
/// and zip buffers in flight), hence the floors. 2 MiB is 3× the largest growth seen and still
/// catches a leak of ~4 KiB per run (~480 runs are measured), e.g. a curl handle or TLS session
/// per failed run; a leaked spooled zip or socket shows in the descriptor count instead.
constexpr long kRssGrowthBoundKb = 2 * 1024;
/// Allowed growth of the open-descriptor floor (same windows): measured 0 (11 → 11 in every run);
/// a socket or spooled zip leaked per failing run would add hundreds.
constexpr long kFdGrowthBound = 4;
/// Deadline for a whole phase of the run (rounds at kIntervalDuration plus slack for load).
constexpr auto kPhaseSlack = std::chrono::seconds(60);
constexpr auto kPollInterval = std::chrono::milliseconds(100);

constexpr std::string_view kFaultModule = "example.test/fault";
constexpr std::string_view kFaultVersion = "v1.0.0";
constexpr std::string_view kQuote = "rsc.io/quote@v1.5.2";
constexpr std::string_view kSampler = "rsc.io/sampler@v1.3.0";

// ---- small helpers ------------------------------------------------------------------------------

[[noreturn]] void fail(const std::string& what) { throw std::runtime_error(what); }

long countLines(const std::string& path) {
  std::ifstream in(path);
  long n = 0;
  for (std::string line; std::getline(in, line);) ++n;
  return n;
}

/// The lowest VmRSS (KiB) and open-descriptor count seen over `window` (sampled every 50 ms): what
/// stays, without what runs in flight at one instant (handshakes, zip buffers, sockets).
struct Floors {
  long rss_kb = -1;
  long fds = -1;
};
Floors floorsOver(pid_t pid, std::chrono::milliseconds window) {
  Floors floors;
  const auto end = SteadyClock::now() + window;
  do {
    const long rss = procStatus(pid, "VmRSS");
    const long fds = openFds(pid);
    if (rss > 0 && (floors.rss_kb < 0 || rss < floors.rss_kb)) floors.rss_kb = rss;
    if (fds > 0 && (floors.fds < 0 || fds < floors.fds)) floors.fds = fds;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));  // sampling, not waiting
  } while (SteadyClock::now() < end);
  return floors;
}

/// A CLOEXEC socket bound to 127.0.0.1:0, listening with `backlog` when it is a stream socket.
UniqueFd boundSocket(int type, int backlog = 0) {
  UniqueFd fd(::socket(AF_INET, type | SOCK_CLOEXEC, 0));
  const sockaddr_in addr = loopback(0);
  if (fd.get() < 0 ||
      ::bind(fd.get(), reinterpret_cast<const sockaddr*>(&addr), sizeof(addr)) != 0) {
    fail("bind 127.0.0.1:0 failed");
  }
  if (type == SOCK_STREAM && ::listen(fd.get(), backlog) != 0) fail("listen failed");
  return fd;
}

uint16_t portOf(const UniqueFd& fd) {
  sockaddr_in addr{};
  socklen_t len = sizeof(addr);
  if (::getsockname(fd.get(), reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
    fail("getsockname failed");
  }
  return ntohs(addr.sin_port);
}

// ---- module zips --------------------------------------------------------------------------------
// Written by hand (local headers, central directory, end record; no data descriptors, no ZIP64:
// every size < 4 GiB), so that the declared sizes can be anything.

struct ZipEntry {
  std::string name;       // full name, "<module>@<version>/<file>"
  std::string data;       // raw deflate stream
  uint32_t crc = 0;       // of the uncompressed content
  uint32_t declared = 0;  // uncompressed size written in both headers
};

void put16(std::string& out, uint32_t v) {
  out += static_cast<char>(v & 0xffU);
  out += static_cast<char>((v >> 8U) & 0xffU);
}
void put32(std::string& out, uint32_t v) {
  put16(out, v & 0xffffU);
  put16(out, v >> 16U);
}

std::string buildZip(const std::vector<ZipEntry>& entries) {
  constexpr uint32_t kDeflate = 8;
  constexpr uint32_t kDosDate1980 = 0x21;  // 1980-01-01
  std::string out;
  std::string directory;
  for (const ZipEntry& e : entries) {
    const auto offset = static_cast<uint32_t>(out.size());
    auto header = [&](std::string& to, bool central) {
      put32(to, central ? 0x02014b50U : 0x04034b50U);
      if (central) put16(to, 20);  // version made by
      put16(to, 20);               // version needed
      put16(to, 0);                // flags
      put16(to, kDeflate);
      put16(to, 0);  // time
      put16(to, kDosDate1980);
      put32(to, e.crc);
      put32(to, static_cast<uint32_t>(e.data.size()));
      put32(to, e.declared);
      put16(to, static_cast<uint32_t>(e.name.size()));
      put16(to, 0);  // extra
      if (central) {
        put16(to, 0);  // comment
        put16(to, 0);  // disk
        put16(to, 0);  // internal attributes
        put32(to, 0);  // external attributes
        put32(to, offset);
      }
      to += e.name;
    };
    header(out, false);
    out += e.data;
    header(directory, true);
  }
  const auto directory_offset = static_cast<uint32_t>(out.size());
  out += directory;
  put32(out, 0x06054b50U);
  put16(out, 0);
  put16(out, 0);
  put16(out, static_cast<uint32_t>(entries.size()));
  put16(out, static_cast<uint32_t>(entries.size()));
  put32(out, static_cast<uint32_t>(directory.size()));
  put32(out, directory_offset);
  put16(out, 0);
  return out;
}

std::string deflateRaw(std::string_view data, int flush = Z_FINISH) {
  z_stream z{};
  if (deflateInit2(&z, Z_BEST_COMPRESSION, Z_DEFLATED, -15, 9, Z_DEFAULT_STRATEGY) != Z_OK) {
    fail("deflateInit2 failed");
  }
  std::string out(deflateBound(&z, static_cast<uLong>(data.size())) + 64, '\0');
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
  z.avail_in = static_cast<uInt>(data.size());
  z.next_out = reinterpret_cast<Bytef*>(out.data());
  z.avail_out = static_cast<uInt>(out.size());
  const int rc = deflate(&z, flush);
  const bool ok = flush == Z_FINISH ? rc == Z_STREAM_END : rc == Z_OK;
  out.resize(z.total_out);
  deflateEnd(&z);
  if (!ok) fail("deflate failed");
  return out;
}

std::string inflateRaw(std::string_view data) {
  z_stream z{};
  if (inflateInit2(&z, -15) != Z_OK) fail("inflateInit2 failed");
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
  z.avail_in = static_cast<uInt>(data.size());
  std::string out;
  std::array<char, 1 << 16> buf{};
  int rc = Z_OK;
  while (rc == Z_OK) {
    z.next_out = reinterpret_cast<Bytef*>(buf.data());
    z.avail_out = static_cast<uInt>(buf.size());
    rc = inflate(&z, Z_NO_FLUSH);
    out.append(buf.data(), buf.size() - z.avail_out);
  }
  inflateEnd(&z);
  if (rc != Z_STREAM_END) fail("inflate failed");
  return out;
}

constexpr std::size_t kMiB = std::size_t{1} << 20U;

/// A raw deflate stream of `mib` MiB of zeros, ~1 KiB per MiB: one MiB deflated with
/// Z_FULL_FLUSH (which resets the compressor and byte-aligns the output, so every further MiB
/// deflates to the same bytes) repeated, then an empty final block. Checked by inflating two.
std::string zerosDeflate(std::size_t mib) {
  static const std::string chunk = deflateRaw(std::string(kMiB, '\0'), Z_FULL_FLUSH);
  static const std::string last = deflateRaw("", Z_FINISH);
  static const bool checked = inflateRaw(chunk + chunk + last) == std::string(2 * kMiB, '\0');
  if (!checked) fail("the repeated deflate chunk does not inflate to zeros");
  std::string out;
  out.reserve(chunk.size() * mib + last.size());
  for (std::size_t i = 0; i < mib; ++i) out += chunk;
  return out + last;
}

uint32_t zerosCrc(std::size_t bytes) {
  static const std::string mib(kMiB, '\0');
  const uLong one = crc32(0L, reinterpret_cast<const Bytef*>(mib.data()), kMiB);
  uLong crc = crc32(0L, Z_NULL, 0);
  std::size_t left = bytes;
  for (; left >= kMiB; left -= kMiB) crc = crc32_combine(crc, one, static_cast<z_off_t>(kMiB));
  if (left > 0) crc = crc32(crc, reinterpret_cast<const Bytef*>(mib.data()), left);
  return static_cast<uint32_t>(crc);
}

ZipEntry fileEntry(const std::string& name, std::string_view content) {
  return {name, deflateRaw(content),
          static_cast<uint32_t>(
              crc32(0L, reinterpret_cast<const Bytef*>(content.data()), content.size())),
          static_cast<uint32_t>(content.size())};
}

ZipEntry zerosEntry(const std::string& name, std::size_t mib) {
  return {name, zerosDeflate(mib), zerosCrc(mib * kMiB), static_cast<uint32_t>(mib * kMiB)};
}

// ---- checksum database restarted behind the agent -----------------------------------------------

/// A second sumdb helper (the GoModFixture's own one serves the fork case): same name, seed and
/// so key as the fixture's, on a socket bound once, so that its URL survives restarts.
class ExtraSumdb {
 public:
  ExtraSumdb(GoModFixture& go, std::string name) : go_(go), name_(std::move(name)) {
    socket_ = boundSocket(SOCK_STREAM, SOMAXCONN);
    port_ = portOf(socket_);
  }
  [[nodiscard]] std::string url() const { return "http://127.0.0.1:" + std::to_string(port_); }
  [[nodiscard]] const std::string& key() const { return key_; }

  /// (Re)starts the helper with `preload` looked up in that order before it serves.
  void start(const std::vector<std::string>& preload) {
    if (pid_ > 0) go_.net().stopChild(pid_);
    ++instance_;
    const std::string log = go_.dir() + "/" + name_ + "-" + std::to_string(instance_) + ".log";
    const std::string key_file = go_.dir() + "/" + name_ + "-key.txt";
    fs::remove(key_file);
    std::string joined;
    for (const auto& m : preload) joined += (joined.empty() ? "" : ",") + m;
    pid_ = go_.net().startChild(
        name_, log,
        {GoModFixture::helperBinary(), "sumdb", "-name", go_.sumdbName(), "-gosum",
         go_.treeDir(ProxyVariant::kGood) + "/gosum.txt", "-listen-fd",
         std::to_string(socket_.get()), "-key-out", key_file, "-seed",
         std::to_string(GoModFixture::kDefaultSeed), "-preload", joined},
        {socket_.get()});
    const auto deadline = SteadyClock::now() + std::chrono::seconds(10);
    while (testing::readFile(log).find("listening on") == std::string::npos) {
      if (go_.net().childExited(pid_) || SteadyClock::now() > deadline) {
        fail(name_ + " did not start" + testing::logTail(log));
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    key_ = testing::readFile(key_file);
    while (!key_.empty() && (key_.back() == '\n' || key_.back() == '\r')) key_.pop_back();
  }

 private:
  GoModFixture& go_;
  std::string name_;
  UniqueFd socket_;
  uint16_t port_ = 0;
  pid_t pid_ = -1;
  int instance_ = 0;
  std::string key_;
};

// ---- the servers --------------------------------------------------------------------------------

/// Everything the agent probes: the GoModFixture (its NetFixture: nginx with the test CA, two
/// dnsmasq, refused and hanging ports; the Go proxy trees and the sumdb helper) plus
///   - a "faults" nginx server (TLS, h2): status codes, 444, headers never sent (reverse proxy to
///     a listener that never accepts), a body trickled at 1 KiB/s, and the fake module proxy
///     /fp/<variant>/ (example.test/fault@v1.0.0, one tree per fault); the same on cleartext;
///   - a TLS 1.0-only nginx server; a server whose leaf comes from an intermediate CA it does not
///     send, and one that sends the whole chain (control);
///   - a listener with a full accept queue (backlog 0 plus one queued connection: the kernel drops
///     every further SYN), a UDP "resolver" that never answers;
///   - a second sumdb helper (rollback case) and a tinyproxy that refuses every CONNECT.
class FaultWorld {
 public:
  void start() {
    go_ = std::make_unique<GoModFixture>();
    dir_ = go_->dir();
    makeChain();
    writeFaultProxy();
    writeFile(dir_ + "/fault-www/trickle", std::string(64 * 1024, 't'));

    never_accepting_ = boundSocket(SOCK_STREAM, SOMAXCONN);
    syn_drop_ = boundSocket(SOCK_STREAM, 0);
    syn_drop_filler_ = UniqueFd(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
    const sockaddr_in filler = loopback(portOf(syn_drop_));
    if (::connect(syn_drop_filler_.get(), reinterpret_cast<const sockaddr*>(&filler),
                  sizeof(filler)) != 0) {
      fail("cannot fill the accept queue");
    }
    silent_udp_ = boundSocket(SOCK_DGRAM);

    NetFixture& net = go_->net();
    faults_index_ = net.addNginxServer({.tls = true, .http2 = true, .directives = faultsServer()});
    plain_faults_index_ =
        net.addNginxServer({.tls = false, .http2 = false, .directives = faultsServer()});
    tls10_index_ = net.addNginxServer(
        {.tls = true,
         .http2 = false,
         .directives = "    ssl_protocols TLSv1;\n    ssl_ciphers DEFAULT@SECLEVEL=0;\n"
                       "    location / { return 200 ok; }"});
    missing_intermediate_index_ =
        net.addNginxServer({.tls = true,
                            .http2 = true,
                            .directives = "    location / { return 200 ok; }",
                            .certificate = dir_ + "/chain/leaf.pem",
                            .certificate_key = dir_ + "/chain/leaf.key"});
    full_chain_index_ = net.addNginxServer({.tls = true,
                                            .http2 = true,
                                            .directives = "    location / { return 200 ok; }",
                                            .certificate = dir_ + "/chain/fullchain.pem",
                                            .certificate_key = dir_ + "/chain/leaf.key"});
    go_->start();

    proxy_ = testing::startTinyproxy(net, "refuse", {});
    rollback_ = std::make_unique<ExtraSumdb>(*go_, "sumdb-rollback");
    checkTls10Server();
  }

  GoModFixture& go() { return *go_; }
  [[nodiscard]] const GoModFixture& go() const { return *go_; }
  [[nodiscard]] const NetFixture& net() const { return go_->net(); }
  [[nodiscard]] const std::string& dir() const { return dir_; }
  ExtraSumdb& rollback() { return *rollback_; }
  [[nodiscard]] const ExtraSumdb& rollback() const { return *rollback_; }

  [[nodiscard]] uint16_t faultsPort() const { return net().extraNginxPort(faults_index_); }
  [[nodiscard]] uint16_t tls10Port() const { return net().extraNginxPort(tls10_index_); }
  [[nodiscard]] uint16_t missingIntermediatePort() const {
    return net().extraNginxPort(missing_intermediate_index_);
  }
  [[nodiscard]] uint16_t fullChainPort() const { return net().extraNginxPort(full_chain_index_); }
  [[nodiscard]] uint16_t synDropPort() const { return portOf(syn_drop_); }
  [[nodiscard]] uint16_t silentResolverPort() const { return portOf(silent_udp_); }
  [[nodiscard]] std::string chainRoot() const { return dir_ + "/chain/root.pem"; }
  [[nodiscard]] std::string proxyUrl() const { return proxy_.url(); }
  [[nodiscard]] std::string accessLog(std::string_view name) const {
    return dir_ + "/access-" + std::string(name) + ".log";
  }
  /// https://good.test:<faults port>
  [[nodiscard]] std::string faults() const {
    return "https://good.test:" + std::to_string(faultsPort());
  }
  /// The fake module proxy of one variant; `tls` false: the same on a cleartext server.
  [[nodiscard]] std::string faultProxy(std::string_view variant, bool tls = true) const {
    const std::string base =
        tls ? faults()
            : "http://good.test:" + std::to_string(net().extraNginxPort(plain_faults_index_));
    return base + "/fp/" + std::string(variant);
  }

 private:
  std::string faultsServer() const {
    const std::string hang = std::to_string(portOf(never_accepting_));
    std::string d;
    d += "    absolute_redirect off;\n";
    d += "    location = /404 { return 404; }\n";
    d += "    location = /410 { return 410; }\n";
    d += "    location = /502 { return 502; }\n";
    d += "    location = /503 { access_log " + accessLog("503") + "; return 503; }\n";
    d += "    location = /444 { access_log " + accessLog("444") + "; return 444; }\n";
    d += "    location = /headers-never-sent {\n      proxy_pass http://127.0.0.1:" + hang +
         ";\n      proxy_read_timeout 1h;\n      proxy_send_timeout 1h;\n    }\n";
    d += "    location = /trickle {\n      root " + dir_ +
         "/fault-www;\n      default_type application/octet-stream;\n      limit_rate 1k;\n"
         "    }\n";
    d += "    location ~ ^/fp/gone/.*\\.(info|mod|zip)$ { return 410; }\n";
    d += "    location ~ ^/fp/missing/.*\\.(info|mod|zip)$ { return 404; }\n";
    d += "    location ~ ^/fp/loop/.*\\.info$ { return 302 $uri; }\n";
    d += "    location ~ ^/fp/close/.*\\.zip$ { access_log " + accessLog("zip-444") +
         "; return 444; }\n";
    d += "    location /fp/ { root " + dir_ + "; default_type application/octet-stream; }\n";
    d += "    location / { return 404; }";
    return d;
  }

  /// root → intermediate → leaf (SANs good.test, 127.0.0.1), with openssl like the NetFixture.
  void makeChain() const {
    const std::string d = dir_ + "/chain";
    fs::create_directories(d);
    writeFile(d + "/ext.cnf",
              "[req]\ndistinguished_name=dn\nprompt=no\n[dn]\nCN=unused\n"
              "[ca]\nbasicConstraints=critical,CA:TRUE\nkeyUsage=critical,keyCertSign,cRLSign\n"
              "subjectKeyIdentifier=hash\n"
              "[inter]\nbasicConstraints=critical,CA:TRUE,pathlen:0\n"
              "keyUsage=critical,keyCertSign,cRLSign\nsubjectKeyIdentifier=hash\n"
              "authorityKeyIdentifier=keyid\n"
              "[leaf]\nbasicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature\n"
              "extendedKeyUsage=serverAuth\nsubjectKeyIdentifier=hash\n"
              "authorityKeyIdentifier=keyid\nsubjectAltName=DNS:good.test,IP:127.0.0.1\n");
    const std::string openssl = NetFixture::findExecutable("openssl");
    if (openssl.empty()) fail("openssl not found");
    const std::string req = openssl +
                            " req -config ext.cnf -newkey ec -pkeyopt "
                            "ec_paramgen_curve:P-256 -nodes";
    const std::string sign = openssl + " x509 -req -extfile ext.cnf";
    const std::string script =
        "(set -e; cd " + d + "; " + req +
        " -x509 -extensions ca -days 3650 -subj /CN=fault-root -keyout root.key -out root.pem; " +
        req + " -subj /CN=fault-intermediate -keyout inter.key -out inter.csr; " + sign +
        " -extensions inter -days 3650 -set_serial 2 -CA root.pem -CAkey root.key"
        " -in inter.csr -out inter.pem; " +
        req + " -subj /CN=good.test -keyout leaf.key -out leaf.csr; " + sign +
        " -extensions leaf -days 90 -set_serial 3 -CA inter.pem -CAkey inter.key"
        " -in leaf.csr -out leaf.pem; " +
        "cat leaf.pem inter.pem > fullchain.pem)";
    const auto r = testing::runCommand(script);
    if (r.exit_code != 0) fail("cannot make the certificate chain: " + r.output);
  }

  /// /fp/<variant>/example.test/fault/@v/{list,v1.0.0.info,.mod,.zip}.
  void writeFaultProxy() const {
    const std::string prefix = std::string(kFaultModule) + "@" + std::string(kFaultVersion) + "/";
    const std::string go_mod = "module " + std::string(kFaultModule) + "\n";
    const std::string info = R"({"Version":"v1.0.0","Time":"2024-01-02T03:04:05Z"})";
    const std::string good_zip = buildZip(
        {fileEntry(prefix + "go.mod", go_mod), fileEntry(prefix + "fault.go", "package fault\n")});
    auto variant = [&](const std::string& name, const std::string& zip,
                       const std::string& info_json) {
      const std::string at = dir_ + "/fp/" + name + "/" + std::string(kFaultModule) + "/@v/";
      writeFile(at + "list", std::string(kFaultVersion) + "\n");
      writeFile(at + std::string(kFaultVersion) + ".info", info_json);
      writeFile(at + std::string(kFaultVersion) + ".mod", go_mod);
      writeFile(at + std::string(kFaultVersion) + ".zip", zip);
    };
    for (const char* name : {"good", "gone", "missing", "loop", "close"}) {
      variant(name, good_zip, info);
    }
    variant("truncated", good_zip.substr(0, good_zip.size() / 2), info);
    // 1 GiB of zeros in one file, ~1 MiB on the wire: over zip.MaxZipFile (500 MiB) by itself.
    variant(
        "bomb",
        buildZip({fileEntry(prefix + "go.mod", go_mod), zerosEntry(prefix + "zeros.txt", 1024)}),
        info);
    // Six files of 100 MiB: each fine, together 600 MiB declared in the central directory.
    std::vector<ZipEntry> parts = {fileEntry(prefix + "go.mod", go_mod)};
    for (int i = 0; i < 6; ++i)
      parts.push_back(zerosEntry(prefix + "part" + std::to_string(i) + ".txt", 100));
    variant("huge", buildZip(parts), info);
    // go.mod of 64 MiB (zip.MaxGoMod is 16 MiB).
    variant("gomodbomb", buildZip({zerosEntry(prefix + "go.mod", 64)}), info);
    // A file declared as 1 KiB whose data inflates to 1 MiB (both headers say 1 KiB).
    ZipEntry liar = zerosEntry(prefix + "fault.go", 1);
    liar.declared = 1024;
    liar.crc = zerosCrc(1024);
    variant("inflate", buildZip({fileEntry(prefix + "go.mod", go_mod), liar}), info);
    variant("badinfo", good_zip, R"({"Version":"v1.0.0","Time":)");
    variant("wrongversion", good_zip, R"({"Version":"v1.0.1","Time":"2024-01-02T03:04:05Z"})");
  }

  /// The TLS 1.0 server must really speak TLS 1.0 (not merely fail): a client allowed TLS 1.0
  /// at security level 0 gets it.
  void checkTls10Server() const {
    const std::string openssl = NetFixture::findExecutable("openssl");
    const auto r = testing::runCommand(
        openssl + " s_client -connect 127.0.0.1:" + std::to_string(tls10Port()) +
        " -tls1 -cipher DEFAULT@SECLEVEL=0 </dev/null 2>&1");
    if (r.output.find("Protocol  : TLSv1\n") == std::string::npos) {
      fail("the TLS 1.0 server does not speak TLS 1.0: " + r.output);
    }
  }

  std::unique_ptr<GoModFixture> go_;
  std::string dir_;
  std::size_t faults_index_ = 0;
  std::size_t plain_faults_index_ = 0;
  std::size_t tls10_index_ = 0;
  std::size_t missing_intermediate_index_ = 0;
  std::size_t full_chain_index_ = 0;
  UniqueFd never_accepting_;
  UniqueFd syn_drop_;
  UniqueFd syn_drop_filler_;
  UniqueFd silent_udp_;
  testing::Tinyproxy proxy_;
  std::unique_ptr<ExtraSumdb> rollback_;
};

// ---- the case table -----------------------------------------------------------------------------

struct MatrixResults;

struct FaultCase {
  std::string_view name;    ///< target name; the test is "<name>_is_<reason or ok>"
  std::string_view reason;  ///< the reason label every run must fail with; "" = every run succeeds
  std::string_view kind;
  /// The target's YAML after "kind:" (4-space indented keys).
  std::string (*yaml)(const FaultWorld&);
  /// Substring of the last run's detail (landing page, HTML-escaped); "" = not checked.
  std::string_view detail = "";
  /// Access log (FaultWorld::accessLog name) whose lines count requests of this target, and how
  /// many each run must make: exactly that many, never a retry.
  std::string_view counted_log = "";
  int requests_per_run = 0;
  /// Also probed by agent generation 1 (checksum databases changed before generation 2).
  bool before_restart = false;
  /// More assertions on the records.
  void (*extra)(const FaultCase&, const MatrixResults&) = nullptr;
};

std::ostream& operator<<(std::ostream& out, const FaultCase& c) {
  return out << c.name << " -> " << (c.reason.empty() ? "ok" : c.reason);
}

std::string q(const std::string& s) { return "\"" + s + "\""; }
std::string url(const std::string& u) { return "    url: " + u + "\n"; }
std::string https(const std::string& host, uint16_t port) {
  return "https://" + host + ":" + std::to_string(port);
}
std::string faultModule(const FaultWorld& w, std::string_view variant, bool tls = true) {
  return url(w.faultProxy(variant, tls)) + "    path: /" + std::string(kFaultModule) +
         "/@v/list\n    modules: [" + std::string(kFaultModule) + "@" + std::string(kFaultVersion) +
         "]\n";
}
std::string sumdbTarget(const std::string& base, const std::string& key,
                        const std::vector<std::string_view>& modules) {
  std::string list;
  for (const auto m : modules) list += (list.empty() ? "" : ", ") + std::string(m);
  return url(base) + "    key: " + q(key) + "\n    modules: [" + list + "]\n";
}

// Case-specific assertions (defined after MatrixResults).
void expectNoPhase(const FaultCase& c, const MatrixResults& r, std::string_view phase);
void expectTlsButNoProcessing(const FaultCase& c, const MatrixResults& r);
void expectProcessingButNoTransfer(const FaultCase& c, const MatrixResults& r);
void expectNegotiatedHttp11(const FaultCase& c, const MatrixResults& r);
void expectResolversDisagree(const FaultCase& c, const MatrixResults& r);
void expectSignatureInvalid(const FaultCase& c, const MatrixResults& r);
void expectSignedButInconsistent(const FaultCase& c, const MatrixResults& r);
void expectHashMismatch(const FaultCase& c, const MatrixResults& r);
void expectThroughProxy(const FaultCase& c, const MatrixResults& r);

const std::vector<FaultCase>& faultCases() {
  static const std::vector<FaultCase> cases = {
      // ---- DNS ----------------------------------------------------------------------------------
      {.name = "dns_nxdomain",
       .reason = "dns_nxdomain",
       .kind = "http",
       .yaml = [](const FaultWorld& w) { return url(https("nothere.test", w.net().h2Port())); },
       .detail = "Domain name not found"},
      {.name = "dns_servfail",
       .reason = "dns_servfail",
       .kind = "http",
       .yaml = [](const FaultWorld& w) { return url(https("servfail.test", w.net().h2Port())); },
       .detail = "DNS server returned general failure"},
      {.name = "dns_timeout",
       .reason = "dns_timeout",
       .kind = "http",
       .yaml =
           [](const FaultWorld& w) {
             return url(https("good.test", w.net().h2Port())) + "    resolvers: [" +
                    q("127.0.0.1:" + std::to_string(w.silentResolverPort())) + "]\n" +
                    "    timeout: " + std::to_string(kDnsTimeoutCaseTimeout.count()) + "ms\n";
           },
       .detail = "no answer before the deadline"},
      {.name = "dns_resolvers_disagree",
       .reason = "dns_error",
       .kind = "dns",
       .yaml =
           [](const FaultWorld& w) {
             return "    names: [split.test]\n    record_types: [A]\n    resolvers: [" +
                    q(w.net().dnsPrimary()) + ", " + q(w.net().dnsSecondary()) + "]\n";
           },
       .detail = "resolvers disagree on split.test",
       .extra = &expectResolversDisagree},
      // ---- TCP ----------------------------------------------------------------------------------
      {.name = "connect_refused",
       .reason = "connect_refused",
       .kind = "http",
       .yaml = [](const FaultWorld& w) { return url(https("good.test", w.net().refusedPort())); },
       .detail = "Failed to connect to good.test"},
      // Accept queue full (listen backlog 0 plus one queued connection): the SYN is dropped.
      {.name = "connect_syn_dropped_full_backlog",
       .reason = "connect_timeout",
       .kind = "http",
       .yaml = [](const FaultWorld& w) { return url(https("good.test", w.synDropPort())); },
       .detail = "deadline exceeded",
       .extra = [](const FaultCase& c, const MatrixResults& r) { expectNoPhase(c, r, "connect"); }},
      // The kernel completes the handshake (listening, never accepted); TLS never starts.
      {.name = "black_hole_accepts_never_answers",
       .reason = "timeout",
       .kind = "http",
       .yaml = [](const FaultWorld& w) { return url(https("good.test", w.net().hangPort())); },
       .detail = "deadline exceeded",
       .extra = [](const FaultCase& c, const MatrixResults& r) { expectNoPhase(c, r, "tls"); }},
      // ---- TLS ----------------------------------------------------------------------------------
      {.name = "tls_expired",
       .reason = "tls_cert_expired",
       .kind = "http",
       .yaml = [](const FaultWorld& w) { return url(https("good.test", w.net().expiredPort())); },
       .detail = "certificate has expired"},
      {.name = "tls_untrusted",
       .reason = "tls_cert_untrusted",
       .kind = "http",
       .yaml = [](const FaultWorld& w) { return url(https("good.test", w.net().unknownCaPort())); },
       .detail = "unable to get local issuer certificate"},
      {.name = "tls_wrong_host",
       .reason = "tls_hostname_mismatch",
       .kind = "http",
       .yaml = [](const FaultWorld& w) { return url(https("good.test", w.net().wrongHostPort())); },
       .detail = "no alternative certificate subject name matches"},
      // The leaf is signed by an intermediate the server does not send (the root is trusted);
      // control_tls_full_chain is the same server sending leaf + intermediate.
      {.name = "tls_missing_intermediate",
       .reason = "tls_cert_untrusted",
       .kind = "http",
       .yaml =
           [](const FaultWorld& w) {
             return url(https("good.test", w.missingIntermediatePort())) +
                    "    ca_file: " + w.chainRoot() + "\n";
           },
       .detail = "unable to get local issuer certificate"},
      {.name = "control_tls_full_chain",
       .kind = "http",
       .yaml =
           [](const FaultWorld& w) {
             return url(https("good.test", w.fullChainPort())) + "    ca_file: " + w.chainRoot() +
                    "\n";
           }},
      {.name = "tls_1_0_only_server",
       .reason = "tls_handshake",
       .kind = "http",
       .yaml = [](const FaultWorld& w) { return url(https("good.test", w.tls10Port())); },
       .detail = "alert protocol version"},
      // Documented behaviour, not a failure: HTTP/2 is offered over ALPN and what the server
      // spoke is recorded (README "How a run works", alert GoModProbeHTTP2NotNegotiated).
      {.name = "h2_only_target_server_without_h2",
       .kind = "http",
       .yaml =
           [](const FaultWorld& w) {
             return url(https("good.test", w.net().h1OnlyPort())) + "    http_versions: [\"2\"]\n";
           },
       .extra = &expectNegotiatedHttp11},
      // The same server when the target requires HTTP/2: a failure, with what was spoken still
      // recorded (blackbox_exporter's valid_http_versions: ["HTTP/2.0"]).
      {.name = "h2_required_server_without_h2",
       .reason = "http_version",
       .kind = "http",
       .yaml =
           [](const FaultWorld& w) {
             return url(https("good.test", w.net().h1OnlyPort())) +
                    "    http_versions: [\"2\"]\n    require_http2: true\n";
           },
       .detail = "HTTP/2 required (require_http2), the server spoke HTTP/1.1",
       .extra = &expectNegotiatedHttp11},
      // ---- HTTP ---------------------------------------------------------------------------------
      {.name = "http_404",
       .reason = "http_status",
       .kind = "http",
       .yaml = [](const FaultWorld& w) { return url(w.faults()) + "    path: /404\n"; },
       .detail = "HTTP 404"},
      {.name = "http_410",
       .reason = "http_status",
       .kind = "http",
       .yaml = [](const FaultWorld& w) { return url(w.faults()) + "    path: /410\n"; },
       .detail = "HTTP 410"},
      {.name = "http_502",
       .reason = "http_status",
       .kind = "http",
       .yaml = [](const FaultWorld& w) { return url(w.faults()) + "    path: /502\n"; },
       .detail = "HTTP 502"},
      {.name = "http_503",
       .reason = "http_status",
       .kind = "http",
       .yaml = [](const FaultWorld& w) { return url(w.faults()) + "    path: /503\n"; },
       .detail = "HTTP 503",
       .counted_log = "503",
       .requests_per_run = 2},
      {.name = "goproxy_404",
       .reason = "not_found",
       .kind = "goproxy",
       .yaml = [](const FaultWorld& w) { return faultModule(w, "missing"); },
       .detail = "info: HTTP 404"},
      {.name = "goproxy_410",
       .reason = "not_found",
       .kind = "goproxy",
       .yaml = [](const FaultWorld& w) { return faultModule(w, "gone"); },
       .detail = "info: HTTP 410"},
      // .info redirects to itself; module fetches follow redirects as the go command does. On
      // cleartext HTTP: each hop is a fresh connection, and eleven TLS handshakes in a row do
      // not always fit the timeout on a loaded 2-core machine.
      {.name = "goproxy_redirect_loop",
       .reason = "http_protocol",
       .kind = "goproxy",
       .yaml = [](const FaultWorld& w) { return faultModule(w, "loop", /*tls=*/false); },
       .detail = "info: Maximum (10) redirects followed"},
      // nginx proxies to a listener that never accepts: TLS done, request sent, no header.
      {.name = "headers_never_sent",
       .reason = "timeout",
       .kind = "http",
       .yaml =
           [](const FaultWorld& w) { return url(w.faults()) + "    path: /headers-never-sent\n"; },
       .detail = "deadline exceeded",
       .extra = &expectTlsButNoProcessing},
      // 64 KiB at 1 KiB/s (nginx limit_rate).
      {.name = "body_trickled_past_timeout",
       .reason = "timeout",
       .kind = "http",
       .yaml = [](const FaultWorld& w) { return url(w.faults()) + "    path: /trickle\n"; },
       .detail = "deadline exceeded",
       .extra = &expectProcessingButNoTransfer},
      // nginx `return 444`: the connection closes without a response. One request per requested
      // HTTP version and run, never a retry (blackbox_exporter #1453).
      {.name = "server_closes_without_response_444",
       .reason = "http_protocol",
       .kind = "http",
       .yaml = [](const FaultWorld& w) { return url(w.faults()) + "    path: /444\n"; },
       .detail = "Empty reply from server",
       .counted_log = "444",
       .requests_per_run = 2},
      {.name = "goproxy_zip_closed_without_response_444",
       .reason = "http_protocol",
       .kind = "goproxy",
       .yaml = [](const FaultWorld& w) { return faultModule(w, "close"); },
       .detail = "zip: Empty reply from server",
       .counted_log = "zip-444",
       .requests_per_run = 1},
      // ---- module zips, .info -------------------------------------------------------------------
      // The fault module as it should be: the variants below fail for their fault only.
      {.name = "control_goproxy_fault_module",
       .kind = "goproxy",
       .yaml = [](const FaultWorld& w) { return faultModule(w, "good"); }},
      {.name = "zip_truncated",
       .reason = "zip_invalid",
       .kind = "goproxy",
       .yaml = [](const FaultWorld& w) { return faultModule(w, "truncated"); },
       .detail = "zip: not a zip file"},
      // GoModFixture's tampered tree: one file of rsc.io/quote@v1.5.2 changed; go_sum pins the
      // real hash.
      {.name = "zip_tampered",
       .reason = "checksum_mismatch",
       .kind = "goproxy",
       .yaml =
           [](const FaultWorld& w) {
             const std::string module(kQuote.substr(0, kQuote.find('@')));
             const std::string version(kQuote.substr(kQuote.find('@') + 1));
             return url(w.go().proxyUrl(ProxyVariant::kTamperedZip)) +
                    "    path: /rsc.io/quote/@v/list\n    modules: [" + std::string(kQuote) +
                    "]\n    go_sum: [" +
                    q(module + " " + version + " " + w.go().gosumHash(kQuote)) + "]\n";
           },
       .detail = "go.sum has",
       .extra = &expectHashMismatch},
      // 1 GiB of zeros in one file (honest sizes), ~1 MiB on the wire.
      {.name = "zip_bomb_1gib_declared",
       .reason = "zip_invalid",
       .kind = "goproxy",
       .yaml = [](const FaultWorld& w) { return faultModule(w, "bomb"); },
       .detail = "total uncompressed size of module contents too large"},
      // Six files of 100 MiB: each fine, 600 MiB together (~0.6 MiB on the wire).
      {.name = "zip_over_500mib_in_central_directory",
       .reason = "zip_invalid",
       .kind = "goproxy",
       .yaml = [](const FaultWorld& w) { return faultModule(w, "huge"); },
       .detail = "total uncompressed size of module contents too large"},
      {.name = "zip_gomod_over_16mib",
       .reason = "zip_invalid",
       .kind = "goproxy",
       .yaml = [](const FaultWorld& w) { return faultModule(w, "gomodbomb"); },
       .detail = "go.mod file too large"},
      // Both headers declare 1 KiB; the data inflates to 1 MiB.
      {.name = "zip_inflates_past_declared_size",
       .reason = "zip_invalid",
       .kind = "goproxy",
       .yaml = [](const FaultWorld& w) { return faultModule(w, "inflate"); },
       .detail = "inflates past its declared size of 1024 bytes"},
      {.name = "info_invalid_json",
       .reason = "protocol",
       .kind = "goproxy",
       .yaml = [](const FaultWorld& w) { return faultModule(w, "badinfo"); },
       .detail = "info: not a JSON object"},
      {.name = "info_wrong_version",
       .reason = "protocol",
       .kind = "goproxy",
       .yaml = [](const FaultWorld& w) { return faultModule(w, "wrongversion"); },
       .detail = "info: Version v1.0.1 does not match v1.0.0"},
      // ---- checksum database --------------------------------------------------------------------
      // On the forked database (generation 2 only: no earlier state), signed by the right key.
      {.name = "control_sumdb",
       .kind = "sumdb",
       .yaml =
           [](const FaultWorld& w) {
             return sumdbTarget(w.go().sumdbDirectUrl(), w.go().sumdbKey(), {kQuote, kSampler});
           }},
      {.name = "sumdb_bad_signature",
       .reason = "sumdb_signature",
       .kind = "sumdb",
       .yaml =
           [](const FaultWorld& w) {
             return sumdbTarget(w.go().sumdbDirectUrl(), w.go().wrongSumdbKey(), {kQuote});
           },
       .detail = "no verifiable signatures",
       .extra = &expectSignatureInvalid},
      // Generation 1 stored the tree (quote, sampler); then the same records in the other order.
      {.name = "sumdb_fork_across_restart",
       .reason = "sumdb_inconsistent",
       .kind = "sumdb",
       .yaml =
           [](const FaultWorld& w) {
             return sumdbTarget(w.go().sumdbDirectUrl(), w.go().sumdbKey(), {kQuote, kSampler});
           },
       .detail = "seen before is not a prefix of tree",
       .before_restart = true,
       .extra = &expectSignedButInconsistent},
      // Generation 1 stored the tree (quote, sampler); then a tree of size 1, (sampler), whose
      // proof against the larger tree cannot be fetched (404).
      {.name = "sumdb_rollback_across_restart",
       .reason = "sumdb_inconsistent",
       .kind = "sumdb",
       .yaml =
           [](const FaultWorld& w) {
             return sumdbTarget(w.rollback().url(), w.rollback().key(), {kSampler});
           },
       .detail = "rollback: tile",
       .before_restart = true,
       .extra = &expectSignedButInconsistent},
      // ---- proxies ------------------------------------------------------------------------------
      {.name = "proxy_refuses_connect",
       .reason = "proxy_error",
       .kind = "http",
       .yaml =
           [](const FaultWorld& w) {
             return url(https("127.0.0.1", w.net().h2Port())) + "    proxy_url: " + w.proxyUrl() +
                    "\n";
           },
       .detail = "refused CONNECT: HTTP 403",
       .extra = &expectThroughProxy},
      {.name = "control_https",
       .kind = "http",
       .yaml = [](const FaultWorld& w) { return url(https("good.test", w.net().h2Port())); }},
  };
  return cases;
}

// ---- the run ------------------------------------------------------------------------------------

struct MatrixResults {
  std::string metrics_warm;         ///< after kWarmupRuns runs of every target
  std::string metrics_final;        ///< after kWarmupRuns + kMeasuredRuns
  std::string metrics_after_count;  ///< right after the access logs were counted
  std::string landing_page;         ///< "/" at the end (details of the last runs)
  long rss_warm_kb = -1;
  long rss_final_kb = -1;
  long hwm_kb = -1;
  long fds_warm = -1;   ///< open descriptors at the baseline
  long fds_final = -1;  ///< and at the end
  bool alive = false;   ///< the process had not exited at the end
  long healthy_status = 0;
  double seconds = 0;                    ///< whole matrix, fixture start included
  std::map<std::string, long> requests;  ///< access log → lines
};

void saveResults(const MatrixResults& r, const std::string& dir) {
  fs::remove_all(dir);
  fs::create_directories(dir);
  writeFile(dir + "/metrics-warm.txt", r.metrics_warm);
  writeFile(dir + "/metrics-final.txt", r.metrics_final);
  writeFile(dir + "/metrics-after-count.txt", r.metrics_after_count);
  writeFile(dir + "/landing.html", r.landing_page);
  std::ostringstream s;
  s << "rss_warm_kb " << r.rss_warm_kb << "\nrss_final_kb " << r.rss_final_kb << "\nhwm_kb "
    << r.hwm_kb << "\nfds_warm " << r.fds_warm << "\nfds_final " << r.fds_final << "\nalive "
    << (r.alive ? 1 : 0) << "\nhealthy_status " << r.healthy_status << "\nseconds " << r.seconds
    << "\n";
  for (const auto& [log, n] : r.requests) s << "requests " << log << " " << n << "\n";
  writeFile(dir + "/summary.txt", s.str());
  writeFile(dir + "/complete", "1\n");  // written last: the records are whole
}

std::optional<MatrixResults> loadResults(const std::string& dir) {
  if (!fs::exists(dir + "/complete")) return std::nullopt;
  MatrixResults r;
  r.metrics_warm = testing::readFile(dir + "/metrics-warm.txt");
  r.metrics_final = testing::readFile(dir + "/metrics-final.txt");
  r.metrics_after_count = testing::readFile(dir + "/metrics-after-count.txt");
  r.landing_page = testing::readFile(dir + "/landing.html");
  std::istringstream in(testing::readFile(dir + "/summary.txt"));
  for (std::string key; in >> key;) {
    if (key == "requests") {
      std::string log;
      long n = 0;
      in >> log >> n;
      r.requests[log] = n;
      continue;
    }
    double value = 0;
    in >> value;
    if (key == "rss_warm_kb") r.rss_warm_kb = static_cast<long>(value);
    if (key == "rss_final_kb") r.rss_final_kb = static_cast<long>(value);
    if (key == "hwm_kb") r.hwm_kb = static_cast<long>(value);
    if (key == "fds_warm") r.fds_warm = static_cast<long>(value);
    if (key == "fds_final") r.fds_final = static_cast<long>(value);
    if (key == "alive") r.alive = value != 0;
    if (key == "healthy_status") r.healthy_status = static_cast<long>(value);
    if (key == "seconds") r.seconds = value;
  }
  return r;
}

std::string probesSeries(const FaultCase& c) {
  return "gomodprobe_probes_total{target=\"" + std::string(c.name) + "\",kind=\"" +
         std::string(c.kind) + "\"}";
}

/// The agent as a supervised child of the fixture (own process group, killed with this process).
class Agent {
 public:
  Agent(NetFixture& net, const std::string& binary, const std::string& config,
        const std::string& storage, const std::string& log)
      : net_(net), log_(log) {
    pid_ = net.startChild("gomodprobe", log,
                          {binary, "--config.file", config, "--web.listen-address", "127.0.0.1:0",
                           "--storage.path", storage, "--log.level", "info"});
    const std::regex port_re("\\(port ([0-9]+)\\)");
    const auto deadline = SteadyClock::now() + std::chrono::seconds(10);
    for (;;) {
      std::smatch m;
      const std::string text = testing::readFile(log_);
      if (std::regex_search(text, m, port_re)) {
        base_ = "http://127.0.0.1:" + m[1].str();
        break;
      }
      if (net_.childExited(pid_) || SteadyClock::now() > deadline) {
        fail("gomodprobe did not start" + testing::logTail(log_));
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
  }
  ~Agent() { stop(); }
  Agent(const Agent&) = delete;
  Agent& operator=(const Agent&) = delete;

  [[nodiscard]] pid_t pid() const { return pid_; }
  [[nodiscard]] std::string get(const std::string& path) const {
    return httpGet(base_ + path).body;
  }
  [[nodiscard]] long status(const std::string& path) const { return httpGet(base_ + path).status; }
  bool exited() { return net_.childExited(pid_); }
  void stop() {
    if (pid_ > 0) net_.stopChild(pid_);
    pid_ = -1;
  }

  /// Scrapes until every target of `cases` has at least `runs` runs; returns that scrape.
  std::string waitForRuns(const std::vector<const FaultCase*>& cases, int runs,
                          std::chrono::seconds budget) {
    const auto deadline = SteadyClock::now() + budget;
    std::string metrics;
    for (;;) {
      metrics = get("/metrics");
      bool done = true;
      std::string behind;
      for (const FaultCase* c : cases) {
        const double n = sample(metrics, probesSeries(*c));
        if (!(n >= runs)) {
          done = false;
          behind += " " + std::string(c->name) + "=" + std::to_string(n);
        }
      }
      if (done) return metrics;
      if (exited()) fail("gomodprobe exited" + testing::logTail(log_));
      if (SteadyClock::now() > deadline) {
        fail("targets did not reach " + std::to_string(runs) + " runs:" + behind);
      }
      std::this_thread::sleep_for(kPollInterval);
    }
  }

 private:
  NetFixture& net_;
  std::string log_;
  std::string base_;
  pid_t pid_ = -1;
};

std::string configYaml(const FaultWorld& w, bool before_restart_only) {
  std::string yaml = "global:\n  interval: " + std::to_string(kIntervalDuration.count()) +
                     "s\n  timeout: " + std::to_string(kTimeout.count()) + "ms\n  resolvers: [" +
                     q(w.net().dnsPrimary()) + "]\n  ca_file: " + w.net().caFile() + "\ntargets:\n";
  for (const FaultCase& c : faultCases()) {
    if (before_restart_only && !c.before_restart) continue;
    yaml += "  - name: " + std::string(c.name) + "\n    kind: " + std::string(c.kind) + "\n" +
            c.yaml(w);
  }
  return yaml;
}

MatrixResults runMatrix() {
  const auto started = SteadyClock::now();
  FaultWorld world;
  world.start();
  const std::string binary = GOMODPROBE_BINARY;
  const std::string storage = world.dir() + "/agent-state";
  fs::create_directories(storage);
  const std::vector<std::string> both = {std::string(kQuote), std::string(kSampler)};

  // Generation 1: the two databases as first seen; each target stores the tree it verified.
  world.go().restartSumdb(GoModFixture::kDefaultSeed, both);
  world.rollback().start(both);
  std::vector<const FaultCase*> restarted;
  std::vector<const FaultCase*> all;
  for (const FaultCase& c : faultCases()) {
    all.push_back(&c);
    if (c.before_restart) restarted.push_back(&c);
  }
  {
    const std::string config = world.dir() + "/gen1.yml";
    writeFile(config, configYaml(world, /*before_restart_only=*/true));
    Agent gen1(world.go().net(), binary, config, storage, world.dir() + "/gen1.log");
    const auto deadline = SteadyClock::now() + kPhaseSlack;
    for (;;) {
      const std::string m = gen1.waitForRuns(restarted, 1, kPhaseSlack);
      bool verified = true;
      for (const FaultCase* c : restarted) {
        verified = verified && sample(m, "gomodprobe_probe_success{target=\"" +
                                             std::string(c->name) + "\",kind=\"sumdb\"}") == 1;
      }
      if (verified) break;
      if (SteadyClock::now() > deadline) fail("generation 1 did not verify the trees:\n" + m);
      std::this_thread::sleep_for(kPollInterval);
    }
  }  // stopped (SIGTERM)

  // Behind the stopped agent: the same records in another order (a fork: same size, other
  // hashes), and a smaller tree with another first record (a rollback that is not a prefix).
  world.go().restartSumdb(GoModFixture::kDefaultSeed, {std::string(kSampler), std::string(kQuote)});
  world.rollback().start({std::string(kSampler)});

  // Generation 2: every target, same storage.
  const std::string config = world.dir() + "/gen2.yml";
  writeFile(config, configYaml(world, /*before_restart_only=*/false));
  Agent agent(world.go().net(), binary, config, storage, world.dir() + "/gen2.log");
  const auto budget = [](int runs) {
    return std::chrono::duration_cast<std::chrono::seconds>(runs * kIntervalDuration + kPhaseSlack);
  };
  MatrixResults r;
  r.metrics_warm = agent.waitForRuns(all, kWarmupRuns, budget(kWarmupRuns));
  const Floors warm = floorsOver(agent.pid(), kIntervalDuration);
  r.metrics_final = agent.waitForRuns(all, kWarmupRuns + kMeasuredRuns, budget(kMeasuredRuns));
  const Floors final = floorsOver(agent.pid(), kIntervalDuration);
  r.rss_warm_kb = warm.rss_kb;
  r.fds_warm = warm.fds;
  r.rss_final_kb = final.rss_kb;
  r.fds_final = final.fds;
  r.hwm_kb = procStatus(agent.pid(), "VmHWM");
  for (const FaultCase& c : faultCases()) {
    if (!c.counted_log.empty()) {
      r.requests[std::string(c.counted_log)] = countLines(world.accessLog(c.counted_log));
    }
  }
  r.metrics_after_count = agent.get("/metrics");
  r.landing_page = agent.get("/");
  r.healthy_status = agent.status("/-/healthy");
  r.alive = !agent.exited();
  r.seconds = std::chrono::duration<double>(SteadyClock::now() - started).count();
  std::cout << "fault matrix: " << r.seconds << " s, VmRSS " << r.rss_warm_kb << " KiB after "
            << kWarmupRuns << " runs, " << r.rss_final_kb << " KiB after "
            << kWarmupRuns + kMeasuredRuns << ", VmHWM " << r.hwm_kb << " KiB; open fds "
            << r.fds_warm << " then " << r.fds_final << std::endl;
  return r;
}

// ---- per process: run, or read what the FaultMatrixRun test recorded ----------------------------

const char* resultsDir() {
  return std::getenv("GOMODPROBE_FAULT_MATRIX_DIR");  // NOLINT(concurrency-mt-unsafe)
}

std::optional<MatrixResults>& cachedResults() {
  static std::optional<MatrixResults> results;
  return results;
}

std::string& cachedError() {
  static std::string error;
  return error;
}

/// The records of this process's run, running it on first use (or, under ctest, reading the ones
/// FaultMatrixRun wrote). nullptr with cachedError() set when there are none.
const MatrixResults* results(bool run_if_missing) {
  if (cachedResults()) return &*cachedResults();
  if (!cachedError().empty()) return nullptr;
  const char* dir = resultsDir();
  if (dir != nullptr && !run_if_missing) {
    cachedResults() = loadResults(dir);
    if (!cachedResults()) {
      cachedError() =
          std::string("no records in ") + dir + ": FaultMatrixRun failed or did not run";
      return nullptr;
    }
    return &*cachedResults();
  }
  if (dir != nullptr) fs::remove_all(dir);  // never leave an earlier run's records behind
  try {
    cachedResults() = runMatrix();
  } catch (const std::exception& e) {
    cachedError() = e.what();
    return nullptr;
  }
  if (dir != nullptr) saveResults(*cachedResults(), dir);
  return &*cachedResults();
}

// ---- the assertions -----------------------------------------------------------------------------

std::string phaseCount(const FaultCase& c, std::string_view phase, std::string_view version) {
  return "gomodprobe_phase_duration_seconds_count{target=\"" + std::string(c.name) + "\",phase=\"" +
         std::string(phase) + "\",http_version=\"" + std::string(version) + "\"}";
}

/// The phase was never reached (no sample in any run).
void expectNoPhase(const FaultCase& c, const MatrixResults& r, std::string_view phase) {
  for (const char* v : {"1.1", "2"}) {
    const double n = sample(r.metrics_final, phaseCount(c, phase, v));
    EXPECT_TRUE(std::isnan(n) || n == 0) << phase << " reached over HTTP/" << v;
  }
}

/// TLS done in every run, and no response header ever came.
void expectTlsButNoProcessing(const FaultCase& c, const MatrixResults& r) {
  const double runs = sample(r.metrics_final, probesSeries(c));
  for (const char* v : {"1.1", "2"}) {
    EXPECT_EQ(sample(r.metrics_final, phaseCount(c, "tls", v)), runs) << "HTTP/" << v;
  }
  expectNoPhase(c, r, "processing");
}

/// Headers came in every run (processing), the body never completed (no transfer).
void expectProcessingButNoTransfer(const FaultCase& c, const MatrixResults& r) {
  const double runs = sample(r.metrics_final, probesSeries(c));
  for (const char* v : {"1.1", "2"}) {
    EXPECT_EQ(sample(r.metrics_final, phaseCount(c, "processing", v)), runs) << "HTTP/" << v;
  }
  expectNoPhase(c, r, "transfer");
}

void expectNegotiatedHttp11(const FaultCase& c, const MatrixResults& r) {
  const std::string labels = "{target=\"" + std::string(c.name) + "\",http_version=\"2\"}";
  EXPECT_EQ(sample(r.metrics_final, "gomodprobe_http_negotiated_version" + labels), 1.1);
  EXPECT_EQ(sample(r.metrics_final, "gomodprobe_http_status_code" + labels), 200);
}

void expectResolversDisagree(const FaultCase& c, const MatrixResults& r) {
  EXPECT_EQ(sample(r.metrics_final, "gomodprobe_dns_resolvers_agree{target=\"" +
                                        std::string(c.name) + "\",name=\"split.test\"}"),
            0);
}

void expectSignatureInvalid(const FaultCase& c, const MatrixResults& r) {
  EXPECT_EQ(sample(r.metrics_final,
                   "gomodprobe_sumdb_signature_valid{target=\"" + std::string(c.name) + "\"}"),
            0);
}

/// Signed with the right key, yet not consistent with the tree stored by generation 1.
void expectSignedButInconsistent(const FaultCase& c, const MatrixResults& r) {
  const std::string labels = "{target=\"" + std::string(c.name) + "\"}";
  EXPECT_EQ(sample(r.metrics_final, "gomodprobe_sumdb_signature_valid" + labels), 1);
  EXPECT_EQ(sample(r.metrics_final, "gomodprobe_sumdb_consistency_verified" + labels), 0);
}

void expectHashMismatch(const FaultCase& c, const MatrixResults& r) {
  EXPECT_EQ(sample(r.metrics_final, "gomodprobe_module_hash_match{target=\"" + std::string(c.name) +
                                        "\",module=\"rsc.io/quote\"}"),
            0);
}

void expectThroughProxy(const FaultCase& c, const MatrixResults& r) {
  const auto info =
      samples(r.metrics_final, "gomodprobe_proxy_info{target=\"" + std::string(c.name) + "\",");
  EXPECT_EQ(info.size(), 1U) << "gomodprobe_proxy_info of the target";
}

/// The detail cell of the target's row on the landing page.
std::string landingDetail(const std::string& page, std::string_view target) {
  const std::string row = "id=\"target-" + std::string(target) + "\"";
  const auto at = page.find(row);
  if (at == std::string::npos) return {};
  const auto end = page.find("</tr>", at);
  const std::string tr = page.substr(at, end == std::string::npos ? std::string::npos : end - at);
  const auto cell = tr.find("<td class=\"detail\">");
  return cell == std::string::npos ? std::string() : tr.substr(cell);
}

class FaultMatrixRun : public ::testing::Test {};

// The run itself (ctest's fixture setup): it fails only when the matrix could not be run (a
// server did not start, the agent died or stopped probing); the verdicts are the cases'.
TEST_F(FaultMatrixRun, RecordsOneAgentAgainstEveryFault) {
  const MatrixResults* r = results(/*run_if_missing=*/true);
  ASSERT_NE(r, nullptr) << cachedError();
  EXPECT_GE(faultCases().size(), 25U);
  EXPECT_GT(r->rss_warm_kb, 0);
  EXPECT_FALSE(r->metrics_final.empty());
}

class FaultCaseTest : public ::testing::TestWithParam<FaultCase> {};

TEST_P(FaultCaseTest, ReportsReasonKeepsRunningMemoryFlat) {
  const FaultCase& c = GetParam();
  const MatrixResults* r = results(/*run_if_missing=*/resultsDir() == nullptr);
  ASSERT_NE(r, nullptr) << cachedError();
  const std::string name(c.name);
  const std::string detail = landingDetail(r->landing_page, c.name);

  // The reason: every run, exactly this one.
  const double runs = sample(r->metrics_final, probesSeries(c));
  ASSERT_GE(runs, kWarmupRuns + kMeasuredRuns) << name;
  const auto failures =
      samples(r->metrics_final, "gomodprobe_probe_failures_total{target=\"" + name + "\",");
  const std::string success =
      "gomodprobe_probe_success{target=\"" + name + "\",kind=\"" + std::string(c.kind) + "\"}";
  if (c.reason.empty()) {
    EXPECT_EQ(sample(r->metrics_final, success), 1) << detail;
    for (const auto& [series, n] : failures) EXPECT_EQ(n, 0) << series << "\n" << detail;
  } else {
    EXPECT_EQ(sample(r->metrics_final, success), 0);
    const std::string expected = "gomodprobe_probe_failures_total{target=\"" + name + "\",kind=\"" +
                                 std::string(c.kind) + "\",reason=\"" + std::string(c.reason) +
                                 "\"}";
    EXPECT_EQ(sample(r->metrics_final, expected), runs)
        << "every run fails with " << c.reason << "\n"
        << detail;
    for (const auto& [series, n] : failures) {
      if (series != expected) EXPECT_EQ(n, 0) << series << "\n" << detail;
    }
  }
  if (!c.detail.empty()) {
    EXPECT_NE(detail.find(c.detail), std::string::npos)
        << "the last run's detail should say \"" << c.detail << "\": " << detail;
  }

  // The agent kept running: this target was probed all along, and the process is alive. (The
  // scrapes wait for the slowest target, so this one may have been a run ahead at the first.)
  EXPECT_GE(runs - sample(r->metrics_warm, probesSeries(c)), kMeasuredRuns - 1);
  EXPECT_TRUE(r->alive);
  EXPECT_EQ(r->healthy_status, 200);

  // Memory and descriptors are back to the baseline (see kRssGrowthBoundKb, kFdGrowthBound).
  EXPECT_GT(r->fds_warm, 0);
  EXPECT_LE(r->fds_final - r->fds_warm, kFdGrowthBound)
      << "open descriptors " << r->fds_warm << " then " << r->fds_final;
  EXPECT_GT(r->rss_warm_kb, 0);
  if (!testing::kAddressSanitizer) {  // ASan's quarantine holds freed memory; LeakSanitizer checks
                                      // leaks
    EXPECT_LE(r->rss_final_kb - r->rss_warm_kb, kRssGrowthBoundKb)
        << "VmRSS " << r->rss_warm_kb << " KiB after " << kWarmupRuns << " runs, "
        << r->rss_final_kb << " KiB after " << kWarmupRuns + kMeasuredRuns;
  }

  // Requests the server saw: exactly requests_per_run per run. The log was counted between two
  // scrapes: at least the runs finished by the first, at most those of the second plus the one
  // in flight.
  if (!c.counted_log.empty()) {
    const auto it = r->requests.find(std::string(c.counted_log));
    ASSERT_NE(it, r->requests.end());
    const double after = sample(r->metrics_after_count, probesSeries(c));
    EXPECT_GE(static_cast<double>(it->second), runs * c.requests_per_run);
    EXPECT_LE(static_cast<double>(it->second), (after + 1) * c.requests_per_run)
        << it->second << " requests for " << runs << "-" << after << " runs: a retry";
  }
  if (c.extra != nullptr) c.extra(c, *r);
}

std::string caseName(const ::testing::TestParamInfo<FaultCase>& info) {
  return std::string(info.param.name) + "_is_" +
         (info.param.reason.empty() ? std::string("ok") : std::string(info.param.reason));
}

INSTANTIATE_TEST_SUITE_P(FaultMatrix, FaultCaseTest, ::testing::ValuesIn(faultCases()), caseName);

}  // namespace
}  // namespace gomodprobe
