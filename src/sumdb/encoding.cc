#include "sumdb/encoding.h"

#include <array>
#include <limits>

namespace gomodprobe::sumdb {
namespace {

constexpr std::string_view kAlphabet =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

// 0..63 for alphabet characters, -1 otherwise.
constexpr std::array<int, 256> makeDecodeTable() {
  std::array<int, 256> table{};
  for (int& entry : table) entry = -1;
  for (std::size_t i = 0; i < kAlphabet.size(); ++i) {
    table[static_cast<unsigned char>(kAlphabet[i])] = static_cast<int>(i);
  }
  return table;
}
constexpr std::array<int, 256> kDecodeTable = makeDecodeTable();

}  // namespace

std::optional<std::string> base64Decode(std::string_view text) {
  std::string clean;
  clean.reserve(text.size());
  for (const char c : text) {
    if (c != '\r' && c != '\n') clean.push_back(c);
  }
  if (clean.size() % 4 != 0) return std::nullopt;
  std::string out;
  out.reserve(clean.size() / 4 * 3);
  for (std::size_t i = 0; i < clean.size(); i += 4) {
    const bool last = i + 4 == clean.size();
    std::array<int, 4> v{};
    std::size_t pad = 0;
    for (std::size_t j = 0; j < 4; ++j) {
      const char c = clean[i + j];
      if (c == '=') {
        // Padding only in the last quantum, only in positions 2 and 3, and only at the end.
        if (!last || j < 2) return std::nullopt;
        ++pad;
        v.at(j) = 0;
        continue;
      }
      if (pad != 0) return std::nullopt;
      v.at(j) = kDecodeTable.at(static_cast<unsigned char>(c));
      if (v.at(j) < 0) return std::nullopt;
    }
    const auto word = (static_cast<std::uint32_t>(v[0]) << 18U) |
                      (static_cast<std::uint32_t>(v[1]) << 12U) |
                      (static_cast<std::uint32_t>(v[2]) << 6U) | static_cast<std::uint32_t>(v[3]);
    out.push_back(static_cast<char>((word >> 16U) & 0xFFU));
    if (pad < 2) out.push_back(static_cast<char>((word >> 8U) & 0xFFU));
    if (pad < 1) out.push_back(static_cast<char>(word & 0xFFU));
  }
  return out;
}

std::string base64Encode(std::span<const std::uint8_t> data) {
  std::string out;
  out.reserve((data.size() + 2) / 3 * 4);
  std::size_t i = 0;
  for (; i + 3 <= data.size(); i += 3) {
    const std::uint32_t word = (std::uint32_t{data[i]} << 16U) |
                               (std::uint32_t{data[i + 1]} << 8U) | std::uint32_t{data[i + 2]};
    out.push_back(kAlphabet[(word >> 18U) & 63U]);
    out.push_back(kAlphabet[(word >> 12U) & 63U]);
    out.push_back(kAlphabet[(word >> 6U) & 63U]);
    out.push_back(kAlphabet[word & 63U]);
  }
  const std::size_t rest = data.size() - i;
  if (rest == 1) {
    const std::uint32_t word = std::uint32_t{data[i]} << 16U;
    out.push_back(kAlphabet[(word >> 18U) & 63U]);
    out.push_back(kAlphabet[(word >> 12U) & 63U]);
    out.append("==");
  } else if (rest == 2) {
    const std::uint32_t word = (std::uint32_t{data[i]} << 16U) | (std::uint32_t{data[i + 1]} << 8U);
    out.push_back(kAlphabet[(word >> 18U) & 63U]);
    out.push_back(kAlphabet[(word >> 12U) & 63U]);
    out.push_back(kAlphabet[(word >> 6U) & 63U]);
    out.push_back('=');
  }
  return out;
}

std::string base64Encode(std::string_view data) {
  return base64Encode(std::span<const std::uint8_t>(
      reinterpret_cast<const std::uint8_t*>(data.data()), data.size()));
}

DecodedRune decodeRune(std::string_view text) {
  if (text.empty()) return {kRuneError, 0};
  const auto byte = [&](std::size_t i) { return static_cast<std::uint8_t>(text[i]); };
  const std::uint8_t b0 = byte(0);
  if (b0 < 0x80U) return {b0, 1};
  std::size_t size = 0;
  char32_t rune = 0;
  char32_t min = 0;
  // Go additionally narrows the accepted range of the second byte for E0, ED, F0 and F4; the
  // overlong/surrogate/range checks below are equivalent.
  if (b0 >= 0xC2U && b0 <= 0xDFU) {
    size = 2;
    rune = b0 & 0x1FU;
    min = 0x80;
  } else if (b0 >= 0xE0U && b0 <= 0xEFU) {
    size = 3;
    rune = b0 & 0x0FU;
    min = 0x800;
  } else if (b0 >= 0xF0U && b0 <= 0xF4U) {
    size = 4;
    rune = b0 & 0x07U;
    min = 0x10000;
  } else {
    return {kRuneError, 1};
  }
  if (text.size() < size) return {kRuneError, 1};
  for (std::size_t i = 1; i < size; ++i) {
    const std::uint8_t b = byte(i);
    if ((b & 0xC0U) != 0x80U) return {kRuneError, 1};
    rune = (rune << 6U) | (b & 0x3FU);
  }
  if (rune < min || rune > 0x10FFFF || (rune >= 0xD800 && rune <= 0xDFFF)) {
    return {kRuneError, 1};
  }
  return {rune, size};
}

bool isValidUtf8(std::string_view text) {
  while (!text.empty()) {
    const DecodedRune r = decodeRune(text);
    if (r.rune == kRuneError && r.size == 1) return false;
    text.remove_prefix(r.size);
  }
  return true;
}

std::optional<std::int64_t> parseInt64(std::string_view text) {
  bool negative = false;
  if (!text.empty() && (text.front() == '+' || text.front() == '-')) {
    negative = text.front() == '-';
    text.remove_prefix(1);
  }
  if (text.empty()) return std::nullopt;
  // Accumulate as a negative number so that INT64_MIN is representable.
  std::int64_t value = 0;
  constexpr std::int64_t kMin = std::numeric_limits<std::int64_t>::min();
  for (const char c : text) {
    if (c < '0' || c > '9') return std::nullopt;
    const int digit = c - '0';
    if (value < (kMin + digit) / 10) return std::nullopt;
    value = value * 10 - digit;
  }
  if (!negative) {
    if (value == kMin) return std::nullopt;
    value = -value;
  }
  return value;
}

}  // namespace gomodprobe::sumdb
