#include "vcs/go_import.h"

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <optional>
#include <utility>

namespace gomodprobe::vcs {

namespace {

constexpr char32_t kMaxRune = 0x10FFFF;

bool isNameByte(unsigned char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' ||
         c == ':' || c == '.' || c == '-';
}

char asciiLower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

bool equalFold(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return asciiLower(x) == asciiLower(y);
         });
}

// Decodes one UTF-8 rune at `s`; size 1 and rune U+FFFD with ok=false on an invalid sequence
// (utf8.DecodeRune's RuneError, size 1).
struct Rune {
  char32_t value = 0;
  std::size_t size = 1;
  bool ok = false;
};

Rune decodeRune(std::string_view s) {
  const auto b0 = static_cast<unsigned char>(s[0]);
  if (b0 < 0x80) return {b0, 1, true};
  std::size_t need = 0;
  char32_t value = 0;
  char32_t min = 0;
  if ((b0 & 0xE0) == 0xC0) {
    need = 1;
    value = b0 & 0x1F;
    min = 0x80;
  } else if ((b0 & 0xF0) == 0xE0) {
    need = 2;
    value = b0 & 0x0F;
    min = 0x800;
  } else if ((b0 & 0xF8) == 0xF0) {
    need = 3;
    value = b0 & 0x07;
    min = 0x10000;
  } else {
    return {};
  }
  if (s.size() < need + 1) return {};
  for (std::size_t i = 1; i <= need; ++i) {
    const auto b = static_cast<unsigned char>(s[i]);
    if ((b & 0xC0) != 0x80) return {};
    value = (value << 6) | (b & 0x3F);
  }
  if (value < min || value > kMaxRune || (value >= 0xD800 && value <= 0xDFFF)) return {};
  return {value, need + 1, true};
}

// encoding/xml isInCharacterRange.
bool isInCharacterRange(char32_t r) {
  return r == 0x09 || r == 0x0A || r == 0x0D || (r >= 0x20 && r <= 0xD7FF) ||
         (r >= 0xE000 && r <= 0xFFFD) || (r >= 0x10000 && r <= 0x10FFFF);
}

// encoding/xml isName, with Unicode's letter tables reduced to "any non-ASCII rune".
bool isName(std::string_view s) {
  if (s.empty()) return false;
  bool first = true;
  while (!s.empty()) {
    const Rune r = decodeRune(s);
    if (!r.ok) return false;
    if (r.value < 0x80) {
      const char c = static_cast<char>(r.value);
      const bool letter = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '_' || c == ':';
      const bool second = (c >= '0' && c <= '9') || c == '-' || c == '.';
      if (first ? !letter : !(letter || second)) return false;
    }
    first = false;
    s.remove_prefix(r.size);
  }
  return true;
}

