#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "gomodprobe/config.h"

namespace gomodprobe {

/// Why a probe run failed. A closed set: each value maps to one fixed `reason` label value, so the
/// cardinality of `gomodprobe_probe_failures_total` is bounded whatever the network does.
enum class FailureReason {
  None,
  DnsNxdomain,          ///< "dns_nxdomain": the resolver says the name does not exist (rcode 3)
  DnsNoAnswer,          ///< "dns_no_answer": NOERROR with no record of the wanted family
  DnsServfail,          ///< "dns_servfail": rcode 2 (or REFUSED)
  DnsTimeout,           ///< "dns_timeout": the resolver did not answer in time
  DnsError,             ///< "dns_error": any other resolver failure
  ConnectRefused,       ///< "connect_refused": TCP RST on connect (ECONNREFUSED)
  ConnectTimeout,       ///< "connect_timeout": no TCP handshake before the deadline
  ConnectError,         ///< "connect_error": other connect failure (unreachable, …)
  TlsCertExpired,       ///< "tls_cert_expired": X509_V_ERR_CERT_HAS_EXPIRED (or not yet valid)
  TlsCertUntrusted,     ///< "tls_cert_untrusted": chain does not lead to a trust anchor
  TlsHostnameMismatch,  ///< "tls_hostname_mismatch": certificate not valid for the host
  TlsHandshake,         ///< "tls_handshake": any other TLS failure
  HttpStatus,           ///< "http_status": a non-2xx status code
  HttpProtocol,         ///< "http_protocol": malformed or truncated HTTP, h2 stream errors
  Timeout,              ///< "timeout": the run hit its timeout after connecting
  // Go protocol (go.dev/ref/mod "GOPROXY protocol", "Checksum database").
  NotFound,           ///< "not_found": 404 or 410 from a proxy for a module request
  Protocol,           ///< "protocol": malformed list, .info, note, tile or lookup record
  ChecksumMismatch,   ///< "checksum_mismatch": h1 of the zip or go.mod differs from the expected
  ZipInvalid,         ///< "zip_invalid": the module zip breaks zip.CheckZip's rules or limits
  SumdbSignature,     ///< "sumdb_signature": signed tree head not signed by the verifier key
  SumdbInclusion,     ///< "sumdb_inclusion": a record is not in the signed tree
  SumdbInconsistent,  ///< "sumdb_inconsistent": the tree does not extend the one seen before
  SumdbUnsupported,   ///< "sumdb_unsupported": the proxy does not proxy this checksum database
  // Private VCS hosts (go.dev/ref/mod "Finding a repository for a module path", gitprotocol-http).
  VcsAuth,      ///< "vcs_auth": 401/403 (reachable; credentials missing or refused), or a
                ///< credential file unreadable at run time
  VcsProtocol,  ///< "vcs_protocol": no usable go-import tag, not a smart-HTTP git server, or a
                ///< malformed pkt-line advertisement
  SshBanner,    ///< "ssh_banner": no valid SSH-2.0 identification line (RFC 4253 §4.2)
  /// "proxy_error": the HTTP(S) proxy could not be used: its name did not resolve, the TCP
  /// connection to it failed (refused, unreachable), or it refused the CONNECT tunnel (non-2xx,
  /// CURLINFO_HTTP_CONNECTCODE). A deadline hit meanwhile stays timeout / connect_timeout.
  ProxyError,
  /// "http_version": the server answered an HTTP/2 attempt in another version (no h2 over ALPN)
  /// while the target sets require_http2 (blackbox_exporter's valid_http_versions check).
  HttpVersionMismatch,
};

/// Label value of a reason ("" for None).
[[nodiscard]] std::string_view toLabel(FailureReason reason);
/// Every reason but None, in declaration order (for pre-initialised counters and docs).
[[nodiscard]] std::span<const FailureReason> allFailureReasons();

/// Phases of one HTTP attempt, named as blackbox_exporter names them, plus proxy_connect: the
/// CONNECT round trip through an HTTP(S) proxy (CONNECT request sent → the proxy's response
/// headers complete). Through a proxy, connect is the TCP handshake with the proxy, tls excludes
/// the CONNECT round trip, and there is no resolve (the proxy resolves the target's name).
enum class Phase { Resolve, Connect, Tls, Processing, Transfer, ProxyConnect };
inline constexpr std::size_t kPhaseCount = 6;
[[nodiscard]] std::string_view toLabel(Phase phase);

/// The answer of one resolver for the target's host name.
struct DnsLookup {
  std::string resolver;         ///< ResolverSpec::label()
  double duration_seconds = 0;  ///< query sent → last answer (A and AAAA run in parallel)
  FailureReason reason = FailureReason::None;
  std::string detail;             ///< c-ares error text when failed
  std::vector<std::string> ipv4;  ///< sorted
  std::vector<std::string> ipv6;  ///< sorted
};

struct TlsInfo {
  std::string version;              ///< "TLSv1.3"
  std::string cipher;               ///< OpenSSL name, "TLS_AES_256_GCM_SHA384"
  std::optional<double> not_after;  ///< earliest notAfter of the presented chain, Unix seconds
};

/// One HTTP attempt over a fresh connection with one requested version.
struct HttpAttempt {
  HttpVersion requested = HttpVersion::Http11;
  bool success = false;
  FailureReason reason = FailureReason::None;
  std::string detail;  ///< human-readable, bounded; never contains secrets
  long status_code = 0;
  /// What the server spoke, from CURLINFO_HTTP_VERSION: 1.0, 1.1, 2 or 3; 0 = no response.
  double negotiated_version = 0;
  /// Seconds per phase; nullopt = phase not reached. resolve is the c-ares lookup of the primary
  /// resolver, shared by all attempts of a run; the others come from CURLINFO_*_TIME_T.
  std::array<std::optional<double>, kPhaseCount> phases{};
  std::optional<TlsInfo> tls;
  std::uint64_t body_bytes = 0;
};

/// A step of a module fetch through a proxy.
enum class ModuleStep { List, Latest, Info, Mod, Zip };
[[nodiscard]] std::string_view toLabel(ModuleStep step);

struct ModuleStepResult {
  ModuleStep step = ModuleStep::List;
  double duration_seconds = 0;  ///< request start → body complete (zip: + hashing)
  long status_code = 0;
  bool success = false;
};

/// The fetch of one module from one proxy (goproxy kind), or one lookup (sumdb kind).
struct ModuleCheck {
  std::string module;     ///< module path
  std::string requested;  ///< the configured version, or "latest"
  std::string version;    ///< the version fetched
  bool success = false;
  FailureReason reason = FailureReason::None;
  std::string detail;
  std::vector<ModuleStepResult> steps;
  std::optional<double> info_time;  ///< .info Time, Unix seconds
  std::uint64_t zip_bytes = 0;
  std::string zip_hash;            ///< "h1:…" computed (dirhash.Hash1 of the zip's files)
  std::string mod_hash;            ///< "h1:…" computed over go.mod
  std::optional<bool> hash_match;  ///< vs go_sum / sumdb; nullopt when nothing was expected
  std::int64_t record_id = -1;     ///< sumdb lookups: the record's index in the log
};

/// Checksum-database verification state of one run (sumdb kind, or a goproxy's sumdb).
struct SumdbCheck {
  std::int64_t tree_size = 0;
  bool signature_valid = false;
  std::optional<bool> inclusion_verified;    ///< nullopt when no record was looked up
  std::optional<bool> consistency_verified;  ///< nullopt when there was no earlier tree
  /// Where the database was reached: its own URL, or "$proxy/sumdb/<name>" when a proxy of the
  /// target's `goproxy` list serves it.
  std::string base_url;
};

/// One DNS query of the dns kind: one name, one resolver, one record type.
struct DnsQuery {
  std::string name;
  std::string resolver;  ///< ResolverSpec::label()
  DnsRecordType type = DnsRecordType::A;
  /// The response code of the answer (0 NOERROR, 2 SERVFAIL, 3 NXDOMAIN, 5 REFUSED, …);
  /// nullopt when no response came (timeout, network error).
  std::optional<int> rcode;
  FailureReason reason = FailureReason::None;  ///< dns_* (dns_no_answer: NOERROR, no record)
  std::string detail;
  /// The records of the queried type in the answer section, sorted: addresses for A/AAAA (the
  /// final addresses when the name is an alias), target names for CNAME.
  std::vector<std::string> answers;
  std::optional<std::uint32_t> ttl_seconds;  ///< minimum TTL over `answers`; nullopt when none
  double duration_seconds = 0;               ///< query sent → response (or deadline)
};

/// Whether the resolvers of a dns target gave the same answers for one name.
struct DnsNameAgreement {
  std::string name;
  bool agree = false;
};

/// A step of a vcs probe: go-import discovery, git smart-HTTP ref advertisement, SSH
/// identification exchange.
enum class VcsStep { Discovery, InfoRefs, SshBanner };
[[nodiscard]] std::string_view toLabel(VcsStep step);

struct VcsStepResult {
  VcsStep step = VcsStep::Discovery;
  bool success = false;
  FailureReason reason = FailureReason::None;
  std::string detail;           ///< bounded; never contains secrets
  double duration_seconds = 0;  ///< discovery, info_refs: request start → body complete (the
                                ///< first attempt for discovery); ssh_banner: connect start →
                                ///< identification line read
  long status_code = 0;         ///< HTTP steps
};

/// What a vcs run found (kind vcs).
struct VcsCheck {
  std::string module;  ///< the module path matched
  std::string prefix;  ///< the matching go-import prefix
  std::string vcs;     ///< "git", "mod", "hg", …; empty when discovery failed
  std::string repo;    ///< the repo root URL of the go-import tag
  /// info_refs: "smart-v0", "smart-v1", "smart-v2" or "dumb"; empty when not reached.
  std::string protocol;
  std::string ssh_identification;  ///< the server's "SSH-2.0-…" line, without CR LF
  std::vector<VcsStepResult> steps;
};

/// Outcome of one scheduled run of one target. Probes never throw: every failure ends up here.
struct ProbeResult {
  std::string target;
  TargetKind kind = TargetKind::Http;
  bool success = false;
  FailureReason reason = FailureReason::None;  ///< first failure (DNS, then attempts in order)
  std::string detail;
  double duration_seconds = 0;  ///< whole run
  double started_at = 0;        ///< Unix seconds (wall clock)
  std::vector<DnsLookup> dns;  ///< one per configured resolver, in config order; empty for IP hosts
  std::optional<bool> resolvers_agree;  ///< set when ≥ 2 resolvers answered
  std::string address;                  ///< the address connected to
  std::vector<HttpAttempt> http;        ///< one per requested version, in config order
  std::vector<ModuleCheck> modules;     ///< goproxy/sumdb/chain: one per configured module
  std::optional<SumdbCheck> sumdb;
  /// chain: per module, the index of the GOPROXY entry that serves it (−1: none).
  std::vector<int> chain_entries;
  /// chain: lint findings about the GOPROXY value and the privacy variables, each
  /// "<error|warning>: <what> (fix: <how>)". Warnings do not fail the run.
  std::vector<std::string> lint;
  /// The proxy the target's requests went through, credentials removed
  /// ("http://proxy.corp:3128"); empty: direct. The proxy then resolved the target's name: `dns`
  /// is empty and no attempt has a resolve phase.
  std::string proxy;
  /// dns kind: one entry per name × resolver × record type, in config order.
  std::vector<DnsQuery> dns_queries;
  /// dns kind: per name, whether the resolvers that answered agree (rcode and answer set per
  /// type); set only for names with ≥ 2 answering resolvers.
  std::vector<DnsNameAgreement> names_agree;
  /// vcs: discovery, smart HTTP and SSH results.
  std::optional<VcsCheck> vcs;
};

using ProbeCallback = std::function<void(ProbeResult)>;

/// One kind of check against one target. run() starts a run on the event loop's thread and
/// returns at once; `done` is called exactly once on that thread, also on failure or timeout (the
/// run's own deadline is the target's timeout). A Probe may be destroyed while its run is in
/// flight: the run keeps what it needs alive. Implementations never throw on network input.
class Probe {
 public:
  virtual ~Probe() = default;
  virtual void run(ProbeCallback done) = 0;
};

}  // namespace gomodprobe
