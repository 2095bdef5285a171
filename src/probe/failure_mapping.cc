#include "probe/failure_mapping.h"

#include <ares.h>
#include <openssl/x509_vfy.h>

#include <array>
#include <cerrno>

namespace gomodprobe::probe {

namespace {

constexpr std::array kAllReasons = {
    FailureReason::DnsNxdomain,
    FailureReason::DnsNoAnswer,
    FailureReason::DnsServfail,
    FailureReason::DnsTimeout,
    FailureReason::DnsError,
    FailureReason::ConnectRefused,
    FailureReason::ConnectTimeout,
    FailureReason::ConnectError,
    FailureReason::TlsCertExpired,
    FailureReason::TlsCertUntrusted,
    FailureReason::TlsHostnameMismatch,
    FailureReason::TlsHandshake,
    FailureReason::HttpStatus,
    FailureReason::HttpProtocol,
    FailureReason::Timeout,
    FailureReason::NotFound,
    FailureReason::Protocol,
    FailureReason::ChecksumMismatch,
    FailureReason::ZipInvalid,
    FailureReason::SumdbSignature,
    FailureReason::SumdbInclusion,
    FailureReason::SumdbInconsistent,
    FailureReason::SumdbUnsupported,
    FailureReason::VcsAuth,
    FailureReason::VcsProtocol,
    FailureReason::SshBanner,
    FailureReason::ProxyError,
    FailureReason::HttpVersionMismatch,
};

}  // namespace

FailureReason reasonFromAresStatus(int status) {
  switch (status) {
    case ARES_SUCCESS:
      return FailureReason::None;
    case ARES_ENODATA:
      return FailureReason::DnsNoAnswer;
    case ARES_ENOTFOUND:
      return FailureReason::DnsNxdomain;
    case ARES_ESERVFAIL:
    case ARES_EREFUSED:
      return FailureReason::DnsServfail;
    case ARES_ETIMEOUT:
      return FailureReason::DnsTimeout;
    default:
      return FailureReason::DnsError;
  }
}

FailureReason reasonFromCurl(const CurlFailure& failure) {
  switch (failure.code) {
    case CURLE_OK:
      return FailureReason::None;
    case CURLE_COULDNT_CONNECT:
      if (failure.os_errno == ECONNREFUSED) return FailureReason::ConnectRefused;
      if (failure.os_errno == ETIMEDOUT) return FailureReason::ConnectTimeout;
      return FailureReason::ConnectError;
    case CURLE_OPERATION_TIMEDOUT:
      return failure.tcp_connected ? FailureReason::Timeout : FailureReason::ConnectTimeout;
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_COULDNT_RESOLVE_PROXY:
      return FailureReason::DnsError;
    case CURLE_PEER_FAILED_VERIFICATION:
      switch (failure.ssl_verify_result) {
        case X509_V_ERR_CERT_HAS_EXPIRED:
        case X509_V_ERR_CERT_NOT_YET_VALID:
          return FailureReason::TlsCertExpired;
        case X509_V_OK:
        case X509_V_ERR_UNSPECIFIED:  // curl's own subjectAltName check refused the host
        case X509_V_ERR_HOSTNAME_MISMATCH:
        case X509_V_ERR_IP_ADDRESS_MISMATCH:
          return FailureReason::TlsHostnameMismatch;
        default:
          return FailureReason::TlsCertUntrusted;
      }
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_SSL_CERTPROBLEM:
    case CURLE_SSL_CIPHER:
    case CURLE_SSL_CACERT_BADFILE:
    case CURLE_SSL_ENGINE_NOTFOUND:
    case CURLE_SSL_ENGINE_SETFAILED:
    case CURLE_SSL_ISSUER_ERROR:
    case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
    case CURLE_SSL_INVALIDCERTSTATUS:
    case CURLE_SSL_CRL_BADFILE:
    case CURLE_SSL_SHUTDOWN_FAILED:
    case CURLE_USE_SSL_FAILED:
      return FailureReason::TlsHandshake;
    case CURLE_HTTP_RETURNED_ERROR:
      return FailureReason::HttpStatus;
    default:
      // CURLE_GOT_NOTHING, CURLE_RECV_ERROR, CURLE_SEND_ERROR, CURLE_WEIRD_SERVER_REPLY,
      // CURLE_HTTP2, CURLE_HTTP2_STREAM, CURLE_PARTIAL_FILE, CURLE_BAD_CONTENT_ENCODING, …
      return FailureReason::HttpProtocol;
  }
}

}  // namespace gomodprobe::probe

