#include "probe/goproxy_responses.h"

#include <cstdio>
#include <ctime>
#include <nlohmann/json.hpp>
#include <sstream>

#include "goproxy/module_path.h"

namespace gomodprobe::probe {

std::optional<double> parseRfc3339(const std::string& text) {
  std::tm tm{};
  int consumed = 0;
  if (std::sscanf(text.c_str(), "%4d-%2d-%2dT%2d:%2d:%2d%n", &tm.tm_year, &tm.tm_mon, &tm.tm_mday,
                  &tm.tm_hour, &tm.tm_min, &tm.tm_sec, &consumed) != 6 ||
      consumed != 19) {
    return std::nullopt;
  }
  tm.tm_year -= 1900;
  tm.tm_mon -= 1;
  auto seconds = static_cast<double>(timegm(&tm));
  std::size_t i = 19;
  if (i < text.size() && text[i] == '.') {
    double scale = 0.1;
    ++i;
    const std::size_t digits = i;
    while (i < text.size() && text[i] >= '0' && text[i] <= '9') {
      seconds += (text[i] - '0') * scale;
      scale /= 10;
      ++i;
    }
    if (i == digits) return std::nullopt;
  }
  if (i < text.size() && (text[i] == 'Z' || text[i] == 'z') && i + 1 == text.size()) {
    return seconds;
  }
  int oh = 0;
  int om = 0;
  if (i + 6 == text.size() && (text[i] == '+' || text[i] == '-') &&
      std::sscanf(text.c_str() + i + 1, "%2d:%2d", &oh, &om) == 2) {
    const double offset = oh * 3600.0 + om * 60.0;
    return text[i] == '+' ? seconds - offset : seconds + offset;
  }
  return std::nullopt;
}

std::optional<Info> parseInfo(const std::string& body, std::string& error) {
  const auto json = nlohmann::json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (json.is_discarded() || !json.is_object()) {
    error = "not a JSON object";
    return std::nullopt;
  }
  const auto version = json.find("Version");
  if (version == json.end() || !version->is_string()) {
    error = "no string Version";
    return std::nullopt;
  }
  Info info;
  info.version = version->get<std::string>();
  if (const auto time = json.find("Time"); time != json.end()) {
    if (!time->is_string() || !(info.time = parseRfc3339(time->get<std::string>()))) {
      error = "Time is not RFC 3339";
      return std::nullopt;
    }
  }
  return info;
}

std::optional<std::vector<std::string>> parseList(const std::string& body, std::string& error) {
  std::vector<std::string> versions;
  std::istringstream lines(body);
  std::string line;
  while (std::getline(lines, line)) {
    std::istringstream fields(line);
    std::string first;
    if (!(fields >> first)) continue;
    if (!goproxy::isValidSemver(first)) {
      error = "list line is not a version: " + line.substr(0, 80);
      return std::nullopt;
    }
    versions.push_back(first);
  }
  return versions;
}

}  // namespace gomodprobe::probe
