#include "goproxy/module_path.h"

#include <algorithm>
#include <array>
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

#include "goproxy/unicode_util.h"

namespace gomodprobe::goproxy {
namespace {

// module.go's pathKind.
enum class PathKind { Module, Import, File };

constexpr std::array<std::string_view, 22> kBadWindowsNames = {
    "CON",  "PRN",  "AUX",  "NUL",  "COM1", "COM2", "COM3", "COM4", "COM5", "COM6", "COM7",
    "COM8", "COM9", "LPT1", "LPT2", "LPT3", "LPT4", "LPT5", "LPT6", "LPT7", "LPT8", "LPT9"};

bool isDigit(char32_t r) { return r >= '0' && r <= '9'; }
bool isLower(char32_t r) { return r >= 'a' && r <= 'z'; }
bool isUpper(char32_t r) { return r >= 'A' && r <= 'Z'; }

// module.firstPathOK.
bool firstPathOk(char32_t r) { return r == '-' || r == '.' || isDigit(r) || isLower(r); }

// module.modPathOK.
bool modPathOk(char32_t r) {
  return r == '-' || r == '.' || r == '_' || r == '~' || isDigit(r) || isUpper(r) || isLower(r);
}

// module.importPathOK.
bool importPathOk(char32_t r) { return modPathOk(r) || r == '+'; }

// module.fileNameOK.
bool fileNameOk(char32_t r) {
  if (r < kRuneSelf) {
    constexpr std::string_view kAllowed = "!#$%&()+,-.=@[]^_{}~ ";
    if (isDigit(r) || isUpper(r) || isLower(r)) return true;
    return kAllowed.find(static_cast<char>(r)) != std::string_view::npos;
  }
  return isLetter(r);
}

bool asciiEqualFold(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           const auto lower = [](char c) {
             return (c >= 'A' && c <= 'Z') ? char(c - 'A' + 'a') : c;
           };
           return lower(x) == lower(y);
         });
}

// module.checkElem.
std::optional<std::string> checkElem(std::string_view elem, PathKind kind) {
  if (elem.empty()) return "empty path element";
  if (std::all_of(elem.begin(), elem.end(), [](char c) { return c == '.'; })) {
    return "invalid path element " + goQuote(elem);
  }
  if (elem.front() == '.' && kind == PathKind::Module) return "leading dot in path element";
  if (elem.back() == '.') return "trailing dot in path element";
  for (std::string_view rest = elem; !rest.empty();) {
    const DecodedRune d = decodeRune(rest);
    bool ok = false;
    switch (kind) {
      case PathKind::Module:
        ok = modPathOk(d.rune);
        break;
      case PathKind::Import:
        ok = importPathOk(d.rune);
        break;
      case PathKind::File:
        ok = fileNameOk(d.rune);
        break;
    }
    if (!ok) return "invalid char " + goQuoteRune(d.rune);
    rest.remove_prefix(d.size);
  }

  // Windows disallows a bunch of path elements, sadly.
  std::string_view short_name = elem.substr(0, elem.find('.'));
  for (const std::string_view bad : kBadWindowsNames) {
    // The names are ASCII, so strings.EqualFold reduces to ASCII folding except for the Kelvin
    // sign, which cannot occur in an ASCII name's fold orbit here (no 'K' in the list).
    if (asciiEqualFold(bad, short_name)) {
      return goQuote(short_name) + " disallowed as path element component on Windows";
    }
  }
  if (kind == PathKind::File) return std::nullopt;

  // Reject path components that look like Windows short-names.
  const std::size_t tilde = short_name.rfind('~');
  if (tilde != std::string_view::npos && tilde + 1 < short_name.size()) {
    const std::string_view suffix = short_name.substr(tilde + 1);
    if (std::all_of(suffix.begin(), suffix.end(), [](char c) { return c >= '0' && c <= '9'; })) {
      return "trailing tilde and digits in path element";
    }
  }
  return std::nullopt;
}

// module.checkPath.
std::optional<std::string> checkPathKind(std::string_view path, PathKind kind) {
  if (!validUtf8(path)) return "invalid UTF-8";
  if (path.empty()) return "empty string";
  if (path.front() == '-' && kind != PathKind::File) return "leading dash";
  if (path.find("//") != std::string_view::npos) return "double slash";
  if (path.back() == '/') return "trailing slash";
  std::size_t elem_start = 0;
  for (std::size_t i = 0; i < path.size(); ++i) {
    if (path[i] == '/') {
      if (auto err = checkElem(path.substr(elem_start, i - elem_start), kind)) return err;
      elem_start = i + 1;
    }
  }
  return checkElem(path.substr(elem_start), kind);
}

