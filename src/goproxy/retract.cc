#include "goproxy/retract.h"

#include <algorithm>

#include "goproxy/module_path.h"

namespace gomodprobe::goproxy {

namespace {

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t' || s.front() == '\r')) {
    s.remove_prefix(1);
  }
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) {
    s.remove_suffix(1);
  }
  return s;
}

std::string_view unquote(std::string_view s) {
  if (s.size() >= 2 && s.front() == '"' && s.back() == '"') return s.substr(1, s.size() - 2);
  return s;
}

/// One retraction: "v1.0.0" or "[v1.0.0, v1.9.9]".
void addEntry(std::string_view text, std::vector<Retraction>& out) {
  text = trim(text);
  if (text.empty()) return;
  if (text.front() == '[') {
    const auto comma = text.find(',');
    const auto close = text.find(']');
    if (comma == std::string_view::npos || close == std::string_view::npos || comma > close) return;
    const std::string low(unquote(trim(text.substr(1, comma - 1))));
    const std::string high(unquote(trim(text.substr(comma + 1, close - comma - 1))));
    if (isValidSemver(low) && isValidSemver(high)) out.push_back({low, high});
    return;
  }
  const std::string version(unquote(text));
  if (isValidSemver(version)) out.push_back({version, version});
}

}  // namespace

std::vector<Retraction> parseRetractions(std::string_view go_mod) {
  std::vector<Retraction> out;
  bool in_block = false;
  std::size_t start = 0;
  while (start <= go_mod.size()) {
    const auto end = go_mod.find('\n', start);
    std::string_view line =
        go_mod.substr(start, end == std::string_view::npos ? std::string_view::npos : end - start);
    start = end == std::string_view::npos ? go_mod.size() + 1 : end + 1;
    if (const auto comment = line.find("//"); comment != std::string_view::npos) {
      line = line.substr(0, comment);
    }
    line = trim(line);
    if (in_block) {
      if (line == ")") {
        in_block = false;
      } else {
        addEntry(line, out);
      }
      continue;
    }
    if (line.rfind("retract", 0) != 0) continue;
    std::string_view rest = line.substr(7);
    if (!rest.empty() && rest.front() != ' ' && rest.front() != '\t' && rest.front() != '(' &&
        rest.front() != '[') {
      continue;  // e.g. "retracted"
    }
    rest = trim(rest);
    if (rest == "(") {
      in_block = true;
      continue;
    }
    addEntry(rest, out);
  }
  return out;
}

bool isRetracted(std::string_view version, const std::vector<Retraction>& retractions) {
  return std::any_of(retractions.begin(), retractions.end(), [version](const Retraction& r) {
    return compareSemver(r.low, version) <= 0 && compareSemver(version, r.high) <= 0;
  });
}

}  // namespace gomodprobe::goproxy