namespace gomodprobe {

std::string_view toLabel(FailureReason reason) {
  switch (reason) {
    case FailureReason::None:
      return "";
    case FailureReason::DnsNxdomain:
      return "dns_nxdomain";
    case FailureReason::DnsNoAnswer:
      return "dns_no_answer";
    case FailureReason::DnsServfail:
      return "dns_servfail";
    case FailureReason::DnsTimeout:
      return "dns_timeout";
    case FailureReason::DnsError:
      return "dns_error";
    case FailureReason::ConnectRefused:
      return "connect_refused";
    case FailureReason::ConnectTimeout:
      return "connect_timeout";
    case FailureReason::ConnectError:
      return "connect_error";
    case FailureReason::TlsCertExpired:
      return "tls_cert_expired";
    case FailureReason::TlsCertUntrusted:
      return "tls_cert_untrusted";
    case FailureReason::TlsHostnameMismatch:
      return "tls_hostname_mismatch";
    case FailureReason::TlsHandshake:
      return "tls_handshake";
    case FailureReason::HttpStatus:
      return "http_status";
    case FailureReason::HttpProtocol:
      return "http_protocol";
    case FailureReason::Timeout:
      return "timeout";
    case FailureReason::NotFound:
      return "not_found";
    case FailureReason::Protocol:
      return "protocol";
    case FailureReason::ChecksumMismatch:
      return "checksum_mismatch";
    case FailureReason::ZipInvalid:
      return "zip_invalid";
    case FailureReason::SumdbSignature:
      return "sumdb_signature";
    case FailureReason::SumdbInclusion:
      return "sumdb_inclusion";
    case FailureReason::SumdbInconsistent:
      return "sumdb_inconsistent";
    case FailureReason::SumdbUnsupported:
      return "sumdb_unsupported";
    case FailureReason::VcsAuth:
      return "vcs_auth";
    case FailureReason::VcsProtocol:
      return "vcs_protocol";
    case FailureReason::SshBanner:
      return "ssh_banner";
    case FailureReason::ProxyError:
      return "proxy_error";
    case FailureReason::HttpVersionMismatch:
      return "http_version";
  }
  return "unknown";
}

std::span<const FailureReason> allFailureReasons() { return probe::kAllReasons; }

std::string_view toLabel(ModuleStep step) {
  switch (step) {
    case ModuleStep::List:
      return "list";
    case ModuleStep::Latest:
      return "latest";
    case ModuleStep::Info:
      return "info";
    case ModuleStep::Mod:
      return "mod";
    case ModuleStep::Zip:
      return "zip";
  }
  return "unknown";
}

std::string_view toLabel(VcsStep step) {
  switch (step) {
    case VcsStep::Discovery:
      return "discovery";
    case VcsStep::InfoRefs:
      return "info_refs";
    case VcsStep::SshBanner:
      return "ssh_banner";
  }
  return "unknown";
}

std::string_view toLabel(Phase phase) {
  switch (phase) {
    case Phase::Resolve:
      return "resolve";
    case Phase::Connect:
      return "connect";
    case Phase::Tls:
      return "tls";
    case Phase::Processing:
      return "processing";
    case Phase::Transfer:
      return "transfer";
    case Phase::ProxyConnect:
      return "proxy_connect";
  }
  return "unknown";
}

}  // namespace gomodprobe