std::optional<std::string> checkPathInner(std::string_view path) {
  if (auto err = checkPathKind(path, PathKind::Module)) return err;
  const std::size_t slash = std::min(path.find('/'), path.size());
  if (slash == 0) return "leading slash";
  const std::string_view first = path.substr(0, slash);
  if (first.find('.') == std::string_view::npos) return "missing dot in first path element";
  if (path.front() == '-') return "leading dash in first path element";
  for (const char c : first) {
    // checkPathKind accepted only ASCII, so bytes are runes here.
    if (!firstPathOk(static_cast<unsigned char>(c))) {
      return "invalid char " + goQuoteRune(static_cast<unsigned char>(c)) +
             " in first path element";
    }
  }
  if (!splitPathVersion(path).ok) return "invalid version";
  return std::nullopt;
}

// semver.go's parsed.
struct ParsedSemver {
  std::string_view major;
  std::string_view minor;
  std::string_view patch;
  std::string_view short_suffix;
  std::string_view prerelease;
  std::string_view build;
};

// semver.parseInt: consumes a number without leading zeros from the front of `v`.
bool parseInt(std::string_view& v, std::string_view& out) {
  if (v.empty() || !isDigit(static_cast<unsigned char>(v.front()))) return false;
  std::size_t i = 1;
  while (i < v.size() && isDigit(static_cast<unsigned char>(v[i]))) ++i;
  if (v.front() == '0' && i != 1) return false;
  out = v.substr(0, i);
  v.remove_prefix(i);
  return true;
}

bool isIdentChar(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-';
}

// semver.isBadNum: a numeric identifier with a leading zero.
bool isBadNum(std::string_view v) {
  return v.size() > 1 && v.front() == '0' &&
         std::all_of(v.begin(), v.end(), [](char c) { return c >= '0' && c <= '9'; });
}

// semver.parsePrerelease (isPrerelease = true) and semver.parseBuild (false): dot-separated
// non-empty identifiers after the leading '-' or '+'.
bool parseIdents(std::string_view& v, std::string_view& out, bool is_prerelease) {
  std::size_t i = 1;
  std::size_t start = 1;
  for (; i < v.size() && !(is_prerelease && v[i] == '+'); ++i) {
    if (!isIdentChar(v[i]) && v[i] != '.') return false;
    if (v[i] == '.') {
      if (start == i || (is_prerelease && isBadNum(v.substr(start, i - start)))) return false;
      start = i + 1;
    }
  }
  if (start == i || (is_prerelease && isBadNum(v.substr(start, i - start)))) return false;
  out = v.substr(0, i);
  v.remove_prefix(i);
  return true;
}

// semver.parse.
std::optional<ParsedSemver> parseSemver(std::string_view v) {
  ParsedSemver p;
  if (v.empty() || v.front() != 'v') return std::nullopt;
  v.remove_prefix(1);
  if (!parseInt(v, p.major)) return std::nullopt;
  if (v.empty()) {
    p.minor = "0";
    p.patch = "0";
    p.short_suffix = ".0.0";
    return p;
  }
  if (v.front() != '.') return std::nullopt;
  v.remove_prefix(1);
  if (!parseInt(v, p.minor)) return std::nullopt;
  if (v.empty()) {
    p.patch = "0";
    p.short_suffix = ".0";
    return p;
  }
  if (v.front() != '.') return std::nullopt;
  v.remove_prefix(1);
  if (!parseInt(v, p.patch)) return std::nullopt;
  if (!v.empty() && v.front() == '-' && !parseIdents(v, p.prerelease, true)) return std::nullopt;
  if (!v.empty() && v.front() == '+' && !parseIdents(v, p.build, false)) return std::nullopt;
  if (!v.empty()) return std::nullopt;
  return p;
}

// semver.Major.
std::string semverMajor(std::string_view v) {
  const auto p = parseSemver(v);
  if (!p) return "";
  return std::string(v.substr(0, 1 + p->major.size()));
}

// module.CheckPathMajor; returns the InvalidVersionError's inner text.
std::optional<std::string> checkPathMajor(std::string_view v, std::string_view path_major) {
  constexpr std::string_view kUnstable = "-unstable";
  if (path_major.starts_with(".v") && path_major.ends_with(kUnstable)) {
    path_major.remove_suffix(kUnstable.size());
  }
  if (v.starts_with("v0.0.0-") && path_major == ".v1") return std::nullopt;
  const std::string m = semverMajor(v);
  std::string want;
  if (path_major.empty()) {
    const auto p = parseSemver(v);
    if (m == "v0" || m == "v1" || (p && p->build == "+incompatible")) return std::nullopt;
    want = "v0 or v1";
  } else if (path_major.front() == '/' || path_major.front() == '.') {
    if (m == path_major.substr(1)) return std::nullopt;
    want = std::string(path_major.substr(1));
  } else {
    want = std::string(path_major);
  }
  return "should be " + want + ", not " + m;
}