void appendUtf8(std::string& out, char32_t r) {
  if (r < 0x80) {
    out += static_cast<char>(r);
  } else if (r < 0x800) {
    out += static_cast<char>(0xC0 | (r >> 6));
    out += static_cast<char>(0x80 | (r & 0x3F));
  } else if (r < 0x10000) {
    if (r >= 0xD800 && r <= 0xDFFF) r = 0xFFFD;
    out += static_cast<char>(0xE0 | (r >> 12));
    out += static_cast<char>(0x80 | ((r >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (r & 0x3F));
  } else {
    out += static_cast<char>(0xF0 | (r >> 18));
    out += static_cast<char>(0x80 | ((r >> 12) & 0x3F));
    out += static_cast<char>(0x80 | ((r >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (r & 0x3F));
  }
}

struct Attr {
  std::string local;
  std::string value;
};

enum class TokenType { StartElement, EndElement, Other };

struct Token {
  TokenType type = TokenType::Other;
  std::string local;  // element name (local part)
  std::vector<Attr> attrs;
};

// A transcription of encoding/xml.Decoder.rawToken with Strict = false, AutoClose = nil,
// Entity = nil: the same tokens and the same syntax errors, without building what is not needed.
class Decoder {
 public:
  explicit Decoder(std::string_view in) : in_(in) {}

  // false at the end of input (error() == "" ) or on a syntax error (error() set).
  bool next(Token& token) {
    token = Token{};
    if (!error_.empty()) return false;
    if (need_close_) {
      need_close_ = false;
      token.type = TokenType::EndElement;
      token.local = std::move(to_close_);
      return true;
    }
    unsigned char b = 0;
    if (!getc(b)) return false;  // io.EOF
    if (b != '<') {
      ungetc();
      std::string data;
      return text(-1, false, data);
    }
    if (!mustgetc(b)) return false;
    switch (b) {
      case '/': {
        std::string local;
        if (!nsname(local)) return syntax("expected element name after </");
        space();
        if (!mustgetc(b)) return false;
        if (b != '>') return syntax("invalid characters between </" + local + " and >");
        token.type = TokenType::EndElement;
        token.local = std::move(local);
        return true;
      }
      case '?': {
        std::string target;
        if (!name(target)) return syntax("expected target name after <?");
        space();
        std::string data;
        unsigned char b0 = 0;
        for (;;) {
          if (!mustgetc(b)) return false;
          data += static_cast<char>(b);
          if (b0 == '?' && b == '>') break;
          b0 = b;
        }
        data.resize(data.size() - 2);
        if (target == "xml") {
          const std::string version = procInst("version", data);
          if (!version.empty() && version != "1.0") {
            error_ = "xml: unsupported version \"" + version + "\"; only version 1.0 is supported";
            return false;
          }
          const std::string encoding = procInst("encoding", data);
          if (!encoding.empty() && !equalFold(encoding, "utf-8") && !equalFold(encoding, "ascii")) {
            error_ = "xml: opening charset \"" + encoding +
                     "\": can't decode XML document using charset \"" + encoding + "\"";
            return false;
          }
        }
        return true;
      }
      case '!':
        return bang(token);
      default:
        break;
    }
    ungetc();
    std::string local;
    if (!nsname(local)) return syntax("expected element name after <");
    bool empty = false;
    for (;;) {
      space();
      if (!mustgetc(b)) return false;
      if (b == '/') {
        empty = true;
        if (!mustgetc(b)) return false;
        if (b != '>') return syntax("expected /> in element");
        break;
      }
      if (b == '>') break;
      ungetc();
      Attr attr;
      if (!nsname(attr.local)) return syntax("expected attribute name in element");
      space();
      if (!mustgetc(b)) return false;
      if (b != '=') {
        ungetc();
        attr.value = attr.local;
      } else {
        space();
        if (!attrval(attr.value)) return false;
      }
      token.attrs.push_back(std::move(attr));
    }
    if (empty) {
      need_close_ = true;
      to_close_ = local;
    }
    token.type = TokenType::StartElement;
    token.local = std::move(local);
    return true;
  }

  [[nodiscard]] const std::string& error() const { return error_; }

 private:
  bool getc(unsigned char& b) {
    if (pos_ >= in_.size()) return false;
    b = static_cast<unsigned char>(in_[pos_++]);
    if (b == '\n') ++line_;
    return true;
  }
  void ungetc() {
    --pos_;
    if (in_[pos_] == '\n') --line_;
  }
  bool mustgetc(unsigned char& b) {
    if (getc(b)) return true;
    syntax("unexpected EOF");
    return false;
  }
  bool syntax(const std::string& message) {
    if (error_.empty())
      error_ = "XML syntax error on line " + std::to_string(line_) + ": " + message;
    return false;
  }
  void space() {
    unsigned char b = 0;
    while (getc(b)) {
      if (b != ' ' && b != '\r' && b != '\n' && b != '\t') {
        ungetc();
        return;
      }
    }
  }

  // readName: false without error when the next byte cannot start a name.
  bool readName(std::string& out) {
    unsigned char b = 0;
    if (!mustgetc(b)) return false;
    if (b < 0x80 && !isNameByte(b)) {
      ungetc();
      return false;
    }
    out += static_cast<char>(b);
    for (;;) {
      if (!mustgetc(b)) return false;
      if (b < 0x80 && !isNameByte(b)) {
        ungetc();
        break;
      }
      out += static_cast<char>(b);
    }
    return true;
  }
  bool name(std::string& out) {
    out.clear();
    if (!readName(out)) return false;
    if (!isName(out)) {
      syntax("invalid XML name: " + out);
      return false;
    }
    return true;
  }
  bool nsname(std::string& local) {
    std::string full;
    if (!name(full)) return false;
    const auto colons = std::count(full.begin(), full.end(), ':');
    const auto colon = full.find(':');
    if (colons == 1 && colon != 0 && colon != full.size() - 1) {
      local = full.substr(colon + 1);
    } else {
      local = full;
    }
    return true;
  }

  bool attrval(std::string& out) {
    unsigned char b = 0;
    if (!mustgetc(b)) return false;
    if (b == '"' || b == '\'') return text(b, false, out);
    ungetc();
    out.clear();
    for (;;) {
      if (!mustgetc(b)) return false;
      if ((b >= 'a' && b <= 'z') || (b >= 'A' && b <= 'Z') || (b >= '0' && b <= '9') || b == '_' ||
          b == ':' || b == '-') {
        out += static_cast<char>(b);
      } else {
        ungetc();
        break;
      }
    }
    return true;
  }

  bool bang(Token& /*token*/) {
    unsigned char b = 0;
    if (!mustgetc(b)) return false;
    if (b == '-') {
      if (!mustgetc(b)) return false;
      if (b != '-') return syntax("invalid sequence <!- not part of <!--");
      unsigned char b0 = 0;
      unsigned char b1 = 0;
      for (;;) {
        if (!mustgetc(b)) return false;
        if (b0 == '-' && b1 == '-') {
          if (b != '>') return syntax("invalid sequence \"--\" not allowed in comments");
          break;
        }
        b0 = b1;
        b1 = b;
      }
      return true;
    }
    if (b == '[') {
      static constexpr std::string_view kCdata = "CDATA[";
      for (const char c : kCdata) {
        if (!mustgetc(b)) return false;
        if (b != static_cast<unsigned char>(c)) return syntax("invalid <![ sequence");
      }
      std::string data;
      return text(-1, true, data);
    }
    // A directive: quoted angle brackets do not count for nesting; comments inside are skipped.
    unsigned char inquote = 0;
    int depth = 0;
    for (;;) {
      if (!mustgetc(b)) return false;
      if (inquote == 0 && b == '>' && depth == 0) break;
      bool again = true;
      while (again) {
        again = false;
        if (b == inquote) {
          inquote = 0;
        } else if (inquote != 0) {
        } else if (b == '\'' || b == '"') {
          inquote = b;
        } else if (b == '>') {
          --depth;
        } else if (b == '<') {
          static constexpr std::string_view kComment = "!--";
          bool comment = true;
          for (const char c : kComment) {
            if (!mustgetc(b)) return false;
            if (b != static_cast<unsigned char>(c)) {
              ++depth;
              comment = false;
              again = true;  // goto HandleB with this byte
              break;
            }
          }
          if (comment) {
            unsigned char b0 = 0;
            unsigned char b1 = 0;
            for (;;) {
              if (!mustgetc(b)) return false;
              if (b0 == '-' && b1 == '-' && b == '>') break;
              b0 = b1;
              b1 = b;
            }
          }
        }
      }
    }
    return true;
  }

  // encoding/xml Decoder.text: up to `quote` (attribute values), '<' (quote < 0) or "]]>"
  // (cdata). Entities: the five predefined and numeric ones are decoded, others kept as written.
  bool text(int quote, bool cdata, std::string& out) {
    out.clear();
    unsigned char b0 = 0;
    unsigned char b1 = 0;
    std::size_t trunc = 0;
    for (;;) {
      unsigned char b = 0;
      if (!getc(b)) {
        // A quoted value cut short by EOF is checked like any text first; the caller's next
        // mustgetc then reports "unexpected EOF", as in Go.
        if (cdata) return syntax("unexpected EOF in CDATA section");
        break;
      }
      if (b0 == ']' && b1 == ']' && b == '>') {
        if (cdata) {
          trunc = 2;
          break;
        }
        return syntax("unescaped ]]> not in CDATA section");
      }
      if (b == '<' && !cdata) {
        if (quote >= 0) return syntax("unescaped < inside quoted string");
        ungetc();
        break;
      }
      if (quote >= 0 && b == static_cast<unsigned char>(quote)) break;
      if (b == '&' && !cdata) {
        if (!entity(out)) return false;
        b0 = 0;
        b1 = 0;
        continue;
      }
      if (b == '\r') {
        out += '\n';
      } else if (b1 == '\r' && b == '\n') {
        // \r\n: the \n was written already.
      } else {
        out += static_cast<char>(b);
      }
      b0 = b1;
      b1 = b;
    }
    out.resize(out.size() - std::min(trunc, out.size()));
    std::string_view rest = out;
    while (!rest.empty()) {
      const Rune r = decodeRune(rest);
      if (!r.ok) return syntax("invalid UTF-8");
      if (!isInCharacterRange(r.value)) {
        char code[16];
        std::snprintf(code, sizeof(code), "U+%04X", static_cast<unsigned>(r.value));
        return syntax(std::string("illegal character code ") + code);
      }
      rest.remove_prefix(r.size);
    }
    return true;
  }

  // After '&': appends the decoded character, or what was written when it is not a known entity.
  bool entity(std::string& out) {
    const std::size_t before = out.size();
    out += '&';
    unsigned char b = 0;
    if (!mustgetc(b)) return false;
    std::optional<std::string> replacement;
    if (b == '#') {
      out += '#';
      if (!mustgetc(b)) return false;
      int base = 10;
      if (b == 'x') {
        base = 16;
        out += 'x';
        if (!mustgetc(b)) return false;
      }
      const std::size_t start = out.size();
      while ((b >= '0' && b <= '9') ||
             (base == 16 && ((b >= 'a' && b <= 'f') || (b >= 'A' && b <= 'F')))) {
        out += static_cast<char>(b);
        if (!mustgetc(b)) return false;
      }
      if (b != ';') {
        ungetc();
      } else {
        const std::string digits = out.substr(start);
        out += ';';
        std::uint64_t n = 0;
        bool ok = !digits.empty() && digits.size() <= 16;
        for (const char c : digits) {
          const int v = (c >= '0' && c <= '9')   ? c - '0'
                        : (c >= 'a' && c <= 'f') ? c - 'a' + 10
                                                 : c - 'A' + 10;
          n = n * static_cast<std::uint64_t>(base) + static_cast<std::uint64_t>(v);
        }
        if (ok && n <= kMaxRune) {
          replacement.emplace();
          appendUtf8(*replacement, static_cast<char32_t>(n));
        }
      }
    } else {
      ungetc();
      std::string entity_name;
      if (!readName(entity_name) && !error_.empty()) return false;
      out += entity_name;
      if (!mustgetc(b)) return false;
      if (b != ';') {
        ungetc();
      } else {
        out += ';';
        if (isName(entity_name)) {
          if (entity_name == "lt") replacement = "<";
          if (entity_name == "gt") replacement = ">";
          if (entity_name == "amp") replacement = "&";
          if (entity_name == "apos") replacement = "'";
          if (entity_name == "quot") replacement = "\"";
        }
      }
    }
    if (replacement) {
      out.resize(before);
      out += *replacement;
    }
    return true;
  }

  // encoding/xml procInst: the value of `param=` quoted with ' or ".
  static std::string procInst(const std::string& param, const std::string& s) {
    const auto at = s.find(param + "=");
    if (at == std::string::npos) return {};
    const std::string v = s.substr(at + param.size() + 1);
    if (v.empty()) return {};
    const char q = v[0];
    if (q != '\'' && q != '"') return {};
    const auto end = v.find(q, 1);
    if (end == std::string::npos) return {};
    return v.substr(1, end - 1);
  }

  std::string_view in_;
  std::size_t pos_ = 0;
  int line_ = 1;
  std::string error_;
  bool need_close_ = false;
  std::string to_close_;
};

std::string attrValue(const std::vector<Attr>& attrs, std::string_view name) {
  for (const Attr& attr : attrs) {
    if (equalFold(attr.local, name)) return attr.value;
  }
  return {};
}

// strings.Fields over ASCII white space (the go-import content is ASCII in practice; Unicode
// spaces are not separators here).
std::vector<std::string> fields(std::string_view text) {
  std::vector<std::string> out;
  std::size_t i = 0;
  const auto is_space = [](char c) {
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
  };
  while (i < text.size()) {
    while (i < text.size() && is_space(text[i])) ++i;
    const std::size_t start = i;
    while (i < text.size() && !is_space(text[i])) ++i;
    if (i > start) out.emplace_back(text.substr(start, i - start));
  }
  return out;
}

}  // namespace

MetaImports parseMetaGoImports(std::string_view html, ModuleMode mode) {
  Decoder decoder(html);
  std::vector<MetaImport> imports;
  MetaImports out;
  Token token;
  for (;;) {
    if (!decoder.next(token)) {
      if (!decoder.error().empty() && imports.empty()) {
        out.error = decoder.error();
        return out;
      }
      break;
    }
    if (token.type == TokenType::StartElement && equalFold(token.local, "body")) break;
    if (token.type == TokenType::EndElement && equalFold(token.local, "head")) break;
    if (token.type != TokenType::StartElement || !equalFold(token.local, "meta")) continue;
    if (attrValue(token.attrs, "name") != "go-import") continue;
    auto f = fields(attrValue(token.attrs, "content"));
    if (f.size() == 3) {
      imports.push_back(MetaImport{std::move(f[0]), std::move(f[1]), std::move(f[2])});
    }
  }
  std::vector<std::string> have;
  if (mode == ModuleMode::PreferMod) {
    for (const MetaImport& m : imports) {
      if (m.vcs == "mod") {
        have.push_back(m.prefix);
        out.imports.push_back(m);
      }
    }
  }
  for (const MetaImport& m : imports) {
    if (m.vcs != "mod" && std::find(have.begin(), have.end(), m.prefix) == have.end()) {
      out.imports.push_back(m);
    }
  }
  return out;
}

bool hasPathPrefix(std::string_view s, std::string_view prefix) {
  if (s.size() == prefix.size()) return s == prefix;
  if (prefix.empty()) return true;
  if (s.size() > prefix.size()) {
    if (prefix.back() == '/' || s[prefix.size()] == '/')
      return s.substr(0, prefix.size()) == prefix;
  }
  return false;
}

GoImportMatch matchGoImport(const std::vector<MetaImport>& imports, std::string_view import_path) {
  GoImportMatch out;
  std::optional<std::size_t> match;
  std::string mismatches;
  for (std::size_t i = 0; i < imports.size(); ++i) {
    const MetaImport& im = imports[i];
    if (!hasPathPrefix(import_path, im.prefix)) {
      mismatches += (mismatches.empty() ? "" : ", ") + im.prefix;
      continue;
    }
    if (match) {
      if (imports[*match].vcs == "mod" && im.vcs != "mod") break;
      out.error = "multiple meta tags match import path \"" + std::string(import_path) + "\"";
      return out;
    }
    match = i;
  }
  if (!match) {
    out.error = mismatches.empty()
                    ? "no go-import meta tags"
                    : "meta tags do not match import path \"" + std::string(import_path) +
                          "\" (prefixes: " + mismatches + ")";
    return out;
  }
  out.match = imports[*match];
  return out;
}

std::string checkMetaImport(const MetaImport& import) {
  const std::string& root = import.repo_root;
  // url.Parse's getScheme: [a-zA-Z][a-zA-Z0-9+.-]* before the first ':'.
  std::string scheme;
  for (std::size_t i = 0; i < root.size(); ++i) {
    const char c = root[i];
    const bool alpha = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
    if (alpha || (i > 0 && ((c >= '0' && c <= '9') || c == '+' || c == '-' || c == '.'))) continue;
    if (c == ':' && i > 0) scheme = root.substr(0, i);
    break;
  }
  if (scheme.empty()) return "invalid repo root \"" + root + "\": no scheme";
  if (equalFold(scheme, "file"))
    return "invalid repo root \"" + root + "\": file scheme disallowed";
  static constexpr std::string_view kKnown[] = {"bzr", "fossil", "git", "hg", "svn", "mod"};
  if (std::find(std::begin(kKnown), std::end(kKnown), import.vcs) == std::end(kKnown)) {
    return "unknown vcs \"" + import.vcs + "\"";
  }
  return {};
}

}  // namespace gomodprobe::vcs
