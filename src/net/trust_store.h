#pragma once

#include <openssl/x509_vfy.h>

#include <chrono>
#include <map>
#include <memory>
#include <string>

namespace gomodprobe::net {

struct X509StoreDeleter {
  void operator()(X509_STORE* store) const noexcept { X509_STORE_free(store); }
};
/// One reference to a (reference-counted) OpenSSL certificate store.
using X509StoreRef = std::unique_ptr<X509_STORE, X509StoreDeleter>;

/// The trust anchors of TLS connections, parsed once and shared by every connection instead of
/// once per connection. curl 7.88 re-reads CURLOPT_CAINFO for each new connection whenever
/// CURLOPT_CAPATH is set (its CA cache, CURLOPT_CA_CACHE_TIMEOUT, only covers a CAINFO-only
/// setup), and Debian's libcurl sets a default CAPATH: without this cache each probe parsed the
/// whole system bundle (~140 certificates) again.
///
/// A store holds what curl would load for the same settings (lib/vtls/openssl.c
/// populate_x509_store): `ca_file` (or, when empty, libcurl's built-in CA bundle,
/// curl_version_info()->cainfo) plus libcurl's built-in CA directory (->capath, looked up by
/// subject hash on demand), with X509_V_FLAG_TRUSTED_FIRST and X509_V_FLAG_PARTIAL_CHAIN as curl
/// sets them. A store is rebuilt when its file's size or modification time changes (checked at
/// each get(), a stat(2) call), so a rotated CA file is picked up as curl would.
/// Loop thread only (one instance per EventLoop).
class TrustStores {
 public:
  TrustStores();
  /// A new reference to the store for `ca_file` ("" = the system bundle), or nullptr when the file
  /// cannot be read or parsed (the caller then lets curl load it and report the error).
  [[nodiscard]] X509StoreRef get(const std::string& ca_file);

 private:
  struct Entry {
    X509StoreRef store;
    std::chrono::system_clock::time_point::rep mtime_ns = 0;
    long long size = -1;
  };
  std::string default_file_;  // libcurl's built-in CA bundle ("" if none)
  std::string default_path_;  // libcurl's built-in CA directory ("" if none)
  std::map<std::string, Entry> stores_;
};

}  // namespace gomodprobe::net