// module.unescapeString.
std::optional<std::string> unescapeString(std::string_view escaped) {
  std::string out;
  out.reserve(escaped.size());
  bool bang = false;
  for (const char c : escaped) {
    const auto r = static_cast<unsigned char>(c);
    if (r >= kRuneSelf) return std::nullopt;
    if (bang) {
      bang = false;
      if (!isLower(r)) return std::nullopt;
      out.push_back(static_cast<char>(r - 'a' + 'A'));
      continue;
    }
    if (c == '!') {
      bang = true;
      continue;
    }
    if (isUpper(r)) return std::nullopt;
    out.push_back(c);
  }
  if (bang) return std::nullopt;
  return out;
}

// module.escapeString.
std::optional<std::string> escapeString(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (const char c : s) {
    const auto r = static_cast<unsigned char>(c);
    if (c == '!' || r >= kRuneSelf) return std::nullopt;
    if (isUpper(r)) {
      out.push_back('!');
      out.push_back(static_cast<char>(r - 'A' + 'a'));
    } else {
      out.push_back(c);
    }
  }
  return out;
}

bool validVersionElem(std::string_view v) {
  return !checkElem(v, PathKind::File) && v.find('!') == std::string_view::npos;
}

// path.match.go's scanChunk: splits off a leading run of '*' and the following non-star chunk.
struct Chunk {
  bool star = false;
  std::string_view chunk;
  std::string_view rest;
};

Chunk scanChunk(std::string_view pattern) {
  Chunk c;
  while (!pattern.empty() && pattern.front() == '*') {
    pattern.remove_prefix(1);
    c.star = true;
  }
  bool in_range = false;
  std::size_t i = 0;
  for (; i < pattern.size(); ++i) {
    const char ch = pattern[i];
    if (ch == '\\') {
      if (i + 1 < pattern.size()) ++i;
    } else if (ch == '[') {
      in_range = true;
    } else if (ch == ']') {
      in_range = false;
    } else if (ch == '*' && !in_range) {
      break;
    }
  }
  c.chunk = pattern.substr(0, i);
  c.rest = pattern.substr(i);
  return c;
}

// path.match.go's getEsc: a possibly escaped character of a character class.
bool getEsc(std::string_view& chunk, char32_t& r) {
  if (chunk.empty() || chunk.front() == '-' || chunk.front() == ']') return false;
  if (chunk.front() == '\\') {
    chunk.remove_prefix(1);
    if (chunk.empty()) return false;
  }
  const DecodedRune d = decodeRune(chunk);
  r = d.rune;
  chunk.remove_prefix(d.size);
  return !(d.rune == kRuneError && d.size == 1) && !chunk.empty();
}

// The result of path.match.go's matchChunk.
struct ChunkMatch {
  bool ok = false;
  bool bad_pattern = false;
  std::string_view rest;
};

// path.match.go's matchChunk: whether `chunk` (no '*') matches the beginning of `s`.
ChunkMatch matchChunk(std::string_view chunk, std::string_view s) {
  bool failed = false;
  while (!chunk.empty()) {
    if (!failed && s.empty()) failed = true;
    const char head = chunk.front();
    if (head == '[') {
      char32_t r = 0;
      if (!failed) {
        const DecodedRune d = decodeRune(s);
        r = d.rune;
        s.remove_prefix(d.size);
      }
      chunk.remove_prefix(1);
      bool negated = false;
      if (!chunk.empty() && chunk.front() == '^') {
        negated = true;
        chunk.remove_prefix(1);
      }
      bool match = false;
      int nrange = 0;
      while (true) {
        if (!chunk.empty() && chunk.front() == ']' && nrange > 0) {
          chunk.remove_prefix(1);
          break;
        }
        char32_t lo = 0;
        if (!getEsc(chunk, lo)) return {false, true, {}};
        char32_t hi = lo;
        if (chunk.front() == '-') {
          chunk.remove_prefix(1);
          if (!getEsc(chunk, hi)) return {false, true, {}};
        }
        if (lo <= r && r <= hi) match = true;
        ++nrange;
      }
      if (match == negated) failed = true;
    } else if (head == '?') {
      if (!failed) {
        if (s.front() == '/') failed = true;
        s.remove_prefix(decodeRune(s).size);
      }
      chunk.remove_prefix(1);
    } else {
      if (head == '\\') {
        chunk.remove_prefix(1);
        if (chunk.empty()) return {false, true, {}};
      }
      if (!failed) {
        if (chunk.front() != s.front()) failed = true;
        s.remove_prefix(1);
      }
      chunk.remove_prefix(1);
    }
  }
  if (failed) return {};
  return {true, false, s};
}

}  // namespace

