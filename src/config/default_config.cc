#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "config/config_loader.h"

namespace gomodprobe::config {
namespace {

constexpr std::string_view kDefaultSource = "<embedded default>";
constexpr std::string_view kDefaultGoProxy = "https://proxy.golang.org,direct";
constexpr std::string_view kDefaultGoSumDb = "sum.golang.org";

std::vector<std::string_view> split(std::string_view text, std::string_view separators) {
  std::vector<std::string_view> parts;
  std::size_t start = 0;
  while (start <= text.size()) {
    const std::size_t end = text.find_first_of(separators, start);
    const std::string_view part =
        text.substr(start, end == std::string_view::npos ? std::string_view::npos : end - start);
    if (!part.empty()) {
      parts.push_back(part);
    }
    if (end == std::string_view::npos) {
      break;
    }
    start = end + 1;
  }
  return parts;
}

std::string asciiLower(std::string_view text) {
  std::string out(text);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') {
      c = static_cast<char>(c - 'A' + 'a');
    }
  }
  return out;
}

// RFC 3986: ALPHA *( ALPHA / DIGIT / "+" / "-" / "." ).
bool isUrlScheme(std::string_view scheme) {
  const auto alpha = [](char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); };
  if (scheme.empty() || !alpha(scheme.front())) {
    return false;
  }
  return std::all_of(scheme.begin(), scheme.end(), [&](char c) {
    return alpha(c) || (c >= '0' && c <= '9') || c == '+' || c == '-' || c == '.';
  });
}

std::string withScheme(std::string_view url) {
  if (url.find("://") != std::string_view::npos) {
    return std::string(url);
  }
  return "https://" + std::string(url);
}

// The host of a URL already validated by parseConfig ("scheme://host[:port][/path]"), with the
// brackets of an IPv6 literal removed.
std::string_view hostOf(std::string_view url) {
  std::string_view authority = url.substr(url.find("://") + 3);
  authority = authority.substr(0, authority.find('/'));
  if (!authority.empty() && authority.front() == '[') {
    return authority.substr(1, authority.find(']') - 1);
  }
  return authority.substr(0, authority.find(':'));
}

// "proxy.golang.org" → "proxy-golang-org"; anything outside [a-zA-Z0-9_-] becomes '-'.
std::string nameFromHost(std::string_view host) {
  std::string name(host);
  for (char& c : name) {
    const bool keep = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                      c == '_' || c == '-';
    if (!keep) {
      c = '-';
    }
  }
  return name;
}

// Runs one target through parseConfig so the embedded default obeys exactly the rules (and gets
// exactly the defaults) of a config file.
TargetConfig buildTarget(std::string_view variable, std::string_view entry, std::string_view kind,
                         const std::string& url) {
  YAML::Emitter out;
  out << YAML::BeginMap << YAML::Key << "targets" << YAML::Value << YAML::BeginSeq << YAML::BeginMap
      << YAML::Key << "name" << YAML::Value << "default" << YAML::Key << "kind" << YAML::Value
      << std::string(kind) << YAML::Key << "url" << YAML::Value << url << YAML::EndMap
      << YAML::EndSeq << YAML::EndMap;
  try {
    Config parsed = parseConfig(out.c_str(), std::string(kDefaultSource));
    return std::move(parsed.targets.at(0));
  } catch (const ConfigError& e) {
    throw ConfigError(
        std::string(kDefaultSource), 0, 0,
        std::string(variable) + " entry \"" + std::string(entry) + "\": " + e.message());
  }
}

class NameAllocator {
 public:
  std::string unique(const std::string& base) {
    std::string name = base;
    for (int suffix = 2; !used_.insert(name).second; ++suffix) {
      name = base + "-" + std::to_string(suffix);
    }
    return name;
  }

 private:
  std::set<std::string> used_;
};

}  // namespace

Config defaultConfig(const EnvLookup& env) {
  Config config;
  config.source = std::string(kDefaultSource);
  NameAllocator names;

  std::string goproxy = env("GOPROXY").value_or("");
  if (goproxy.empty()) {
    goproxy = kDefaultGoProxy;
  }
  for (std::string_view entry : split(goproxy, ",|")) {
    if (entry == "direct" || entry == "off") {
      continue;
    }
    const std::size_t scheme_end = entry.find("://");
    if (scheme_end != std::string_view::npos) {
      const std::string scheme = asciiLower(entry.substr(0, scheme_end));
      if (isUrlScheme(scheme) && scheme != "http" && scheme != "https") {
        continue;  // e.g. file:// — valid for the go command, nothing to probe over the network
      }
    }
    TargetConfig target = buildTarget("GOPROXY", entry, "goproxy", withScheme(entry));
    target.name = names.unique(nameFromHost(hostOf(target.url)));
    config.targets.push_back(std::move(target));
  }

  std::string gosumdb = env("GOSUMDB").value_or("");
  if (gosumdb.empty()) {
    gosumdb = kDefaultGoSumDb;
  }
  if (gosumdb != "off") {
    // "<name>[+<hash>+<key>][ <url>]", split like Go's strings.Fields.
    const std::vector<std::string_view> fields = split(gosumdb, " \t\n\r\v\f");
    if (fields.empty() || fields.size() > 2) {
      throw ConfigError(std::string(kDefaultSource), 0, 0,
                        "invalid GOSUMDB \"" + gosumdb +
                            R"(" (expected "<name>[+<hash>+<key>] [<url>]" or "off"))");
    }
    const std::string_view name = fields[0].substr(0, fields[0].find('+'));
    const std::string url =
        fields.size() == 2 ? withScheme(fields[1]) : "https://" + std::string(name);
    TargetConfig target = buildTarget("GOSUMDB", gosumdb, "sumdb", url);
    target.name = names.unique("sumdb-" + nameFromHost(hostOf(target.url)));
    config.targets.push_back(std::move(target));
  }
  return config;
}

}  // namespace gomodprobe::config
