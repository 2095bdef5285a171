#include "goproxy/gosum.h"

#include <algorithm>
#include <cstddef>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "goproxy/module_path.h"

namespace gomodprobe::goproxy {
namespace {

constexpr std::string_view kGoModSuffix = "/go.mod";
constexpr std::string_view kBase64Alphabet =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
// base64 of 32 bytes: 43 symbols and one '=' of padding.
constexpr std::size_t kH1PayloadSize = 44;

bool isAsciiSpace(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r';
}

std::vector<std::string_view> fields(std::string_view s) {
  std::vector<std::string_view> out;
  std::size_t i = 0;
  while (i < s.size()) {
    while (i < s.size() && isAsciiSpace(s[i])) ++i;
    const std::size_t start = i;
    while (i < s.size() && !isAsciiSpace(s[i])) ++i;
    if (i > start) out.push_back(s.substr(start, i - start));
  }
  return out;
}

// Whether `payload` is the canonical standard base64 encoding of 32 bytes (so that decoding and
// re-encoding gives it back: the last symbol's two unused bits must be zero).
bool isBase64Of32Bytes(std::string_view payload) {
  if (payload.size() != kH1PayloadSize || payload.back() != '=') return false;
  const std::string_view symbols = payload.substr(0, kH1PayloadSize - 1);
  if (!std::all_of(symbols.begin(), symbols.end(),
                   [](char c) { return kBase64Alphabet.find(c) != std::string_view::npos; })) {
    return false;
  }
  return (kBase64Alphabet.find(symbols.back()) & 0x3U) == 0;
}

std::string checkHash(std::string_view hash) {
  const std::size_t colon = hash.find(':');
  if (colon == std::string_view::npos || colon < 2 || hash.front() != 'h' ||
      !std::all_of(hash.begin() + 1, hash.begin() + static_cast<std::ptrdiff_t>(colon),
                   [](char c) { return c >= '0' && c <= '9'; })) {
    return "hash \"" + std::string(hash) + "\" does not start with h<N>:";
  }
  const std::string_view payload = hash.substr(colon + 1);
  if (payload.empty()) return "empty hash";
  if (hash.substr(0, colon) == "h1" && !isBase64Of32Bytes(payload)) {
    return "h1 hash is not base64 of a SHA-256 digest";
  }
  return {};
}

}  // namespace

GoSumLineResult parseGoSumLine(std::string_view line) {
  GoSumLineResult result;
  const std::vector<std::string_view> f = fields(line);
  if (f.size() != 3) {
    result.error = "wrong number of fields " + std::to_string(f.size());
    return result;
  }
  GoSumLine parsed;
  parsed.module_path = std::string(f[0]);
  std::string_view version = f[1];
  if (version.ends_with(kGoModSuffix)) {
    parsed.go_mod = true;
    version.remove_suffix(kGoModSuffix.size());
  }
  parsed.version = std::string(version);
  if (auto err = checkPath(parsed.module_path)) {
    result.error = *err;
    return result;
  }
  if (!isValidSemver(version) || canonicalVersion(version) != version) {
    result.error = "version \"" + parsed.version + "\" is not a canonical semantic version";
    return result;
  }
  if (std::string err = checkHash(f[2]); !err.empty()) {
    result.error = std::move(err);
    return result;
  }
  parsed.hash = std::string(f[2]);
  result.line = std::move(parsed);
  return result;
}

GoSumFileResult parseGoSum(std::string_view data) {
  GoSumFileResult result;
  std::size_t line_number = 0;
  while (!data.empty()) {
    ++line_number;
    std::string_view line = data;
    if (const std::size_t nl = data.find('\n'); nl != std::string_view::npos) {
      line = data.substr(0, nl);
      data.remove_prefix(nl + 1);
    } else {
      data = {};
    }
    const std::vector<std::string_view> f = fields(line);
    if (f.empty()) continue;
    if (f.size() == 3 && f[2] == kEmptyGoModHash) continue;
    GoSumLineResult parsed = parseGoSumLine(line);
    if (!parsed.ok()) {
      result.lines.clear();
      result.error_line = line_number;
      result.error = "line " + std::to_string(line_number) + ": " + parsed.error;
      return result;
    }
    result.lines.push_back(std::move(*parsed.line));
  }
  return result;
}

}  // namespace gomodprobe::goproxy