std::optional<std::string> checkPath(std::string_view path) {
  if (auto err = checkPathInner(path)) {
    return "malformed module path " + goQuote(path) + ": " + *err;
  }
  return std::nullopt;
}

std::optional<std::string> checkFilePath(std::string_view path) {
  if (auto err = checkPathKind(path, PathKind::File)) {
    return "malformed file path " + goQuote(path) + ": " + *err;
  }
  return std::nullopt;
}

bool isValidSemver(std::string_view version) { return parseSemver(version).has_value(); }

namespace {

// semver.compareInt: numbers without leading zeros compare by length, then bytewise.
int compareInt(std::string_view x, std::string_view y) {
  if (x == y) return 0;
  if (x.size() != y.size()) return x.size() < y.size() ? -1 : 1;
  return x < y ? -1 : 1;
}

bool isNum(std::string_view v) {
  return !v.empty() && std::all_of(v.begin(), v.end(), [](char c) { return c >= '0' && c <= '9'; });
}

// semver.comparePrerelease: "" (a release) sorts after any pre-release; dot-separated
// identifiers compare numerically when both are numbers, numbers before words.
int comparePrerelease(std::string_view x, std::string_view y) {
  if (x == y) return 0;
  if (x.empty()) return 1;
  if (y.empty()) return -1;
  x.remove_prefix(1);  // the leading '-'
  y.remove_prefix(1);
  while (!x.empty() && !y.empty()) {
    const auto dx = x.find('.');
    const auto dy = y.find('.');
    const std::string_view ix = x.substr(0, dx);
    const std::string_view iy = y.substr(0, dy);
    if (ix != iy) {
      const bool nx = isNum(ix);
      const bool ny = isNum(iy);
      if (nx != ny) return nx ? -1 : 1;
      if (nx) return compareInt(ix, iy);
      return ix < iy ? -1 : 1;
    }
    x = dx == std::string_view::npos ? std::string_view() : x.substr(dx + 1);
    y = dy == std::string_view::npos ? std::string_view() : y.substr(dy + 1);
  }
  if (x.empty() && y.empty()) return 0;
  return x.empty() ? -1 : 1;
}

}  // namespace

int compareSemver(std::string_view a, std::string_view b) {
  const auto pa = parseSemver(a);
  const auto pb = parseSemver(b);
  if (!pa && !pb) return 0;
  if (!pa) return -1;
  if (!pb) return 1;
  if (int c = compareInt(pa->major, pb->major)) return c;
  if (int c = compareInt(pa->minor, pb->minor)) return c;
  if (int c = compareInt(pa->patch, pb->patch)) return c;
  return comparePrerelease(pa->prerelease, pb->prerelease);
}

std::optional<std::string> latestFromList(const std::vector<std::string>& versions) {
  std::optional<std::string> release;
  std::optional<std::string> prerelease;
  for (const auto& v : versions) {
    const auto parsed = parseSemver(v);
    if (!parsed) continue;
    auto& best = parsed->prerelease.empty() ? release : prerelease;
    if (!best || compareSemver(v, *best) > 0) best = v;
  }
  return release ? release : prerelease;
}

std::string canonicalVersion(std::string_view version) {
  const auto p = parseSemver(version);
  if (!p) return "";
  std::string canonical;
  if (!p->build.empty()) {
    canonical = std::string(version.substr(0, version.size() - p->build.size()));
  } else {
    canonical = std::string(version) + std::string(p->short_suffix);
  }
  if (p->build == "+incompatible") canonical += "+incompatible";
  return canonical;
}

std::optional<std::string> checkModuleVersion(std::string_view path, std::string_view version) {
  if (const std::string canonical = canonicalVersion(version); canonical != version) {
    return "version " + goQuote(version) + " is not canonical (should be " + goQuote(canonical) +
           ")";
  }
  if (auto err = checkPath(path)) return err;
  const std::string prefix = std::string(path) + "@" + std::string(version) + ": invalid version: ";
  if (!isValidSemver(version)) return prefix + "not a semantic version";
  if (auto err = checkPathMajor(version, splitPathVersion(path).path_major)) return prefix + *err;
  return std::nullopt;
}

