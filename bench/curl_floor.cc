// The libcurl floor: the least a prober built on libcurl + OpenSSL can cost for the probes
// bench/compare_blackbox.py runs, measured beside gomodprobe and blackbox_exporter.
//
// It links libcurl and nothing else of ours (no config, scheduler, metrics, web server, c-ares;
// only the header-only handle owners of src/net/handles.h),
// and does per probe what gomodprobe's http probe asks of libcurl: a new easy handle, a fresh
// connection (CURLOPT_FRESH_CONNECT + CURLOPT_FORBID_REUSE, no TLS session reuse), HTTP/2 over
// TLS (CURLOPT_HTTP_VERSION_2TLS), IPv4, peer verification against --ca only (curl's own CA
// cache, CURLOPT_CA_CACHE_TIMEOUT, parses it once per multi handle), the body discarded. Targets
// are spread over the interval like gomodprobe's scheduler does (target i at i * interval / N) and
// driven by curl_multi_poll on one thread.
//
// Usage: gomodprobe_curl_floor --ca FILE --interval S --timeout S --count-file PATH URL...
// Every 250 ms it writes "<probes finished> <probes succeeded>\n" to --count-file (replaced
// atomically by rename), and runs until SIGTERM or SIGINT.

#include <curl/curl.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>
#include <vector>

#include "net/handles.h"

namespace {

std::atomic<bool> g_stop{false};  // set by the signal handler only

void onSignal(int /*signal*/) { g_stop.store(true); }

using EasyHandle = gomodprobe::net::CurlEasy;  // header-only RAII owners: nothing of ours linked
using MultiHandle = gomodprobe::net::CurlMulti;

size_t discard(char* /*data*/, size_t size, size_t count, void* /*user*/) { return size * count; }

struct Options {
  std::string ca;
  double interval_s = 5;
  double timeout_s = 4;
  std::string count_file;
  std::vector<std::string> urls;
};

bool parse(int argc, char** argv, Options& options) {
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    const bool has_value = i + 1 < argc;
    if (arg == "--ca" && has_value) {
      options.ca = argv[++i];
    } else if (arg == "--interval" && has_value) {
      options.interval_s = std::strtod(argv[++i], nullptr);
    } else if (arg == "--timeout" && has_value) {
      options.timeout_s = std::strtod(argv[++i], nullptr);
    } else if (arg == "--count-file" && has_value) {
      options.count_file = argv[++i];
    } else if (arg.rfind("--", 0) == 0) {
      return false;
    } else {
      options.urls.push_back(arg);
    }
  }
  return !options.ca.empty() && !options.count_file.empty() && !options.urls.empty() &&
         options.interval_s > 0 && options.timeout_s > 0;
}

void writeCounts(const std::string& path, long finished, long succeeded) {
  const std::string tmp = path + ".tmp";
  {
    std::ofstream out(tmp, std::ios::trunc);
    out << finished << ' ' << succeeded << '\n';
  }
  std::rename(tmp.c_str(), path.c_str());
}

EasyHandle newProbe(const Options& options, const std::string& url) {
  EasyHandle easy(curl_easy_init());
  if (!easy) return easy;
  CURL* e = easy.get();
  curl_easy_setopt(e, CURLOPT_URL, url.c_str());
  curl_easy_setopt(e, CURLOPT_CAINFO, options.ca.c_str());
  // Debian's libcurl has a default CAPATH (/etc/ssl/certs); with one set, curl 7.88 neither uses
  // its CA cache nor skips the directory lookups, and re-reads CAINFO per connection.
  curl_easy_setopt(e, CURLOPT_CAPATH, nullptr);
  curl_easy_setopt(e, CURLOPT_HTTP_VERSION, static_cast<long>(CURL_HTTP_VERSION_2TLS));
  curl_easy_setopt(e, CURLOPT_IPRESOLVE, static_cast<long>(CURL_IPRESOLVE_V4));
  curl_easy_setopt(e, CURLOPT_FRESH_CONNECT, 1L);
  curl_easy_setopt(e, CURLOPT_FORBID_REUSE, 1L);
  curl_easy_setopt(e, CURLOPT_SSL_SESSIONID_CACHE, 0L);
  curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, static_cast<long>(options.timeout_s * 1000));
  curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, &discard);
  return easy;
}

}  // namespace

int main(int argc, char** argv) {
  Options options;
  if (!parse(argc, argv, options)) {
    std::fprintf(stderr, "usage: %s --ca FILE --interval S --timeout S --count-file PATH URL...\n",
                 argv[0]);
    return 2;
  }
  std::signal(SIGTERM, onSignal);
  std::signal(SIGINT, onSignal);
  if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) return 1;
  MultiHandle multi(curl_multi_init());
  if (!multi) return 1;

  using Clock = std::chrono::steady_clock;
  const auto interval = std::chrono::duration_cast<Clock::duration>(
      std::chrono::duration<double>(options.interval_s));
  const auto n = static_cast<long>(options.urls.size());
  const auto start = Clock::now();
  long next = 0;  // the next probe to start: target next % n, round next / n
  long finished = 0;
  long succeeded = 0;
  constexpr auto kReportEvery = std::chrono::milliseconds(250);
  auto next_report = start + kReportEvery;
  std::vector<EasyHandle> running;

  auto dueOf = [&](long k) { return start + (k / n) * interval + ((k % n) * interval) / n; };
  while (!g_stop.load()) {
    const auto now = Clock::now();
    for (; dueOf(next) <= now; ++next) {
      EasyHandle easy = newProbe(options, options.urls[static_cast<size_t>(next % n)]);
      if (easy && curl_multi_add_handle(multi.get(), easy.get()) == CURLM_OK) {
        running.push_back(std::move(easy));
      } else {
        ++finished;  // could not even start: a failed probe
      }
    }
    int still_running = 0;
    curl_multi_perform(multi.get(), &still_running);
    int queued = 0;
    while (CURLMsg* msg = curl_multi_info_read(multi.get(), &queued)) {
      if (msg->msg != CURLMSG_DONE) continue;
      CURL* done = msg->easy_handle;
      long status = 0;
      curl_easy_getinfo(done, CURLINFO_RESPONSE_CODE, &status);
      ++finished;
      if (msg->data.result == CURLE_OK && status == 200) ++succeeded;
      curl_multi_remove_handle(multi.get(), done);
      const auto it = std::find_if(running.begin(), running.end(),
                                   [done](const EasyHandle& h) { return h.get() == done; });
      if (it != running.end()) {
        std::swap(*it, running.back());
        running.pop_back();  // curl_easy_cleanup
      }
    }
    if (Clock::now() >= next_report) {
      writeCounts(options.count_file, finished, succeeded);
      next_report += kReportEvery;
    }
    const auto wake = std::min(dueOf(next), next_report);
    const auto wait_ms = std::chrono::duration_cast<std::chrono::milliseconds>(wake - Clock::now());
    long curl_ms = -1;
    curl_multi_timeout(multi.get(), &curl_ms);
    long timeout_ms = std::max<long>(0, static_cast<long>(wait_ms.count()) + 1);
    if (curl_ms >= 0) timeout_ms = std::min(timeout_ms, curl_ms);
    curl_multi_poll(multi.get(), nullptr, 0, static_cast<int>(timeout_ms), nullptr);
  }
  for (const EasyHandle& easy : running) curl_multi_remove_handle(multi.get(), easy.get());
  running.clear();
  multi.reset();
  curl_global_cleanup();
  return 0;
}
