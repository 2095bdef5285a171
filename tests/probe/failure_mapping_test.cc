#include "probe/failure_mapping.h"

#include <ares.h>
#include <gtest/gtest.h>
#include <openssl/x509_vfy.h>

#include <cerrno>
#include <set>
#include <string>

namespace gomodprobe::probe {
namespace {

TEST(FailureMappingTest, AresStatusesMapToDnsReasons) {
  EXPECT_EQ(reasonFromAresStatus(ARES_SUCCESS), FailureReason::None);
  EXPECT_EQ(reasonFromAresStatus(ARES_ENOTFOUND), FailureReason::DnsNxdomain);
  EXPECT_EQ(reasonFromAresStatus(ARES_ENODATA), FailureReason::DnsNoAnswer);
  EXPECT_EQ(reasonFromAresStatus(ARES_ESERVFAIL), FailureReason::DnsServfail);
  EXPECT_EQ(reasonFromAresStatus(ARES_EREFUSED), FailureReason::DnsServfail);
  EXPECT_EQ(reasonFromAresStatus(ARES_ETIMEOUT), FailureReason::DnsTimeout);
  EXPECT_EQ(reasonFromAresStatus(ARES_ECONNREFUSED), FailureReason::DnsError);
  EXPECT_EQ(reasonFromAresStatus(ARES_EBADRESP), FailureReason::DnsError);
}

TEST(FailureMappingTest, ConnectFailuresUseErrno) {
  EXPECT_EQ(reasonFromCurl({CURLE_COULDNT_CONNECT, ECONNREFUSED, 0, false}),
            FailureReason::ConnectRefused);
  EXPECT_EQ(reasonFromCurl({CURLE_COULDNT_CONNECT, ETIMEDOUT, 0, false}),
            FailureReason::ConnectTimeout);
  EXPECT_EQ(reasonFromCurl({CURLE_COULDNT_CONNECT, ENETUNREACH, 0, false}),
            FailureReason::ConnectError);
}

TEST(FailureMappingTest, TimeoutBeforeConnectIsConnectTimeoutAfterIsTimeout) {
  EXPECT_EQ(reasonFromCurl({CURLE_OPERATION_TIMEDOUT, 0, 0, false}), FailureReason::ConnectTimeout);
  EXPECT_EQ(reasonFromCurl({CURLE_OPERATION_TIMEDOUT, 0, 0, true}), FailureReason::Timeout);
}

TEST(FailureMappingTest, CertificateFailuresUseTheX509VerifyResult) {
  EXPECT_EQ(reasonFromCurl({CURLE_PEER_FAILED_VERIFICATION, 0, X509_V_ERR_CERT_HAS_EXPIRED, true}),
            FailureReason::TlsCertExpired);
  EXPECT_EQ(
      reasonFromCurl({CURLE_PEER_FAILED_VERIFICATION, 0, X509_V_ERR_CERT_NOT_YET_VALID, true}),
      FailureReason::TlsCertExpired);
  EXPECT_EQ(reasonFromCurl({CURLE_PEER_FAILED_VERIFICATION, 0,
                            X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY, true}),
            FailureReason::TlsCertUntrusted);
  EXPECT_EQ(reasonFromCurl(
                {CURLE_PEER_FAILED_VERIFICATION, 0, X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT, true}),
            FailureReason::TlsCertUntrusted);
  // Chain verified, but curl's subjectAltName check refused the host name.
  EXPECT_EQ(reasonFromCurl({CURLE_PEER_FAILED_VERIFICATION, 0, X509_V_OK, true}),
            FailureReason::TlsHostnameMismatch);
  // What curl 7.88 (OpenSSL backend) stores after its subjectAltName check fails.
  EXPECT_EQ(reasonFromCurl({CURLE_PEER_FAILED_VERIFICATION, 0, X509_V_ERR_UNSPECIFIED, true}),
            FailureReason::TlsHostnameMismatch);
  EXPECT_EQ(reasonFromCurl({CURLE_SSL_CONNECT_ERROR, 0, 0, true}), FailureReason::TlsHandshake);
}

TEST(FailureMappingTest, ProtocolErrorsAreHttpProtocol) {
  for (CURLcode code :
       {CURLE_GOT_NOTHING, CURLE_RECV_ERROR, CURLE_SEND_ERROR, CURLE_WEIRD_SERVER_REPLY,
        CURLE_HTTP2, CURLE_HTTP2_STREAM, CURLE_PARTIAL_FILE}) {
    EXPECT_EQ(reasonFromCurl({code, 0, 0, true}), FailureReason::HttpProtocol) << code;
  }
}

TEST(FailureMappingTest, EveryReasonHasADistinctSnakeCaseLabel) {
  std::set<std::string> labels;
  for (FailureReason reason : allFailureReasons()) {
    const std::string label(toLabel(reason));
    ASSERT_FALSE(label.empty());
    EXPECT_EQ(label.find_first_not_of("abcdefghijklmnopqrstuvwxyz_0123456789"), std::string::npos)
        << label;
    labels.insert(label);
  }
  EXPECT_EQ(labels.size(), allFailureReasons().size());
  EXPECT_TRUE(labels.count("timeout"));
  EXPECT_TRUE(labels.count("tls_hostname_mismatch"));
  EXPECT_EQ(toLabel(FailureReason::None), "");
}

TEST(FailureMappingTest, HttpVersionMismatchIsTheLastReasonLabelledHttpVersion) {
  ASSERT_FALSE(allFailureReasons().empty());
  EXPECT_EQ(allFailureReasons().back(), FailureReason::HttpVersionMismatch);
  EXPECT_EQ(toLabel(FailureReason::HttpVersionMismatch), "http_version");
}

}  // namespace
}  // namespace gomodprobe::probe
