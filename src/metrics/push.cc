#include "metrics/push.h"

#include <curl/curl.h>
#include <fmt/format.h>
#include <openssl/evp.h>
#include <prometheus/gateway.h>

#include <future>
#include <thread>
#include <vector>

namespace gomodprobe::metrics {

namespace {

bool unreserved(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
         c == '.' || c == '_' || c == '~';
}

bool allUnreserved(const std::string& s) {
  for (const char c : s) {
    if (!unreserved(c)) return false;
  }
  return !s.empty();
}

// RFC 4648 §5 base64url with padding, as the Pushgateway decodes `label@base64` values.
std::string base64Url(const std::string& value) {
  if (value.empty()) return "=";  // the Pushgateway's spelling of an empty value
  std::vector<unsigned char> out(4 * ((value.size() + 2) / 3) + 1);
  const int n = EVP_EncodeBlock(out.data(), reinterpret_cast<const unsigned char*>(value.data()),
                                static_cast<int>(value.size()));
  std::string encoded(reinterpret_cast<const char*>(out.data()), static_cast<std::size_t>(n));
  for (char& c : encoded) {
    if (c == '+') c = '-';
    if (c == '/') c = '_';
  }
  return encoded;
}

struct UrlDeleter {
  void operator()(CURLU* url) const { curl_url_cleanup(url); }
};

// One part of a parsed URL, or "" when absent.
std::string urlPart(CURLU* url, CURLUPart part, unsigned int flags = 0) {
  char* value = nullptr;
  if (curl_url_get(url, part, &value, flags) != CURLUE_OK || value == nullptr) return {};
  std::string out(value);
  curl_free(value);
  return out;
}

}  // namespace

std::optional<GatewayAddress> parseGatewayUrl(const std::string& url, std::string* error) {
  const std::unique_ptr<CURLU, UrlDeleter> parsed(curl_url());
  if (!parsed || curl_url_set(parsed.get(), CURLUPART_URL, url.c_str(), 0) != CURLUE_OK) {
    *error = "push gateway: not an absolute URL";
    return std::nullopt;
  }
  GatewayAddress address;
  const std::string scheme = urlPart(parsed.get(), CURLUPART_SCHEME);
  if (scheme != "http" && scheme != "https") {
    *error = "push gateway: scheme must be http or https";
    return std::nullopt;
  }
  const std::string path = urlPart(parsed.get(), CURLUPART_PATH);
  if (!(path.empty() || path == "/") || !urlPart(parsed.get(), CURLUPART_QUERY).empty() ||
      !urlPart(parsed.get(), CURLUPART_FRAGMENT).empty()) {
    *error = "push gateway: the URL must not have a path, query or fragment";
    return std::nullopt;
  }
  address.host = scheme + "://" + urlPart(parsed.get(), CURLUPART_HOST);
  address.port = urlPart(parsed.get(), CURLUPART_PORT, CURLU_DEFAULT_PORT);
  address.username = urlPart(parsed.get(), CURLUPART_USER, CURLU_URLDECODE);
  address.password = urlPart(parsed.get(), CURLUPART_PASSWORD, CURLU_URLDECODE);
  return address;
}

prometheus::Labels groupingLabels(const std::string& instance,
                                  const std::map<std::string, std::string>& labels) {
  prometheus::Labels out;
  const auto add = [&out](const std::string& name, const std::string& value) {
    if (allUnreserved(value)) {
      out.emplace(name, value);
    } else {
      out.emplace(name + "@base64", base64Url(value));
    }
  };
  add("instance", instance);
  for (const auto& [name, value] : labels) {
    if (name != "job" && name != "instance") add(name, value);
  }
  return out;
}

bool validJobName(const std::string& job) { return allUnreserved(job); }

std::string pushMetrics(const PushTarget& target,
                        const std::shared_ptr<prometheus::Collectable>& collectable) {
  std::string error;
  const auto address = parseGatewayUrl(target.gateway_url, &error);
  if (!address) return error;
  if (!validJobName(target.job)) {
    return "push gateway: job name must be non-empty [A-Za-z0-9._~-]";
  }
  auto gateway = std::make_shared<prometheus::Gateway>(
      address->host, address->port, target.job, groupingLabels(target.instance, target.labels),
      address->username, address->password);
  gateway->RegisterCollectable(collectable);

  std::promise<int> status;
  auto result = status.get_future();
  // The gateway and the collectable stay alive with the thread if it has to be abandoned.
  std::thread worker([gateway, collectable, status = std::move(status)]() mutable {
    // prometheus-cpp 1.0.1 sends PUT from PushAdd() and POST from Push() (names inherited from
    // the old Java client, inverted against the Pushgateway's "PUT replaces the group").
    status.set_value(gateway->PushAdd());
  });
  if (result.wait_for(target.timeout) != std::future_status::ready) {
    worker.detach();
    return fmt::format("push gateway: no answer within {} ms", target.timeout.count());
  }
  worker.join();
  const int code = result.get();
  if (code >= 200 && code < 300) return {};
  if (code < 0) {
    return fmt::format("push gateway: {}", curl_easy_strerror(static_cast<CURLcode>(-code)));
  }
  return fmt::format("push gateway: HTTP status {}", code);
}

}  // namespace gomodprobe::metrics
