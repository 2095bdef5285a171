#include "goproxy/goproxy_list.h"

#include <algorithm>
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "goproxy/unicode_util.h"

namespace gomodprobe::goproxy {
namespace {

// strings.TrimSpace.
std::string_view trimSpace(std::string_view s) {
  while (!s.empty()) {
    const DecodedRune d = decodeRune(s);
    if (!isSpace(d.rune)) break;
    s.remove_prefix(d.size);
  }
  while (!s.empty()) {
    // Step back over one UTF-8 sequence (at most 4 bytes) and decode it.
    std::size_t start = s.size() - 1;
    while (start > 0 && s.size() - start < 4 &&
           (static_cast<unsigned char>(s[start]) & 0xC0U) == 0x80U) {
      --start;
    }
    const DecodedRune d = decodeRune(s.substr(start));
    if (start + d.size != s.size() || !isSpace(d.rune)) break;
    s.remove_suffix(d.size);
  }
  return s;
}

bool asciiIEquals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           const auto lower = [](char c) {
             return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
           };
           return lower(x) == lower(y);
         });
}

std::string asciiLower(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

// One raw entry of the list and the separator that follows it ('\0' at the end).
struct RawEntry {
  std::string_view text;  // untrimmed
  char separator = '\0';
};

std::vector<RawEntry> splitEntries(std::string_view value) {
  std::vector<RawEntry> out;
  while (!value.empty()) {
    const std::size_t i = value.find_first_of(",|");
    if (i == std::string_view::npos) {
      out.push_back({value, '\0'});
      break;
    }
    out.push_back({value.substr(0, i), value[i]});
    value.remove_prefix(i + 1);
  }
  return out;
}

// The "https://" rule of proxyList.
std::string addImplicitScheme(std::string_view url) {
  const bool has_special = url.find_first_of(".:/") != std::string_view::npos;
  const bool is_abs = !url.empty() && url.front() == '/';  // filepath.IsAbs / path.IsAbs on Unix
  if (has_special && url.find(":/") == std::string_view::npos && !is_abs) {
    return "https://" + std::string(url);
  }
  return std::string(url);
}

bool isHex(char c) {
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

// The percent-escape check of url.unescape: returns the error text or "".
std::string checkEscapes(std::string_view s) {
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] != '%') continue;
    if (i + 2 >= s.size() || !isHex(s[i + 1]) || !isHex(s[i + 2])) {
      return "invalid URL escape " + goQuote(s.substr(i, 3));
    }
    i += 2;
  }
  return {};
}

// url.shouldEscape(c, encodeHost) for ASCII bytes: whether `c` is invalid in a host name.
bool invalidHostChar(char c) {
  if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) return false;
  constexpr std::string_view kAllowed = "-_.~!$&'()*+,;=:[]<>\"%";
  return kAllowed.find(c) == std::string_view::npos;
}

// The parts of a URL that newProxyRepo looks at.
struct ParsedUrl {
  std::string scheme;  // lower-cased
  bool has_opaque = false;
  bool has_authority_parts = false;  // user info or host
  bool has_query_or_fragment = false;
};

struct UrlParse {
  std::optional<ParsedUrl> url;
  std::string error;  // url.Error text
};

// A subset of net/url.Parse: control characters, scheme syntax, port syntax, host characters and
// percent escapes are checked; IPv6 literals and user info are not validated in detail.
UrlParse parseUrl(std::string_view raw) {
  UrlParse result;
  const auto fail = [&](const std::string& err) {
    result.error = "parse " + goQuote(raw) + ": " + err;
    return result;
  };
  if (std::any_of(raw.begin(), raw.end(),
                  [](char c) { return static_cast<unsigned char>(c) < 0x20 || c == 0x7F; })) {
    return fail("net/url: invalid control character in URL");
  }
  ParsedUrl url;
  std::string_view rest = raw;
  if (const std::size_t hash = rest.find('#'); hash != std::string_view::npos) {
    url.has_query_or_fragment = true;
    if (std::string err = checkEscapes(rest.substr(hash + 1)); !err.empty()) return fail(err);
    rest = rest.substr(0, hash);
  }
  // url.getScheme.
  for (std::size_t i = 0; i < rest.size(); ++i) {
    const char c = rest[i];
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')) continue;
    if ((c >= '0' && c <= '9') || c == '+' || c == '-' || c == '.') {
      if (i == 0) break;
      continue;
    }
    if (c == ':') {
      if (i == 0) return fail("missing protocol scheme");
      url.scheme = asciiLower(rest.substr(0, i));
      rest.remove_prefix(i + 1);
    }
    break;
  }
  if (const std::size_t q = rest.find('?'); q != std::string_view::npos) {
    url.has_query_or_fragment = true;
    rest = rest.substr(0, q);
  }
  if (!rest.starts_with('/')) {
    if (!url.scheme.empty()) {
      url.has_opaque = !rest.empty();
      result.url = url;
      return result;
    }
    const std::size_t colon = rest.find(':');
    if (colon != std::string_view::npos && colon < rest.find('/')) {
      return fail("first path segment in URL cannot contain colon");
    }
  }
  if ((!url.scheme.empty() || !rest.starts_with("///")) && rest.starts_with("//")) {
    rest.remove_prefix(2);
    const std::size_t slash = std::min(rest.find('/'), rest.size());
    std::string_view authority = rest.substr(0, slash);
    rest.remove_prefix(slash);
    if (const std::size_t at = authority.rfind('@'); at != std::string_view::npos) {
      url.has_authority_parts = true;
      authority.remove_prefix(at + 1);
    }
    std::string_view host = authority;
    if (!host.empty()) url.has_authority_parts = true;
    if (!host.starts_with('[')) {
      if (const std::size_t colon = host.rfind(':'); colon != std::string_view::npos) {
        const std::string_view port = host.substr(colon);
        if (!std::all_of(port.begin() + 1, port.end(),
                         [](char c) { return c >= '0' && c <= '9'; })) {
          return fail("invalid port " + goQuote(port) + " after host");
        }
        host = host.substr(0, colon);
      }
      if (std::string err = checkEscapes(host); !err.empty()) return fail(err);
      for (const char c : host) {
        if (static_cast<unsigned char>(c) < 0x80 && invalidHostChar(c)) {
          return fail("invalid character " + goQuote(std::string_view(&c, 1)) + " in host name");
        }
      }
    }
  }
  if (std::string err = checkEscapes(rest); !err.empty()) return fail(err);
  result.url = url;
  return result;
}

