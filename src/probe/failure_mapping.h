#pragma once

#include <curl/curl.h>

#include "gomodprobe/probe.h"

namespace gomodprobe::probe {

/// Maps the status a c-ares query callback received (ARES_*) to a reason. ARES_SUCCESS maps to
/// None; ARES_ENODATA (NOERROR, no record of the type) to dns_no_answer; ARES_ENOTFOUND (NXDOMAIN)
/// to dns_nxdomain; ARES_ESERVFAIL and ARES_EREFUSED to dns_servfail; ARES_ETIMEOUT to dns_timeout;
/// anything else to dns_error.
[[nodiscard]] FailureReason reasonFromAresStatus(int status);

/// What we know about a failed curl transfer.
struct CurlFailure {
  CURLcode code = CURLE_OK;
  long os_errno = 0;           ///< CURLINFO_OS_ERRNO
  long ssl_verify_result = 0;  ///< CURLINFO_SSL_VERIFYRESULT (an X509_V_ERR_* code)
  bool tcp_connected = false;  ///< CURLINFO_CONNECT_TIME_T > 0
};

/// Maps a curl failure to a reason:
/// - CURLE_COULDNT_CONNECT: ECONNREFUSED → connect_refused, ETIMEDOUT → connect_timeout, else
///   connect_error;
/// - CURLE_OPERATION_TIMEDOUT: connect_timeout before the TCP handshake completed, else timeout;
/// - CURLE_PEER_FAILED_VERIFICATION: by X509 verify result — expired / not yet valid →
///   tls_cert_expired, X509_V_ERR_HOSTNAME_MISMATCH or X509_V_OK (curl's own host check failed) →
///   tls_hostname_mismatch, any other chain error → tls_cert_untrusted;
/// - other TLS codes → tls_handshake; HTTP framing, h2 and receive/send errors → http_protocol;
/// - a failed name resolution inside curl (should not happen: we hand it the address) → dns_error.
[[nodiscard]] FailureReason reasonFromCurl(const CurlFailure& failure);

}  // namespace gomodprobe::probe
