#pragma once

// Internal helpers shared by the goproxy files: the parts of Go's unicode/utf8, unicode and strconv
// packages that module path, file path and zip name checks depend on. Byte strings are UTF-8.

#include <cstddef>
#include <string>
#include <string_view>

namespace gomodprobe::goproxy {

/// utf8.RuneError (U+FFFD), returned for invalid encodings.
inline constexpr char32_t kRuneError = 0xFFFD;
/// utf8.RuneSelf: runes below this are single bytes.
inline constexpr char32_t kRuneSelf = 0x80;

/// A rune decoded from the front of a string and the number of bytes it took.
struct DecodedRune {
  char32_t rune = kRuneError;
  std::size_t size = 0;
};

/// Follows utf8.DecodeRuneInString (Go unicode/utf8/utf8.go): an empty string gives
/// {kRuneError, 0}; an invalid, overlong or surrogate encoding gives {kRuneError, 1}.
[[nodiscard]] DecodedRune decodeRune(std::string_view s);

/// Follows utf8.ValidString.
[[nodiscard]] bool validUtf8(std::string_view s);

/// unicode.IsSpace: the Latin-1 spaces plus the Unicode White_Space property.
[[nodiscard]] bool isSpace(char32_t r);

/// Appends the UTF-8 encoding of `r` (utf8.AppendRune; invalid runes become U+FFFD).
void appendRune(std::string& out, char32_t r);

/// Follows unicode.IsLetter (Unicode 13.0.0 tables generated from Go 1.19).
[[nodiscard]] bool isLetter(char32_t r);

/// The per-rune step of strToFold in golang.org/x/mod/zip/zip.go: the smallest rune of the
/// unicode.SimpleFold orbit of `r`, except that A-Z map to a-z.
[[nodiscard]] char32_t foldRune(char32_t r);

/// strToFold (x/mod/zip/zip.go): strToFold(s) == strToFold(t) iff strings.EqualFold(s, t).
/// Invalid UTF-8 bytes become U+FFFD, as in Go's range loop.
[[nodiscard]] std::string strToFold(std::string_view s);

/// strings.EqualFold, computed via strToFold.
[[nodiscard]] bool equalFold(std::string_view s, std::string_view t);

/// fmt's %q for a string (strconv.Quote). Non-ASCII runes other than C1 controls count as
/// printable, a simplification of strconv.IsPrint.
[[nodiscard]] std::string goQuote(std::string_view s);

/// fmt's %q for a rune (strconv.QuoteRune), with the same simplification.
[[nodiscard]] std::string goQuoteRune(char32_t r);

}  // namespace gomodprobe::goproxy
