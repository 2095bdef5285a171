#include "web/basic_auth.h"

#include <crypt.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>

#include <array>
#include <memory>
#include <vector>

namespace gomodprobe::web {

namespace {

// Case-insensitive ASCII prefix test (the auth scheme is case-insensitive, RFC 7235 §2.1).
bool startsWithIgnoringCase(std::string_view text, std::string_view prefix) {
  if (text.size() < prefix.size()) return false;
  for (std::size_t i = 0; i < prefix.size(); ++i) {
    const auto lower = [](char c) {
      return (c >= 'A' && c <= 'Z') ? static_cast<char>(c + 32) : c;
    };
    if (lower(text[i]) != lower(prefix[i])) return false;
  }
  return true;
}

std::optional<std::string> decodeBase64(std::string_view text) {
  if (text.empty() || text.size() % 4 != 0 || text.size() > 4096) return std::nullopt;
  for (char c : text) {
    const bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                    c == '+' || c == '/' || c == '=';
    if (!ok) return std::nullopt;
  }
  std::size_t padding = 0;
  if (text.back() == '=') ++padding;
  if (text.size() >= 2 && text[text.size() - 2] == '=') ++padding;
  // '=' only as the last one or two characters.
  if (text.find('=') < text.size() - padding) return std::nullopt;
  std::vector<unsigned char> out(text.size() / 4 * 3);
  const int n = EVP_DecodeBlock(out.data(), reinterpret_cast<const unsigned char*>(text.data()),
                                static_cast<int>(text.size()));
  if (n < 0 || static_cast<std::size_t>(n) < padding) return std::nullopt;
  return std::string(out.begin(), out.begin() + (n - static_cast<int>(padding)));
}

}  // namespace

std::optional<std::pair<std::string, std::string>> parseBasicAuthorization(
    std::string_view header) {
  constexpr std::string_view kScheme = "Basic ";
  if (!startsWithIgnoringCase(header, kScheme)) return std::nullopt;
  std::string_view token = header.substr(kScheme.size());
  while (!token.empty() && token.front() == ' ') token.remove_prefix(1);
  while (!token.empty() && token.back() == ' ') token.remove_suffix(1);
  const auto decoded = decodeBase64(token);
  if (!decoded) return std::nullopt;
  const auto colon = decoded->find(':');
  if (colon == std::string::npos) return std::nullopt;
  return std::make_pair(decoded->substr(0, colon), decoded->substr(colon + 1));
}

BasicAuth::BasicAuth(std::map<std::string, std::string> users) : users_(std::move(users)) {
  // A random setting of the usual cost: unknown users pay one bcrypt too.
  std::array<char, CRYPT_GENSALT_OUTPUT_SIZE> setting{};
  if (crypt_gensalt_rn("$2b$", 10, nullptr, 0, setting.data(), static_cast<int>(setting.size())) !=
      nullptr) {
    dummy_hash_ = setting.data();
  }
}

std::string BasicAuth::crypt(const std::string& password, const std::string& setting) {
  auto data = std::make_unique<crypt_data>();  // ~32 KiB: not on a worker's stack
  const char* hashed = crypt_r(password.c_str(), setting.c_str(), data.get());
  if (hashed == nullptr || hashed[0] == '*') return {};  // "*0"/"*1": failure tokens
  std::string out(hashed);
  OPENSSL_cleanse(data.get(), sizeof(crypt_data));
  return out;
}

bool BasicAuth::check(const char* authorization) const {
  if (authorization == nullptr) return false;
  auto credentials = parseBasicAuthorization(authorization);
  if (!credentials) return false;
  auto& [user, password] = *credentials;
  const auto it = users_.find(user);
  const std::string& expected = it != users_.end() ? it->second : dummy_hash_;
  const std::string computed = crypt(password, expected);
  OPENSSL_cleanse(password.data(), password.size());
  const bool match = !computed.empty() && computed.size() == expected.size() &&
                     CRYPTO_memcmp(computed.data(), expected.data(), expected.size()) == 0;
  return match && it != users_.end();
}

}  // namespace gomodprobe::web