// URL.Redacted, approximately: the password of user info is replaced by "xxxxx".
std::string redacted(std::string_view url) {
  const std::size_t scheme_end = url.find("://");
  if (scheme_end == std::string_view::npos) return std::string(url);
  const std::size_t auth_start = scheme_end + 3;
  const std::size_t auth_end = std::min(url.find('/', auth_start), url.size());
  const std::string_view authority = url.substr(auth_start, auth_end - auth_start);
  const std::size_t at = authority.rfind('@');
  if (at == std::string_view::npos) return std::string(url);
  const std::size_t colon = authority.substr(0, at).find(':');
  if (colon == std::string_view::npos) return std::string(url);
  return std::string(url.substr(0, auth_start + colon + 1)) + "xxxxx" +
         std::string(url.substr(auth_start + at));
}

// newProxyRepo's URL checks. Returns the error text or "".
std::string checkProxyUrl(std::string_view url) {
  UrlParse parsed = parseUrl(url);
  if (!parsed.url) return parsed.error;
  const ParsedUrl& u = *parsed.url;
  if (u.scheme == "http" || u.scheme == "https") return {};
  if (u.scheme == "file") {
    if (u.has_opaque || u.has_authority_parts || u.has_query_or_fragment) {
      return "invalid file:// proxy URL with non-path elements: " + redacted(url);
    }
    return {};
  }
  if (u.scheme.empty()) return "invalid proxy URL missing scheme: " + redacted(url);
  return "invalid proxy URL scheme (must be https, http, file): " + redacted(url);
}

// The URL of a proxy entry as stored in ProxyEntry: one trailing '/' removed.
std::string storedUrl(std::string url) {
  if (url.ends_with('/') && !url.ends_with("://")) url.pop_back();
  return url;
}

}  // namespace

ProxyListResult parseGoProxy(std::string_view value) {
  if (value.empty()) value = kDefaultGoProxy;
  ProxyListResult result;
  for (const RawEntry& raw : splitEntries(value)) {
    const std::string_view entry = trimSpace(raw.text);
    if (entry.empty()) continue;
    if (entry == "off") {
      result.entries.push_back({"off", false, true, false});
      break;
    }
    if (entry == "direct") {
      result.entries.push_back({"direct", true, false, false});
      break;
    }
    std::string url = addImplicitScheme(entry);
    if (std::string err = checkProxyUrl(url); !err.empty()) {
      result.entries.clear();
      result.error = std::move(err);
      return result;
    }
    result.entries.push_back({storedUrl(std::move(url)), false, false, raw.separator == '|'});
  }
  if (result.entries.empty()) {
    result.error = "GOPROXY list is not the empty string, but contains no entries";
  }
  return result;
}

