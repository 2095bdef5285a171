#pragma once

#include <ares.h>
#include <curl/curl.h>

#include <memory>
#include <type_traits>

#include "net/unique_fd.h"

namespace gomodprobe::net {

/// RAII owners of the C handles we use (cpr's curlholder idea): move-only, freed exactly once.
struct CurlEasyDeleter {
  void operator()(CURL* handle) const noexcept { curl_easy_cleanup(handle); }
};
struct CurlMultiDeleter {
  void operator()(CURLM* handle) const noexcept { curl_multi_cleanup(handle); }
};
struct CurlSlistDeleter {
  void operator()(curl_slist* list) const noexcept { curl_slist_free_all(list); }
};
struct AresChannelDeleter {
  void operator()(ares_channel channel) const noexcept { ares_destroy(channel); }
};

using CurlEasy = std::unique_ptr<CURL, CurlEasyDeleter>;
using CurlMulti = std::unique_ptr<CURLM, CurlMultiDeleter>;
using CurlSlist = std::unique_ptr<curl_slist, CurlSlistDeleter>;
using AresChannel = std::unique_ptr<std::remove_pointer_t<ares_channel>, AresChannelDeleter>;

/// Appends to a curl_slist held by a CurlSlist; returns false on allocation failure.
inline bool appendSlist(CurlSlist& list, const char* value) {
  curl_slist* grown = curl_slist_append(list.get(), value);
  if (grown == nullptr) return false;
  (void)list.release();
  list.reset(grown);
  return true;
}

/// Process-wide library initialisation (curl_global_init, ares_library_init). Construct one in
/// main() (or a test's main) before any other thread starts; not a singleton, just a scope.
class NetLibraries {
 public:
  NetLibraries();
  ~NetLibraries();
  NetLibraries(const NetLibraries&) = delete;
  NetLibraries& operator=(const NetLibraries&) = delete;
};

}  // namespace gomodprobe::net
