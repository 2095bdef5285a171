// libssl.so for civetweb (built as SONAME "libssl.so", linked against OpenSSL 3's libssl.so.3).
//
// Debian 12's civetweb 1.15 loads OpenSSL at run time with dlopen("libssl.so") and looks up the
// OpenSSL 1.1 API, including SSL_get_peer_certificate, which OpenSSL 3 only provides as a macro
// for SSL_get1_peer_certificate (same semantics: the caller owns one reference). Without this
// symbol civetweb refuses to start a TLS listener ("load_tls_dll: libssl.so: cannot find
// SSL_get_peer_certificate"). The web server dlopen()s this file by path before civetweb starts, so
// civetweb's dlopen("libssl.so") matches it by SONAME and finds every other function through its
// dependency on libssl.so.3.

#include <openssl/ssl.h>

#undef SSL_get_peer_certificate

// NOLINTNEXTLINE(readability-identifier-naming): OpenSSL's name
extern "C" __attribute__((visibility("default"))) X509* SSL_get_peer_certificate(const SSL* ssl) {
  return SSL_get1_peer_certificate(ssl);
}