PathVersionSplit splitPathVersion(std::string_view path) {
  const auto digit = [&](std::size_t i) { return path[i] >= '0' && path[i] <= '9'; };
  if (path.starts_with("gopkg.in/")) {
    // module.splitGopkgIn.
    std::size_t i = path.size();
    if (path.ends_with("-unstable")) i -= std::string_view("-unstable").size();
    while (i > 0 && digit(i - 1)) --i;
    if (i <= 1 || path[i - 1] != 'v' || path[i - 2] != '.') return {path, {}, false};
    const std::string_view major = path.substr(i - 2);
    if (major.size() <= 2 || (major[2] == '0' && major != ".v0")) return {path, {}, false};
    return {path.substr(0, i - 2), major, true};
  }
  std::size_t i = path.size();
  bool dot = false;
  while (i > 0 && (digit(i - 1) || path[i - 1] == '.')) {
    if (path[i - 1] == '.') dot = true;
    --i;
  }
  if (i <= 1 || i == path.size() || path[i - 1] != 'v' || path[i - 2] != '/') {
    return {path, {}, true};
  }
  const std::string_view major = path.substr(i - 2);
  if (dot || major.size() <= 2 || major[2] == '0' || major == "/v1") return {path, {}, false};
  return {path.substr(0, i - 2), major, true};
}

std::optional<std::string> escapePath(std::string_view path) {
  if (checkPath(path)) return std::nullopt;
  return escapeString(path);
}

std::optional<std::string> escapeVersion(std::string_view version) {
  if (!validVersionElem(version)) return std::nullopt;
  return escapeString(version);
}

std::optional<std::string> unescapePath(std::string_view escaped) {
  auto path = unescapeString(escaped);
  if (!path || checkPath(*path)) return std::nullopt;
  return path;
}

std::optional<std::string> unescapeVersion(std::string_view escaped) {
  auto version = unescapeString(escaped);
  // module.UnescapeVersion checks only checkElem; '!' cannot survive unescaping anyway.
  if (!version || checkElem(*version, PathKind::File)) return std::nullopt;
  return version;
}

PathMatchResult pathMatch(std::string_view pattern, std::string_view name) {
  while (!pattern.empty()) {
    const Chunk c = scanChunk(pattern);
    pattern = c.rest;
    if (c.star && c.chunk.empty()) {
      // Trailing * matches rest of string unless it has a /.
      return {name.find('/') == std::string_view::npos, false};
    }
    const ChunkMatch m = matchChunk(c.chunk, name);
    if (m.ok && (m.rest.empty() || !pattern.empty())) {
      name = m.rest;
      continue;
    }
    if (m.bad_pattern) return {false, true};
    bool advanced = false;
    if (c.star) {
      // Look for a match skipping i+1 bytes; '*' cannot skip '/'.
      for (std::size_t i = 0; i < name.size() && name[i] != '/'; ++i) {
        const ChunkMatch skip = matchChunk(c.chunk, name.substr(i + 1));
        if (skip.ok) {
          if (pattern.empty() && !skip.rest.empty()) continue;
          name = skip.rest;
          advanced = true;
          break;
        }
        if (skip.bad_pattern) return {false, true};
      }
    }
    if (advanced) continue;
    // Before returning false, check that the remainder of the pattern is well-formed.
    while (!pattern.empty()) {
      const Chunk next = scanChunk(pattern);
      pattern = next.rest;
      if (matchChunk(next.chunk, "").bad_pattern) return {false, true};
    }
    return {false, false};
  }
  return {name.empty(), false};
}

bool matchPrefixPatterns(std::string_view globs, std::string_view target) {
  while (!globs.empty()) {
    std::string_view glob;
    if (const std::size_t comma = globs.find(','); comma != std::string_view::npos) {
      glob = globs.substr(0, comma);
      globs.remove_prefix(comma + 1);
    } else {
      glob = globs;
      globs = {};
    }
    if (glob.ends_with('/')) glob.remove_suffix(1);
    if (glob.empty()) continue;

    // A glob with N+1 path elements (N slashes) is matched against the first N+1 path elements
    // of target, which end just before the N+1'th slash.
    auto n = std::count(glob.begin(), glob.end(), '/');
    std::string_view prefix = target;
    for (std::size_t i = 0; i < target.size(); ++i) {
      if (target[i] == '/') {
        if (n == 0) {
          prefix = target.substr(0, i);
          break;
        }
        --n;
      }
    }
    if (n > 0) continue;  // Not enough prefix elements.
    if (pathMatch(glob, prefix).matched) return true;
  }
  return false;
}

}  // namespace gomodprobe::goproxy
