#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>

namespace gomodprobe::sumdb {

/// Decodes standard base64 (RFC 4648 §4, with padding) exactly as Go's
/// base64.StdEncoding.DecodeString does: '\r' and '\n' are skipped, padding is required, and
/// non-zero trailing bits are accepted (StdEncoding is not Strict). nullopt on malformed input.
[[nodiscard]] std::optional<std::string> base64Decode(std::string_view text);

/// Standard base64 with padding (Go's base64.StdEncoding.EncodeToString).
[[nodiscard]] std::string base64Encode(std::span<const std::uint8_t> data);
[[nodiscard]] std::string base64Encode(std::string_view data);

/// One rune decoded like Go's utf8.DecodeRune: invalid, overlong, surrogate or out-of-range
/// sequences give {U+FFFD, 1}; an empty input gives {U+FFFD, 0}.
struct DecodedRune {
  char32_t rune = 0;
  std::size_t size = 0;
};
inline constexpr char32_t kRuneError = 0xFFFD;
[[nodiscard]] DecodedRune decodeRune(std::string_view text);

/// Go's utf8.ValidString.
[[nodiscard]] bool isValidUtf8(std::string_view text);

/// Strict decimal int64 like strconv.ParseInt(s, 10, 64): optional sign, digits only, no
/// overflow. nullopt on any error.
[[nodiscard]] std::optional<std::int64_t> parseInt64(std::string_view text);

}  // namespace gomodprobe::sumdb
