#include "net/trust_store.h"

#include <curl/curl.h>
#include <openssl/err.h>
#include <openssl/x509.h>
#include <sys/stat.h>

namespace gomodprobe::net {

TrustStores::TrustStores() {
  const curl_version_info_data* info = curl_version_info(CURLVERSION_NOW);
  if (info != nullptr && info->age >= CURLVERSION_SEVENTH) {
    if (info->cainfo != nullptr) default_file_ = info->cainfo;
    if (info->capath != nullptr) default_path_ = info->capath;
  }
}

X509StoreRef TrustStores::get(const std::string& ca_file) {
  const std::string& file = ca_file.empty() ? default_file_ : ca_file;
  if (file.empty()) return nullptr;
  struct stat st {};
  if (::stat(file.c_str(), &st) != 0) return nullptr;
  const auto mtime_ns = static_cast<std::chrono::system_clock::time_point::rep>(
      st.st_mtim.tv_sec * 1'000'000'000LL + st.st_mtim.tv_nsec);
  Entry& entry = stores_[file];
  if (!entry.store || entry.mtime_ns != mtime_ns || entry.size != st.st_size) {
    entry.store.reset();
    X509StoreRef store(X509_STORE_new());
    if (!store || X509_STORE_load_file(store.get(), file.c_str()) != 1) {
      ERR_clear_error();
      stores_.erase(file);
      return nullptr;
    }
    if (!default_path_.empty()) {
      // Like curl: a missing CA directory is not an error (lookups in it simply find nothing).
      (void)X509_STORE_load_path(store.get(), default_path_.c_str());
    }
    ERR_clear_error();  // nothing of this load may show up in a later connection's error text
    X509_STORE_set_flags(store.get(), X509_V_FLAG_TRUSTED_FIRST | X509_V_FLAG_PARTIAL_CHAIN);
    entry.store = std::move(store);
    entry.mtime_ns = mtime_ns;
    entry.size = st.st_size;
  }
  if (X509_STORE_up_ref(entry.store.get()) != 1) return nullptr;
  return X509StoreRef(entry.store.get());
}

}  // namespace gomodprobe::net
