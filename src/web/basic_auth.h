#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

namespace gomodprobe::web {

/// Splits an `Authorization: Basic <base64(user:password)>` header value (RFC 7617) into user and
/// password. nullopt when it is not Basic, not valid base64, or has no ':'.
[[nodiscard]] std::optional<std::pair<std::string, std::string>> parseBasicAuthorization(
    std::string_view header);

/// HTTP basic authentication against bcrypt hashes, as exporter-toolkit's `basic_auth_users`.
/// Thread-safe (crypt_r with per-call state).
class BasicAuth {
 public:
  /// `users`: user name → bcrypt hash ("$2y$10$…"), already validated (web_config.h).
  explicit BasicAuth(std::map<std::string, std::string> users);

  /// True when users are configured, i.e. requests must authenticate.
  [[nodiscard]] bool enabled() const { return !users_.empty(); }

  /// True when `authorization` (the Authorization header value, nullptr when absent) names a
  /// configured user and bcrypt of the password equals that user's hash. The hashes are compared in
  /// constant time, and an unknown user costs one bcrypt like a known one, so response times do not
  /// tell which user names exist.
  [[nodiscard]] bool check(const char* authorization) const;

  /// bcrypt (libxcrypt crypt_r) of `password` with the salt and cost of `setting`; "" when
  /// crypt_r refuses the setting.
  [[nodiscard]] static std::string crypt(const std::string& password, const std::string& setting);

 private:
  std::map<std::string, std::string> users_;
  std::string dummy_hash_;  // bcrypt setting used for unknown users
};

}  // namespace gomodprobe::web
