#include "goproxy/unicode_util.h"

#include <algorithm>
#include <array>
#include <cstdint>
#include <string>
#include <string_view>

namespace gomodprobe::goproxy {
namespace {

struct RuneRange {
  char32_t lo;
  char32_t hi;
};

struct FoldPair {
  char32_t rune;
  char32_t fold;
};

// Generated tables: kLetterRanges and kFoldPairs.
#include "goproxy/unicode_tables.inc"

constexpr char32_t kMaxRune = 0x10FFFF;
constexpr char32_t kSurrogateMin = 0xD800;
constexpr char32_t kSurrogateMax = 0xDFFF;

bool inRange(std::uint8_t b, std::uint8_t lo, std::uint8_t hi) { return lo <= b && b <= hi; }

std::uint8_t byteAt(std::string_view s, std::size_t i) { return static_cast<std::uint8_t>(s[i]); }

char32_t continuationBits(std::uint8_t b) { return static_cast<char32_t>(b & 0x3FU); }

constexpr std::string_view kHexDigits = "0123456789abcdef";

void appendHex(std::string& out, std::uint32_t value, int digits) {
  for (int shift = (digits - 1) * 4; shift >= 0; shift -= 4) {
    out.push_back(kHexDigits[(value >> static_cast<unsigned>(shift)) & 0xFU]);
  }
}

// strconv.IsPrint, simplified for non-ASCII: everything but C1 controls and U+00AD.
bool isPrint(char32_t r) {
  if (r < kRuneSelf) return r >= 0x20 && r < 0x7F;
  return !(r >= 0x80 && r <= 0x9F) && r != 0xAD && r <= kMaxRune &&
         !(r >= kSurrogateMin && r <= kSurrogateMax);
}

// The escaping part of strconv.appendQuotedWith / appendEscapedRune.
void appendEscapedRune(std::string& out, char32_t r, char quote) {
  if (r == static_cast<char32_t>(quote) || r == '\\') {
    out.push_back('\\');
    out.push_back(static_cast<char>(r));
    return;
  }
  if (isPrint(r)) {
    appendRune(out, r);
    return;
  }
  switch (r) {
    case '\a':
      out += "\\a";
      return;
    case '\b':
      out += "\\b";
      return;
    case '\f':
      out += "\\f";
      return;
    case '\n':
      out += "\\n";
      return;
    case '\r':
      out += "\\r";
      return;
    case '\t':
      out += "\\t";
      return;
    case '\v':
      out += "\\v";
      return;
    default:
      break;
  }
  if (r < ' ' || r == 0x7F) {
    out += "\\x";
    appendHex(out, r, 2);
  } else if (r > kMaxRune) {
    out += "\\ufffd";
  } else if (r < 0x10000) {
    out += "\\u";
    appendHex(out, r, 4);
  } else {
    out += "\\U";
    appendHex(out, r, 8);
  }
}

}  // namespace

DecodedRune decodeRune(std::string_view s) {
  if (s.empty()) return {kRuneError, 0};
  const std::uint8_t b0 = byteAt(s, 0);
  if (b0 < kRuneSelf) return {b0, 1};
  const DecodedRune invalid{kRuneError, 1};
  std::size_t size = 0;
  std::uint8_t lo = 0x80;
  std::uint8_t hi = 0xBF;
  if (inRange(b0, 0xC2, 0xDF)) {
    size = 2;
  } else if (inRange(b0, 0xE0, 0xEF)) {
    size = 3;
    if (b0 == 0xE0) lo = 0xA0;
    if (b0 == 0xED) hi = 0x9F;
  } else if (inRange(b0, 0xF0, 0xF4)) {
    size = 4;
    if (b0 == 0xF0) lo = 0x90;
    if (b0 == 0xF4) hi = 0x8F;
  } else {
    return invalid;
  }
  if (s.size() < size || !inRange(byteAt(s, 1), lo, hi)) return invalid;
  for (std::size_t i = 2; i < size; ++i) {
    if (!inRange(byteAt(s, i), 0x80, 0xBF)) return invalid;
  }
  char32_t r = 0;
  switch (size) {
    case 2:
      r = (static_cast<char32_t>(b0 & 0x1FU) << 6U) | continuationBits(byteAt(s, 1));
      break;
    case 3:
      r = (static_cast<char32_t>(b0 & 0x0FU) << 12U) | (continuationBits(byteAt(s, 1)) << 6U) |
          continuationBits(byteAt(s, 2));
      break;
    default:
      r = (static_cast<char32_t>(b0 & 0x07U) << 18U) | (continuationBits(byteAt(s, 1)) << 12U) |
          (continuationBits(byteAt(s, 2)) << 6U) | continuationBits(byteAt(s, 3));
      break;
  }
  return {r, size};
}

bool validUtf8(std::string_view s) {
  while (!s.empty()) {
    const DecodedRune d = decodeRune(s);
    if (d.rune == kRuneError && d.size == 1) return false;
    s.remove_prefix(d.size);
  }
  return true;
}

void appendRune(std::string& out, char32_t r) {
  if (r > kMaxRune || (r >= kSurrogateMin && r <= kSurrogateMax)) r = kRuneError;
  if (r < 0x80) {
    out.push_back(static_cast<char>(r));
  } else if (r < 0x800) {
    out.push_back(static_cast<char>(0xC0U | (r >> 6U)));
    out.push_back(static_cast<char>(0x80U | (r & 0x3FU)));
  } else if (r < 0x10000) {
    out.push_back(static_cast<char>(0xE0U | (r >> 12U)));
    out.push_back(static_cast<char>(0x80U | ((r >> 6U) & 0x3FU)));
    out.push_back(static_cast<char>(0x80U | (r & 0x3FU)));
  } else {
    out.push_back(static_cast<char>(0xF0U | (r >> 18U)));
    out.push_back(static_cast<char>(0x80U | ((r >> 12U) & 0x3FU)));
    out.push_back(static_cast<char>(0x80U | ((r >> 6U) & 0x3FU)));
    out.push_back(static_cast<char>(0x80U | (r & 0x3FU)));
  }
}

bool isLetter(char32_t r) {
  if (r < kRuneSelf) return (r >= 'a' && r <= 'z') || (r >= 'A' && r <= 'Z');
  const auto* it = std::upper_bound(kLetterRanges.begin(), kLetterRanges.end(), r,
                                    [](char32_t v, const RuneRange& rr) { return v < rr.lo; });
  if (it == kLetterRanges.begin()) return false;
  --it;
  return r <= it->hi;
}

char32_t foldRune(char32_t r) {
  const auto* it = std::lower_bound(kFoldPairs.begin(), kFoldPairs.end(), r,
                                    [](const FoldPair& p, char32_t v) { return p.rune < v; });
  if (it != kFoldPairs.end() && it->rune == r) return it->fold;
  return r;
}

std::string strToFold(std::string_view s) {
  const bool fast = std::none_of(s.begin(), s.end(), [](char c) {
    const auto b = static_cast<std::uint8_t>(c);
    return b >= kRuneSelf || (b >= 'A' && b <= 'Z');
  });
  if (fast) return std::string(s);
  std::string out;
  out.reserve(s.size());
  while (!s.empty()) {
    const DecodedRune d = decodeRune(s);
    appendRune(out, foldRune(d.rune));
    s.remove_prefix(d.size);
  }
  return out;
}

bool equalFold(std::string_view s, std::string_view t) { return strToFold(s) == strToFold(t); }

std::string goQuote(std::string_view s) {
  std::string out = "\"";
  while (!s.empty()) {
    const DecodedRune d = decodeRune(s);
    if (d.rune == kRuneError && d.size == 1) {
      out += "\\x";
      appendHex(out, byteAt(s, 0), 2);
    } else {
      appendEscapedRune(out, d.rune, '"');
    }
    s.remove_prefix(d.size);
  }
  out.push_back('"');
  return out;
}

std::string goQuoteRune(char32_t r) {
  std::string out = "'";
  appendEscapedRune(out, r, '\'');
  out.push_back('\'');
  return out;
}

bool isSpace(char32_t r) {
  switch (r) {
    case '\t':
    case '\n':
    case '\v':
    case '\f':
    case '\r':
    case ' ':
    case 0x85:
    case 0xA0:
    case 0x1680:
    case 0x2028:
    case 0x2029:
    case 0x202F:
    case 0x205F:
    case 0x3000:
      return true;
    default:
      return r >= 0x2000 && r <= 0x200A;
  }
}

}  // namespace gomodprobe::goproxy