std::vector<LintProblem> lintGoProxy(std::string_view value) {
  std::vector<LintProblem> problems;
  if (value.empty()) {
    problems.push_back(
        {LintSeverity::Warning,
         "GOPROXY is empty: the go command uses the default " + std::string(kDefaultGoProxy),
         "set GOPROXY=" + std::string(kDefaultGoProxy) + " explicitly"});
    return problems;
  }

  const std::vector<RawEntry> raw_entries = splitEntries(value);
  bool has_spaces = false;
  std::vector<std::string> unreachable;
  std::string terminal;  // "direct" or "off" once seen
  std::string fixed;     // the value with all fixable problems fixed
  bool any_entry = false;
  std::vector<LintProblem> entry_problems;

  for (const RawEntry& raw : raw_entries) {
    const std::string_view entry = trimSpace(raw.text);
    if (entry.empty()) continue;
    if (entry.size() != raw.text.size()) has_spaces = true;
    if (!terminal.empty()) {
      unreachable.emplace_back(entry);
      continue;
    }
    any_entry = true;
    std::string fixed_entry(entry);
    if (entry.find(';') != std::string_view::npos) {
      // Each ';'-separated part trimmed, keywords in their only valid (lower) case.
      std::string replaced;
      std::size_t start = 0;
      for (;;) {
        const std::size_t end = entry.find(';', start);
        std::string_view part =
            entry.substr(start, end == std::string_view::npos ? end : end - start);
        while (!part.empty() && part.front() == ' ') part.remove_prefix(1);
        while (!part.empty() && part.back() == ' ') part.remove_suffix(1);
        if (!replaced.empty()) replaced += ',';
        const bool keyword = asciiIEquals(part, "direct") || asciiIEquals(part, "off");
        replaced += keyword ? asciiLower(part) : std::string(part);
        if (end == std::string_view::npos) break;
        start = end + 1;
      }
      entry_problems.push_back(
          {LintSeverity::Error,
           "entry " + goQuote(entry) +
               " contains ';', which is not a GOPROXY separator: the go command reads it as part "
               "of one URL",
           "separate entries with ',' (fall back on 404/410) or '|' (fall back on any error): " +
               goQuote(replaced)});
      fixed_entry = replaced;
    } else if (entry != "direct" && entry != "off" &&
               (asciiIEquals(entry, "direct") || asciiIEquals(entry, "off"))) {
      const std::string lower = asciiLower(entry);
      entry_problems.push_back(
          {LintSeverity::Error,
           "entry " + goQuote(entry) + " is not the keyword " + goQuote(lower) +
               ": keywords are case-sensitive, so the go command fails with a missing-scheme error",
           "write " + goQuote(lower)});
      fixed_entry = lower;
    } else if (entry != "direct" && entry != "off") {
      const std::string url = addImplicitScheme(entry);
      if (std::string err = checkProxyUrl(url); !err.empty()) {
        const UrlParse parsed = parseUrl(url);
        std::string suggestion = "use an https:// URL";
        if (parsed.url && !parsed.url->scheme.empty() && parsed.url->scheme != "file") {
          const std::size_t colon = url.find(':');
          suggestion = "use the proxy's https:// URL, e.g. " + goQuote("https" + url.substr(colon));
        } else if (parsed.url && parsed.url->scheme.empty()) {
          suggestion = "write a full URL, e.g. " + goQuote("https://" + std::string(entry)) +
                       ", or a file:// URL for a directory";
        }
        entry_problems.push_back({LintSeverity::Error, std::move(err), std::move(suggestion)});
      }
    }
    if (fixed_entry == "direct" || fixed_entry == "off") terminal = fixed_entry;
    fixed += fixed_entry;
    if (raw.separator != '\0') fixed.push_back(raw.separator);
  }
  while (!fixed.empty() && (fixed.back() == ',' || fixed.back() == '|')) fixed.pop_back();

  if (!any_entry) {
    problems.push_back({LintSeverity::Error,
                        "GOPROXY list is not the empty string, but contains no entries",
                        "set GOPROXY=" + std::string(kDefaultGoProxy)});
    return problems;
  }
  if (has_spaces) {
    problems.push_back({LintSeverity::Warning,
                        "white space around GOPROXY entries: the go command trims it, but other "
                        "tools (and some proxies' own clients) may not",
                        "GOPROXY=" + fixed});
  }
  for (LintProblem& p : entry_problems) problems.push_back(std::move(p));
  if (!unreachable.empty()) {
    std::string list;
    for (const std::string& u : unreachable) {
      if (!list.empty()) list += ", ";
      list += goQuote(u);
    }
    problems.push_back({LintSeverity::Warning,
                        "entries after " + goQuote(terminal) +
                            " are never consulted: the go command stops at \"direct\" and "
                            "\"off\" (" +
                            list + ")",
                        "remove them: GOPROXY=" + fixed});
  }
  return problems;
}

int servingEntry(const std::vector<ProxyEntry>& entries, const std::vector<int>& outcomes) {
  constexpr int kOk = 200;
  constexpr int kNotFound = 404;
  constexpr int kGone = 410;
  for (std::size_t i = 0; i < entries.size(); ++i) {
    const ProxyEntry& entry = entries[i];
    if (entry.off) return -1;
    if (entry.direct) return static_cast<int>(i);
    if (i >= outcomes.size()) return -1;
    const int outcome = outcomes[i];
    if (outcome == kOk) return static_cast<int>(i);
    const bool not_found = outcome == kNotFound || outcome == kGone;
    if (!entry.fallback_on_any_error && !not_found) return -1;
  }
  return -1;
}

}  // namespace gomodprobe::goproxy
