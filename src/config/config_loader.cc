#include "config/config_loader.h"

#include <arpa/inet.h>
#include <yaml-cpp/exceptions.h>
#include <yaml-cpp/mark.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <charconv>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <limits>
#include <map>
#include <memory>
#include <memory_resource>
#include <optional>
#include <set>
#include <sstream>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>
#include <vector>

#include "config/secret_file.h"
#include "config/yaml_tree.h"
#include "sumdb/encoding.h"
#include "sumdb/note.h"

namespace gomodprobe::config {
namespace {

using std::chrono::milliseconds;

std::string formatWhat(const std::string& file, int line, int column, const std::string& message) {
  if (line <= 0) {
    return file + ": " + message;
  }
  return file + ":" + std::to_string(line) + ":" + std::to_string(column) + ": " + message;
}

// ---------------------------------------------------------------------------------------------
// Character classes and small parsers.

bool isAsciiDigit(char c) { return c >= '0' && c <= '9'; }
bool isAsciiAlpha(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
bool isAsciiAlnum(char c) { return isAsciiDigit(c) || isAsciiAlpha(c); }

char asciiLower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

std::string asciiLower(std::string_view text) {
  std::string out(text);
  std::transform(out.begin(), out.end(), out.begin(), [](char c) { return asciiLower(c); });
  return out;
}

// A byte that may not appear unencoded in a URL or request path: space, controls, DEL, non-ASCII.
bool isUnsafeUrlByte(char c) {
  const auto byte = static_cast<unsigned char>(c);
  return byte <= 0x20 || byte >= 0x7f;
}

bool isIpv4(const std::string& text) {
  in_addr addr{};
  return ::inet_pton(AF_INET, text.c_str(), &addr) == 1;
}

bool isIpv6(const std::string& text) {
  in6_addr addr{};
  return ::inet_pton(AF_INET6, text.c_str(), &addr) == 1;
}

// "1".."65535", decimal digits only.
std::optional<std::uint16_t> parsePort(std::string_view text) {
  if (text.empty() || text.size() > 5 || !std::all_of(text.begin(), text.end(), isAsciiDigit)) {
    return std::nullopt;
  }
  unsigned value = 0;
  std::from_chars(text.data(), text.data() + text.size(), value);
  if (value < 1 || value > 65535) {
    return std::nullopt;
  }
  return static_cast<std::uint16_t>(value);
}

bool isValidHostName(std::string_view host) {
  if (host.empty()) {
    return false;
  }
  // One trailing dot (a fully qualified name) is allowed; empty labels are not.
  if (host.back() == '.') {
    host.remove_suffix(1);
  }
  std::size_t label_start = 0;
  while (true) {
    const std::size_t dot = host.find('.', label_start);
    const std::string_view label = host.substr(label_start, dot - label_start);
    if (label.empty()) {
      return false;
    }
    for (char c : label) {
      if (!isAsciiAlnum(c) && c != '-' && c != '_') {
        return false;
      }
    }
    if (dot == std::string_view::npos) {
      return true;
    }
    label_start = dot + 1;
  }
}

// What is wrong with a URL's "host[:port]" ("[v6]:port"), or nullopt when it is fine.
std::optional<std::string> authorityProblem(std::string_view authority) {
  std::string_view host;
  std::optional<std::string_view> port;
  if (authority.front() == '[') {
    const std::size_t close = authority.find(']');
    if (close == std::string_view::npos) {
      return "has an unterminated '[' in its host";
    }
    host = authority.substr(1, close - 1);
    const std::string_view after = authority.substr(close + 1);
    if (!after.empty()) {
      if (after.front() != ':') {
        return "has unexpected characters after the IPv6 address";
      }
      port = after.substr(1);
    }
    if (!isIpv6(std::string(host))) {
      return "has an invalid IPv6 address \"" + std::string(host) + "\"";
    }
  } else {
    const std::size_t colon = authority.find(':');
    host = authority.substr(0, colon);
    if (colon != std::string_view::npos) {
      port = authority.substr(colon + 1);
    }
    if (host.empty()) {
      return "must have a host";
    }
    const bool looks_numeric =
        std::all_of(host.begin(), host.end(), [](char c) { return isAsciiDigit(c) || c == '.'; });
    if (looks_numeric ? !isIpv4(std::string(host)) : !isValidHostName(host)) {
      return "has an invalid host \"" + std::string(host) + "\"";
    }
  }
  if (port && !parsePort(*port)) {
    return "has an invalid port \"" + std::string(*port) + "\"";
  }
  return std::nullopt;
}

// Validates a base URL and returns it normalised (lower-case scheme, no trailing '/'); on failure
// returns nullopt and sets `error`.
std::optional<std::string> normalizeUrl(std::string_view text, std::string& error) {
  const std::size_t scheme_end = text.find("://");
  if (scheme_end == std::string_view::npos) {
    error = "must start with http:// or https://";
    return std::nullopt;
  }
  const std::string scheme = asciiLower(text.substr(0, scheme_end));
  if (scheme != "http" && scheme != "https") {
    error = "scheme must be http or https, not \"" + std::string(text.substr(0, scheme_end)) + "\"";
    return std::nullopt;
  }
  const std::string_view rest = text.substr(scheme_end + 3);
  if (std::any_of(rest.begin(), rest.end(), isUnsafeUrlByte)) {
    error = "must not contain spaces, control characters or non-ASCII bytes";
    return std::nullopt;
  }
  if (rest.find_first_of("?#") != std::string_view::npos) {
    error = "must not have a query or fragment";
    return std::nullopt;
  }
  const std::size_t path_start = rest.find('/');
  const std::string_view authority = rest.substr(0, path_start);
  std::string_view path = path_start == std::string_view::npos ? "" : rest.substr(path_start);
  if (authority.empty()) {
    error = "must have a host";
    return std::nullopt;
  }
  if (authority.find('@') != std::string_view::npos) {
    error = "must not contain user info";
    return std::nullopt;
  }
  if (const auto problem = authorityProblem(authority)) {
    error = *problem;
    return std::nullopt;
  }
  while (!path.empty() && path.back() == '/') {
    path.remove_suffix(1);
  }
  return scheme + "://" + std::string(authority) + std::string(path);
}

// A proxy URL with any "user:password@" replaced by nothing: safe for error messages.
std::string redactUserinfo(std::string_view text) {
  const std::size_t scheme_end = text.find("://");
  const std::size_t start = scheme_end == std::string_view::npos ? 0 : scheme_end + 3;
  const std::size_t end = text.find_first_of("/?#", start);
  const std::size_t at = text.substr(0, end).rfind('@');
  if (at == std::string_view::npos || at < start) return std::string(text);
  return std::string(text.substr(0, start)) + std::string(text.substr(at + 1));
}

// Validates an HTTP(S) proxy URL as curl takes it: "[scheme://][user[:password]@]host[:port][/]"
// with scheme http (the default when absent, as in curl and the go command) or https. Returns it
// normalised ("http://user:pw@host:port", credentials kept); on failure nullopt and `error`,
// which never contains the credentials.
std::optional<std::string> normalizeProxyUrl(std::string_view text, std::string& error) {
  std::string with_scheme(text);
  if (text.find("://") == std::string_view::npos) with_scheme = "http://" + with_scheme;
  const std::size_t scheme_end = with_scheme.find("://");
  const std::string scheme = asciiLower(std::string_view(with_scheme).substr(0, scheme_end));
  if (scheme.rfind("socks", 0) == 0) {
    error = "socks proxies are not supported (scheme must be http or https)";
    return std::nullopt;
  }
  if (scheme != "http" && scheme != "https") {
    error = "proxy scheme must be http or https, not \"" + scheme + "\"";
    return std::nullopt;
  }
  std::string rest = with_scheme.substr(scheme_end + 3);
  if (std::any_of(rest.begin(), rest.end(), isUnsafeUrlByte)) {
    error = "must not contain spaces, control characters or non-ASCII bytes";
    return std::nullopt;
  }
  if (rest.find_first_of("?#") != std::string::npos) {
    error = "must not have a query or fragment";
    return std::nullopt;
  }
  while (!rest.empty() && rest.back() == '/') rest.pop_back();
  if (rest.find('/') != std::string::npos) {
    error = "must not have a path";
    return std::nullopt;
  }
  std::string userinfo;
  if (const std::size_t at = rest.rfind('@'); at != std::string::npos) {
    userinfo = rest.substr(0, at + 1);
    rest = rest.substr(at + 1);
    if (userinfo.size() == 1) {
      error = "has an empty user name";
      return std::nullopt;
    }
  }
  if (rest.empty()) {
    error = "must have a host";
    return std::nullopt;
  }
  if (const auto problem = authorityProblem(rest)) {
    error = *problem;
    return std::nullopt;
  }
  return scheme + "://" + userinfo + rest;
}

bool isValidTargetName(std::string_view name) {
  return !name.empty() && std::all_of(name.begin(), name.end(), [](char c) {
    return isAsciiAlnum(c) || c == '_' || c == '.' || c == '-';
  });
}

bool isValidLabelName(std::string_view name) {
  if (name.empty() || isAsciiDigit(name.front())) {
    return false;
  }
  return std::all_of(name.begin(), name.end(), [](char c) { return isAsciiAlnum(c) || c == '_'; });
}

// RFC 9110 token.
bool isHttpToken(std::string_view name) {
  constexpr std::string_view kTokenPunctuation = "!#$%&'*+-.^_`|~";
  return !name.empty() && std::all_of(name.begin(), name.end(), [&](char c) {
    return isAsciiAlnum(c) || kTokenPunctuation.find(c) != std::string_view::npos;
  });
}

// Prometheus' Duration.String(): "1m30s", "250ms", "0s".
std::string formatDuration(milliseconds duration) {
  static constexpr std::array<std::pair<std::string_view, std::int64_t>, 7> kUnits = {{
      {"y", 365LL * 24 * 3600 * 1000},
      {"w", 7LL * 24 * 3600 * 1000},
      {"d", 24LL * 3600 * 1000},
      {"h", 3600LL * 1000},
      {"m", 60LL * 1000},
      {"s", 1000},
      {"ms", 1},
  }};
  std::int64_t remaining = duration.count();
  if (remaining <= 0) {
    return "0s";
  }
  std::string out;
  for (const auto& [unit, unit_ms] : kUnits) {
    if (remaining >= unit_ms) {
      out += std::to_string(remaining / unit_ms);
      out += unit;
      remaining %= unit_ms;
    }
  }
  return out;
}

std::string inQuotes(std::string_view text) { return "\"" + std::string(text) + "\""; }

// ---------------------------------------------------------------------------------------------
// YAML walking with positions.

struct Entry {
  YamlNode key;
  YamlNode value;
  std::string name;
};

std::string describe(const YamlNode& node) {
  switch (node.type()) {
    case YamlNode::Type::Scalar:
      return "a scalar";
    case YamlNode::Type::Sequence:
      return "a list";
    case YamlNode::Type::Map:
      return "a map";
    case YamlNode::Type::Null:
      break;
  }
  return "nothing";
}

class Parser {
 public:
  Parser(const std::string& source, const EnvLookup& env) : source_(source), env_(env) {}

  Config parse(std::string_view yaml) {
    std::optional<YamlTree> tree;
    try {
      tree.emplace(YamlTree::parse(yaml));
    } catch (const YAML::Exception& e) {
      failAt(e.mark, e.msg);
    }
    Config config;
    config.source = source_;
    const std::optional<YamlNode> loaded = tree->root();
    if (!loaded) {
      return config;
    }
    if (tree->secondDocument()) {
      failAt(*tree->secondDocument(), "expected a single YAML document");
    }
    const YamlNode root = *loaded;
    if (root.isNull()) {
      return config;
    }
    if (!root.isMap()) {
      fail(root, "the top level must be a map, got " + describe(root));
    }
    const auto fields = readFields(root, "at the top level", {"global", "targets"});
    std::optional<Entry> global_interval;
    std::optional<Entry> global_timeout;
    if (const Entry* global = findField(fields, "global")) {
      parseGlobal(*global, config.global, global_interval, global_timeout);
    }
    if (config.global.timeout >= config.global.interval) {
      const std::optional<Entry>& culprit = global_timeout ? global_timeout : global_interval;
      failAtValue(culprit.value_or(Entry{root, root, "global"}),
                  "global timeout " + formatDuration(config.global.timeout) +
                      " must be less than the global interval " +
                      formatDuration(config.global.interval));
    }
    if (const Entry* targets = findField(fields, "targets")) {
      parseTargets(*targets, config);
    }
    return config;
  }

 private:
  [[noreturn]] void failAt(const YAML::Mark& mark, const std::string& message) const {
    if (mark.is_null()) {
      throw ConfigError(source_, 0, 0, message);
    }
    throw ConfigError(source_, mark.line + 1, mark.column + 1, message);
  }
  [[noreturn]] void fail(const YamlNode& node, const std::string& message) const {
    failAt(node.mark(), message);
  }
  // A null value ("key:" with nothing after it) carries the mark of the next token, so point at
  // its key instead.
  [[noreturn]] void failAtValue(const Entry& entry, const std::string& message) const {
    fail(entry.value.isNull() ? entry.key : entry.value, message);
  }

  // The entries of a map, in document order; duplicate and non-string keys are errors.
  [[nodiscard]] std::vector<Entry> readEntries(const YamlNode& map, std::string_view where) const {
    std::vector<Entry> entries;
    entries.reserve(map.size());
    std::map<std::string_view, YAML::Mark> seen;
    for (std::size_t i = 0; i < map.size(); ++i) {
      const YamlNode key = map.key(i);
      if (!key.isScalar()) {
        fail(key, "keys " + std::string(where) + " must be strings, got " + describe(key));
      }
      const std::string_view name = key.scalar();
      if (const auto [previous, inserted] = seen.emplace(name, key.mark()); !inserted) {
        fail(key, "duplicate key " + inQuotes(name) + " " + std::string(where) +
                      " (first at line " + std::to_string(previous->second.line + 1) + ")");
      }
      entries.push_back(Entry{key, map.value(i), std::string(name)});
    }
    return entries;
  }

  // The entries of a map whose keys must all be in `allowed`, in document order.
  [[nodiscard]] std::vector<Entry> readFields(
      const YamlNode& map, std::string_view where,
      std::initializer_list<std::string_view> allowed) const {
    std::vector<Entry> fields = readEntries(map, where);
    for (const Entry& entry : fields) {
      if (std::find(allowed.begin(), allowed.end(), entry.name) == allowed.end()) {
        std::string expected;
        for (std::string_view name : allowed) {
          expected += expected.empty() ? "" : ", ";
          expected += name;
        }
        fail(entry.key, "unknown key " + inQuotes(entry.name) + " " + std::string(where) +
                            " (expected one of: " + expected + ")");
      }
    }
    return fields;
  }

  [[nodiscard]] static const Entry* findField(const std::vector<Entry>& fields,
                                              std::string_view name) {
    const auto it = std::find_if(fields.begin(), fields.end(),
                                 [&](const Entry& entry) { return entry.name == name; });
    return it == fields.end() ? nullptr : &*it;
  }

  // A map-valued entry; null counts as empty.
  [[nodiscard]] std::vector<Entry> mapEntries(const Entry& entry, std::string_view where) const {
    if (entry.value.isNull()) {
      return {};
    }
    if (!entry.value.isMap()) {
      failAtValue(entry, inQuotes(entry.name) + " must be a map, got " + describe(entry.value));
    }
    return readEntries(entry.value, where);
  }

  [[nodiscard]] std::string scalar(const Entry& entry) const {
    if (!entry.value.isScalar()) {
      failAtValue(entry, inQuotes(entry.name) + " must be a string, got " + describe(entry.value));
    }
    return std::string(entry.value.scalar());
  }

  [[nodiscard]] milliseconds duration(const Entry& entry) const {
    const std::string text = scalar(entry);
    const auto parsed = parseDuration(text);
    if (!parsed) {
      failAtValue(entry, "invalid duration " + inQuotes(text) + " for " + inQuotes(entry.name) +
                             " (expected a non-zero Prometheus duration like 30s, 1m30s, 250ms)");
    }
    return *parsed;
  }

  [[nodiscard]] std::vector<ResolverSpec> resolvers(const Entry& entry) const {
    if (!entry.value.isSequence()) {
      failAtValue(entry, inQuotes(entry.name) + " must be a list, got " + describe(entry.value));
    }
    if (entry.value.size() == 0) {
      failAtValue(entry, inQuotes(entry.name) + " must not be empty");
    }
    std::vector<ResolverSpec> out;
    for (std::size_t i = 0; i < entry.value.size(); ++i) {
      const YamlNode item = entry.value.item(i);
      if (!item.isScalar()) {
        fail(item, "a resolver must be a string, got " + describe(item));
      }
      const auto parsed = parseResolver(item.scalar());
      if (!parsed) {
        fail(item, "invalid resolver " + inQuotes(item.scalar()) +
                       R"( (expected "system", an IP address, "IPv4:port" or "[IPv6]:port"))");
      }
      out.push_back(*parsed);
    }
    return out;
  }

  void parseGlobal(const Entry& section, GlobalConfig& global, std::optional<Entry>& interval,
                   std::optional<Entry>& timeout) {
    if (section.value.isNull()) {
      return;
    }
    if (!section.value.isMap()) {
      failAtValue(section, "\"global\" must be a map, got " + describe(section.value));
    }
    const auto fields =
        readFields(section.value, "in global",
                   {"interval", "timeout", "resolvers", "ca_file", "labels",
                    "max_concurrent_probes", "proxy_url", "proxy_from_environment", "histograms"});
    proxySettings(fields, global.proxy_url, global.proxy_from_environment);
    if (global.proxy_from_environment) {
      global_proxy_env_node_ = findField(fields, "proxy_from_environment")->value;
    }
    for (const Entry& entry : fields) {
      const std::string& name = entry.name;
      if (name == "interval") {
        global.interval = duration(entry);
        interval = entry;
      } else if (name == "timeout") {
        global.timeout = duration(entry);
        timeout = entry;
      } else if (name == "resolvers") {
        global.resolvers = resolvers(entry);
      } else if (name == "ca_file") {
        global.ca_file = scalar(entry);
      } else if (name == "labels") {
        for (const Entry& label : mapEntries(entry, "in labels")) {
          if (!isValidLabelName(label.name)) {
            fail(label.key, "invalid label name " + inQuotes(label.name) +
                                " (must match [a-zA-Z_][a-zA-Z0-9_]*)");
          }
          global.labels[label.name] = scalar(label);
        }
      } else if (name == "max_concurrent_probes") {
        const std::string text = scalar(entry);
        int value = 0;
        const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
        if (ec != std::errc{} || end != text.data() + text.size() || value < 1 || value > 10000) {
          failAtValue(entry, "max_concurrent_probes must be an integer from 1 to 10000, got " +
                                 inQuotes(text));
        }
        global.max_concurrent_probes = value;
      } else if (name == "histograms") {
        const std::string text = scalar(entry);
        if (text == "per_target") {
          global.histograms = HistogramScope::PerTarget;
        } else if (text == "per_kind") {
          global.histograms = HistogramScope::PerKind;
        } else {
          failAtValue(entry, "histograms must be per_target or per_kind, got " + inQuotes(text));
        }
      }
    }
  }

  void parseTargets(const Entry& section, Config& config) const {
    if (section.value.isNull()) {
      return;
    }
    if (!section.value.isSequence()) {
      failAtValue(section, "\"targets\" must be a list, got " + describe(section.value));
    }
    // One allocation: growing a vector of ~1 KB TargetConfigs by doubling would hold old and new
    // copies at once (20 MB at 10,000 targets).
    config.targets.reserve(config.targets.size() + section.value.size());
    // The names seen so far, viewing the names in config.targets (reserved: they do not move),
    // in one block: map nodes allocated one by one between the targets' strings would leave,
    // once freed, holes in every page of the config that RSS keeps (~6 MB at 10,000 targets).
    constexpr std::size_t kNameNodeBytes = 64;  // a map node: tree links, string_view, Mark
    std::pmr::monotonic_buffer_resource pool(section.value.size() * kNameNodeBytes);
    std::pmr::map<std::string_view, YAML::Mark> names(&pool);
    for (std::size_t i = 0; i < section.value.size(); ++i) {
      const YamlNode item = section.value.item(i);
      if (!item.isMap()) {
        fail(item, "a target must be a map, got " + describe(item));
      }
      config.targets.push_back(parseTarget(item, config.global));
      const std::string& name = config.targets.back().name;
      if (const auto [previous, inserted] = names.emplace(name, item.mark()); !inserted) {
        fail(*item.find("name"), "duplicate target name " + inQuotes(name) +
                                     " (first defined at line " +
                                     std::to_string(previous->second.line + 1) + ")");
      }
    }
  }

  [[nodiscard]] TargetConfig parseTarget(const YamlNode& node, const GlobalConfig& global) const {
    const auto fields = readFields(node, "in target",
                                   {"name",
                                    "kind",
                                    "url",
                                    "path",
                                    "http_versions",
                                    "resolvers",
                                    "ip_protocol",
                                    "interval",
                                    "timeout",
                                    "ca_file",
                                    "headers",
                                    "modules",
                                    "go_sum",
                                    "sumdb",
                                    "key",
                                    "goproxy",
                                    "go_env",
                                    "proxy_url",
                                    "proxy_from_environment",
                                    "names",
                                    "record_types",
                                    "module",
                                    "ssh",
                                    "netrc_file",
                                    "bearer_token_file",
                                    "basic_auth",
                                    "require_http2"});
    for (std::string_view required : {"name", "kind"}) {
      if (findField(fields, required) == nullptr) {
        fail(node, "target is missing the required key " + inQuotes(required));
      }
    }
    const Entry* kind_entry = findField(fields, "kind");
    const TargetKind target_kind = kind(*kind_entry);
    const char* kind_name = toString(target_kind);
    const char* required_key = target_kind == TargetKind::Chain ? "goproxy"
                               : target_kind == TargetKind::Dns ? "names"
                                                                : "url";
    if (findField(fields, required_key) == nullptr) {
      fail(node, "target is missing the required key " + inQuotes(required_key) + " (kind " +
                     kind_name + ")");
    }
    // Keys that only mean something for some kinds.
    const std::map<std::string_view, std::vector<TargetKind>> kind_only = {
        {"modules", {TargetKind::GoProxy, TargetKind::SumDb, TargetKind::Chain}},
        {"go_sum", {TargetKind::GoProxy}},
        {"sumdb", {TargetKind::GoProxy}},
        {"key", {TargetKind::SumDb}},
        {"goproxy", {TargetKind::Chain, TargetKind::SumDb}},
        {"go_env", {TargetKind::Chain}},
        {"url", {TargetKind::GoProxy, TargetKind::SumDb, TargetKind::Http, TargetKind::Vcs}},
        {"module", {TargetKind::Vcs}},
        {"ssh", {TargetKind::Vcs}},
        {"netrc_file", {TargetKind::Vcs}},
        {"bearer_token_file", {TargetKind::Vcs}},
        {"basic_auth", {TargetKind::Vcs}},
        {"path", {TargetKind::GoProxy, TargetKind::SumDb, TargetKind::Http}},
        {"proxy_url",
         {TargetKind::GoProxy, TargetKind::SumDb, TargetKind::Http, TargetKind::Chain}},
        {"proxy_from_environment",
         {TargetKind::GoProxy, TargetKind::SumDb, TargetKind::Http, TargetKind::Chain}},
        {"names", {TargetKind::Dns}},
        {"record_types", {TargetKind::Dns}},
        {"http_versions",
         {TargetKind::GoProxy, TargetKind::SumDb, TargetKind::Http, TargetKind::Chain}},
        {"headers", {TargetKind::GoProxy, TargetKind::SumDb, TargetKind::Http, TargetKind::Chain}},
        {"ca_file", {TargetKind::GoProxy, TargetKind::SumDb, TargetKind::Http, TargetKind::Chain}},
        {"require_http2", {TargetKind::GoProxy, TargetKind::SumDb, TargetKind::Http}},
    };
    for (const Entry& entry : fields) {
      const auto it = kind_only.find(entry.name);
      if (it != kind_only.end() &&
          std::find(it->second.begin(), it->second.end(), target_kind) == it->second.end()) {
        fail(entry.key, "key " + inQuotes(entry.name) + " does not apply to kind " + kind_name);
      }
    }
    TargetConfig target;
    target.resolvers = global.resolvers;
    target.interval = global.interval;
    target.timeout = global.timeout;
    target.ca_file = global.ca_file;
    if (target_kind != TargetKind::Dns) {
      target.proxy_url = global.proxy_url;
      target.proxy_from_environment = global.proxy_from_environment;
    }
    std::optional<YamlNode> proxy_env_node = global_proxy_env_node_;
    proxySettings(fields, target.proxy_url, target.proxy_from_environment);
    if (const Entry* entry = findField(fields, "proxy_from_environment")) {
      proxy_env_node = entry->value;
    }
    if (target.proxy_from_environment) target.proxy_env = captureProxyEnv(*proxy_env_node);
    bool has_path = false;
    std::optional<Entry> timeout_entry;
    std::optional<Entry> credential_entry;  // the first credential key seen
    std::optional<Entry> require_http2_entry;
    const auto one_credential = [&](const Entry& entry) {
      if (credential_entry) {
        fail(entry.key, "key " + inQuotes(entry.name) + " conflicts with " +
                            inQuotes(credential_entry->name) + " (line " +
                            std::to_string(credential_entry->key.mark().line + 1) +
                            "): at most one of netrc_file, bearer_token_file, basic_auth");
      }
      credential_entry = entry;
    };
    for (const Entry& entry : fields) {
      const std::string& name = entry.name;
      if (name == "name") {
        target.name = scalar(entry);
        if (!isValidTargetName(target.name)) {
          failAtValue(entry, "invalid target name " + inQuotes(target.name) +
                                 " (must match [a-zA-Z0-9_.-]+)");
        }
      } else if (name == "kind") {
        target.kind = kind(entry);
      } else if (name == "url") {
        target.url = url(entry);
      } else if (name == "path") {
        target.path = path(entry);
        has_path = true;
      } else if (name == "http_versions") {
        target.http_versions = httpVersions(entry);
      } else if (name == "resolvers") {
        target.resolvers = resolvers(entry);
      } else if (name == "ip_protocol") {
        target.ip_protocol = ipProtocol(entry);
      } else if (name == "interval") {
        target.interval = duration(entry);
      } else if (name == "timeout") {
        target.timeout = duration(entry);
        timeout_entry = entry;
      } else if (name == "ca_file") {
        target.ca_file = scalar(entry);
      } else if (name == "headers") {
        target.headers = headers(entry);
      } else if (name == "modules") {
        target.modules = modules(entry);
      } else if (name == "go_sum") {
        target.go_sum = goSumLines(entry);
      } else if (name == "sumdb") {
        target.sumdb = sumdbValue(entry);
      } else if (name == "key") {
        target.key = verifierKey(entry);
      } else if (name == "go_env") {
        for (const Entry& variable : mapEntries(entry, "in go_env")) {
          if (variable.name != "GOPRIVATE" && variable.name != "GONOPROXY" &&
              variable.name != "GONOSUMDB" && variable.name != "GOSUMDB") {
            fail(variable.key, "unknown go_env variable " + inQuotes(variable.name) +
                                   " (expected GOPRIVATE, GONOPROXY, GONOSUMDB or GOSUMDB)");
          }
          target.go_env[variable.name] = scalar(variable);
        }
      } else if (name == "goproxy") {
        target.goproxy = scalar(entry);
        if (target.goproxy.empty()) failAtValue(entry, "\"goproxy\" must not be empty");
      } else if (name == "names") {
        target.names = dnsNames(entry);
      } else if (name == "record_types") {
        target.record_types = recordTypes(entry);
      } else if (name == "module") {
        target.module = modulePath(entry);
      } else if (name == "ssh") {
        target.ssh = sshAddress(entry);
      } else if (name == "netrc_file") {
        one_credential(entry);
        target.netrc_file = credentialFile(entry, false);
      } else if (name == "bearer_token_file") {
        one_credential(entry);
        target.bearer_token_file = credentialFile(entry, true);
      } else if (name == "basic_auth") {
        one_credential(entry);
        target.basic_auth = basicAuth(entry);
      } else if (name == "require_http2") {
        target.require_http2 = boolean(entry);
        require_http2_entry = entry;
      }
    }
    if (target.require_http2 && std::find(target.http_versions.begin(), target.http_versions.end(),
                                          HttpVersion::Http2) == target.http_versions.end()) {
      failAtValue(*require_http2_entry,
                  "require_http2: true needs \"2\" in http_versions (no attempt requests HTTP/2)");
    }
    if (target.kind == TargetKind::Vcs) {
      if (target.module.empty()) {
        // host (without port) and path of the URL.
        const std::string rest = target.url.substr(target.url.find("://") + 3);
        const std::size_t slash = rest.find('/');
        std::string authority = rest.substr(0, slash);
        if (!authority.empty() && authority.front() == '[') {
          authority = authority.substr(0, authority.find(']') + 1);
        } else if (const std::size_t colon = authority.find(':'); colon != std::string::npos) {
          authority.resize(colon);
        }
        target.module = authority + (slash == std::string::npos ? "" : rest.substr(slash));
      }
      target.path = "?go-get=1";
      has_path = true;
    }
    if (!has_path) {
      target.path = target.kind == TargetKind::SumDb ? "/latest" : "/";
    }
    if (target.kind == TargetKind::SumDb && target.key.empty()) target.key = kSumGolangOrgKey;
    checkTimeout(node, target, timeout_entry);
    return target;
  }

  // timeout < interval once the target's own values and the inherited ones are combined.
  void checkTimeout(const YamlNode& node, const TargetConfig& target,
                    const std::optional<Entry>& timeout_entry) const {
    if (target.timeout >= target.interval) {
      const std::string message =
          "timeout " + formatDuration(target.timeout) +
          (timeout_entry ? "" : " (inherited from global)") + " must be less than the interval " +
          formatDuration(target.interval) + " of target " + inQuotes(target.name);
      if (timeout_entry) {
        failAtValue(*timeout_entry, message);
      }
      fail(node, message);
    }
  }

  [[nodiscard]] TargetKind kind(const Entry& entry) const {
    const std::string text = scalar(entry);
    if (text == "goproxy") {
      return TargetKind::GoProxy;
    }
    if (text == "sumdb") {
      return TargetKind::SumDb;
    }
    if (text == "http") {
      return TargetKind::Http;
    }
    if (text == "chain") {
      return TargetKind::Chain;
    }
    if (text == "dns") {
      return TargetKind::Dns;
    }
    if (text == "vcs") {
      return TargetKind::Vcs;
    }
    failAtValue(entry, "invalid kind " + inQuotes(text) +
                           " (expected goproxy, sumdb, http, chain, dns or vcs)");
  }

  // A module path as the go command takes it: no scheme, no spaces, no leading or trailing '/'.
  [[nodiscard]] std::string modulePath(const Entry& entry) const {
    std::string text = scalar(entry);
    if (text.empty() || text.find("://") != std::string::npos || text.front() == '/' ||
        text.back() == '/' || std::any_of(text.begin(), text.end(), isUnsafeUrlByte) ||
        text.find_first_of("@?#") != std::string::npos) {
      failAtValue(entry, "invalid module path " + inQuotes(text) +
                             R"( (expected e.g. "git.corp.example/team/repo", without scheme))");
    }
    return text;
  }

  // "host:port" or "[v6]:port", port required.
  [[nodiscard]] std::string sshAddress(const Entry& entry) const {
    std::string text = scalar(entry);
    const std::size_t colon = text.rfind(':');
    const bool has_port =
        colon != std::string::npos && (text.front() != '[' || text[colon - 1] == ']');
    if (text.empty() || !has_port || authorityProblem(text)) {
      failAtValue(entry,
                  "invalid ssh address " + inQuotes(text) +
                      R"( (expected "host:port" or "[IPv6]:port", e.g. "git.corp.example:22"))");
    }
    return text;
  }

  // A credential file path, resolved against the config file's directory and checked readable
  // now (its content is read again at every run and never kept in the config).
  [[nodiscard]] std::string credentialFile(const Entry& entry, bool secret_line) const {
    std::string path = scalar(entry);
    if (path.empty()) failAtValue(entry, inQuotes(entry.name) + " must not be empty");
    const std::filesystem::path fs_path(path);
    if (fs_path.is_relative()) {
      path = (std::filesystem::path(source_).parent_path() / fs_path).lexically_normal().string();
    }
    std::string error;
    const bool ok =
        secret_line ? readSecretFile(path, &error).has_value() : checkReadable(path, &error);
    if (!ok) failAtValue(entry, inQuotes(entry.name) + ": " + error);
    return path;
  }

  [[nodiscard]] BasicAuthConfig basicAuth(const Entry& entry) const {
    if (!entry.value.isMap()) {
      failAtValue(entry, R"("basic_auth" must be a map with username and password_file, got )" +
                             describe(entry.value));
    }
    BasicAuthConfig out;
    const auto fields = readFields(entry.value, "in basic_auth", {"username", "password_file"});
    for (std::string_view required : {"username", "password_file"}) {
      if (findField(fields, required) == nullptr) {
        failAtValue(entry, "basic_auth is missing the required key " + inQuotes(required));
      }
    }
    for (const Entry& field : fields) {
      if (field.name == "username") {
        out.username = scalar(field);
        if (out.username.empty() || out.username.find(':') != std::string::npos ||
            std::any_of(out.username.begin(), out.username.end(),
                        [](char c) { return static_cast<unsigned char>(c) < 0x20; })) {
          failAtValue(field,
                      "basic_auth username must be non-empty, without ':' or control "
                      "characters");
        }
      } else {
        out.password_file = credentialFile(field, true);
      }
    }
    return out;
  }

  [[nodiscard]] IpProtocol ipProtocol(const Entry& entry) const {
    const std::string text = scalar(entry);
    if (text == "ip4") {
      return IpProtocol::Ip4;
    }
    if (text == "ip6") {
      return IpProtocol::Ip6;
    }
    if (text == "any") {
      return IpProtocol::Any;
    }
    failAtValue(entry, "invalid ip_protocol " + inQuotes(text) + " (expected ip4, ip6 or any)");
  }

  [[nodiscard]] std::string url(const Entry& entry) const {
    const std::string text = scalar(entry);
    std::string error;
    auto normalized = normalizeUrl(text, error);
    if (!normalized) {
      failAtValue(entry, "invalid url " + inQuotes(text) + ": " + error);
    }
    return std::move(*normalized);
  }

  [[nodiscard]] std::string path(const Entry& entry) const {
    std::string text = scalar(entry);
    if (text.empty() || text.front() != '/') {
      failAtValue(entry, "path " + inQuotes(text) + " must start with '/'");
    }
    if (std::any_of(text.begin(), text.end(), isUnsafeUrlByte) ||
        text.find('#') != std::string::npos) {
      failAtValue(entry, "path " + inQuotes(text) +
                             " must not contain spaces, control characters, non-ASCII bytes or "
                             "'#'");
    }
    return text;
  }

  [[nodiscard]] std::vector<HttpVersion> httpVersions(const Entry& entry) const {
    if (!entry.value.isSequence()) {
      failAtValue(entry, "\"http_versions\" must be a list, got " + describe(entry.value));
    }
    if (entry.value.size() == 0) {
      failAtValue(entry, "\"http_versions\" must not be empty");
    }
    std::vector<HttpVersion> out;
    for (std::size_t i = 0; i < entry.value.size(); ++i) {
      const YamlNode item = entry.value.item(i);
      if (!item.isScalar()) {
        fail(item, R"(an HTTP version must be "1.1" or "2", got )" + describe(item));
      }
      // Unquoted 1.1 and 2 are YAML numbers; their scalar text is the same.
      const std::string_view text = item.scalar();
      HttpVersion version{};
      if (text == "1.1") {
        version = HttpVersion::Http11;
      } else if (text == "2") {
        version = HttpVersion::Http2;
      } else {
        fail(item, "invalid HTTP version " + inQuotes(text) + R"( (expected "1.1" or "2"))");
      }
      if (std::find(out.begin(), out.end(), version) != out.end()) {
        fail(item, "duplicate HTTP version " + inQuotes(text));
      }
      out.push_back(version);
    }
    return out;
  }

  [[nodiscard]] std::vector<std::string> stringList(const Entry& entry) const {
    if (!entry.value.isSequence()) {
      failAtValue(entry, inQuotes(entry.name) + " must be a list, got " + describe(entry.value));
    }
    std::vector<std::string> out;
    out.reserve(entry.value.size());
    for (std::size_t i = 0; i < entry.value.size(); ++i) {
      const YamlNode item = entry.value.item(i);
      if (!item.isScalar()) {
        fail(item,
             "an item of " + inQuotes(entry.name) + " must be a string, got " + describe(item));
      }
      out.emplace_back(item.scalar());
    }
    return out;
  }

  // "path@version": a module path without spaces or '@', and "latest" or a version starting
  // with 'v' (go.dev/ref/mod "Versions"); the proxy client validates the path further.
  [[nodiscard]] std::vector<ModuleSpec> modules(const Entry& entry) const {
    std::vector<ModuleSpec> out;
    std::size_t index = 0;
    for (const std::string& text : stringList(entry)) {
      const YamlNode item = entry.value.item(index++);
      const auto at = text.find('@');
      ModuleSpec spec;
      if (at != std::string::npos) {
        spec.path = text.substr(0, at);
        spec.version = text.substr(at + 1);
      }
      const bool path_ok =
          !spec.path.empty() && spec.path.find_first_of(" \t@") == std::string::npos;
      const bool version_ok =
          spec.version == "latest" || (spec.version.size() > 1 && spec.version.front() == 'v' &&
                                       spec.version.find_first_of(" \t/@") == std::string::npos);
      if (!path_ok || !version_ok) {
        fail(item, "invalid module " + inQuotes(text) +
                       R"( (expected "path@version" with version "latest" or "vX.Y.Z"))");
      }
      if (std::find(out.begin(), out.end(), spec) != out.end()) {
        fail(item, "duplicate module " + inQuotes(text));
      }
      out.push_back(std::move(spec));
    }
    return out;
  }

  // go.sum lines: "<module> <version>[/go.mod] h1:<base64>".
  [[nodiscard]] std::vector<std::string> goSumLines(const Entry& entry) const {
    std::vector<std::string> out = stringList(entry);
    for (std::size_t i = 0; i < out.size(); ++i) {
      std::istringstream fields(out[i]);
      std::string module;
      std::string version;
      std::string hash;
      std::string extra;
      fields >> module >> version >> hash;
      if (module.empty() || version.empty() || hash.rfind("h1:", 0) != 0 || hash.size() < 4 ||
          (fields >> extra)) {
        fail(entry.value.item(i), "invalid go.sum line " + inQuotes(out[i]) +
                                      R"( (expected "module version[/go.mod] h1:hash"))");
      }
    }
    return out;
  }

  // A verifier key "name+hash+base64key" (the base64 may itself contain '+').
  static bool looksLikeVerifierKey(std::string_view text) {
    const auto first = text.find('+');
    if (first == std::string_view::npos || first == 0) return false;
    const auto second = text.find('+', first + 1);
    if (second == std::string_view::npos || second - first - 1 != 8) return false;
    return second + 1 < text.size();
  }

  // What is wrong with a verifier key, checked as x/mod sumdb/note.NewVerifier checks it (the
  // probes would otherwise fail every run with "sumdb key: ..."), or nullopt when it is usable.
  // The correct hash is never suggested: a hash mismatch usually means a mistyped key.
  [[nodiscard]] static std::optional<std::string> verifierKeyProblem(std::string_view text) {
    if (!looksLikeVerifierKey(text)) {
      return R"(expected "name+hash+base64key", hash 8 hex digits)";
    }
    const sumdb::VerifierParseResult parsed = sumdb::Verifier::parse(text);
    if (parsed.ok()) return std::nullopt;
    const std::size_t first = text.find('+');
    const std::size_t second = text.find('+', first + 1);
    const std::string_view name = text.substr(0, first);
    const std::string_view hash = text.substr(first + 1, second - first - 1);
    const auto key = sumdb::base64Decode(text.substr(second + 1));
    if (!std::all_of(hash.begin(), hash.end(), [](char c) {
          return isAsciiDigit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
        })) {
      return "the hash " + inQuotes(hash) + " is not 8 hex digits";
    }
    if (!sumdb::isValidSignerName(name)) return "invalid server name " + inQuotes(name);
    if (!key || key->empty()) return "the key is not valid base64";
    if (parsed.error == "invalid verifier hash") {
      return "the hash " + std::string(hash) +
             " does not match the name and key (mistyped or truncated key?)";
    }
    if (static_cast<std::uint8_t>(key->front()) != sumdb::kAlgEd25519) {
      return "unknown key algorithm " + std::to_string(static_cast<unsigned char>(key->front())) +
             " (only 1, Ed25519)";
    }
    return "an Ed25519 key is 32 bytes, this one has " + std::to_string(key->size() - 1);
  }

  [[nodiscard]] std::string verifierKey(const Entry& entry) const {
    std::string text = scalar(entry);
    if (const auto problem = verifierKeyProblem(text)) {
      failAtValue(entry, "invalid verifier key " + inQuotes(text) + ": " + *problem);
    }
    return text;
  }

  // A GOSUMDB value: "name", "name+hash+key", optionally followed by " URL".
  [[nodiscard]] std::string sumdbValue(const Entry& entry) const {
    std::string text = scalar(entry);
    std::istringstream fields(text);
    std::string name;
    std::string url_text;
    std::string extra;
    fields >> name >> url_text >> extra;
    const bool name_ok = !name.empty() && (name.find('+') == std::string::npos
                                               ? name.find_first_of("/:") == std::string::npos
                                               : looksLikeVerifierKey(name));
    std::string error;
    if (!name_ok || !extra.empty() || (!url_text.empty() && !normalizeUrl(url_text, error))) {
      failAtValue(
          entry,
          "invalid sumdb " + inQuotes(text) +
              R"( (expected a GOSUMDB value: "name", "name+hash+key" or "name+hash+key URL"))");
    }
    if (name.find('+') != std::string::npos) {
      if (const auto problem = verifierKeyProblem(name)) {
        failAtValue(entry, "invalid verifier key " + inQuotes(name) + " in sumdb: " + *problem);
      }
    } else if (name != "sum.golang.org") {
      failAtValue(entry, "sumdb " + inQuotes(name) +
                             " needs its verifier key (\"name+hash+key\"): only sum.golang.org's "
                             "is built in");
    }
    return text;
  }

  [[nodiscard]] std::map<std::string, std::string> headers(const Entry& entry) const {
    std::map<std::string, std::string> out;
    std::map<std::string, std::string> lower_names;
    for (const Entry& header : mapEntries(entry, "in headers")) {
      if (!isHttpToken(header.name)) {
        fail(header.key,
             "invalid header name " + inQuotes(header.name) + " (must be an HTTP token)");
      }
      if (const auto [previous, inserted] =
              lower_names.emplace(asciiLower(header.name), header.name);
          !inserted) {
        fail(header.key, "header " + inQuotes(header.name) + " repeats " +
                             inQuotes(previous->second) + " (header names are case-insensitive)");
      }
      std::string value = scalar(header);
      if (value.find_first_of(std::string_view("\r\n\0", 3)) != std::string::npos) {
        failAtValue(header, "the value of header " + inQuotes(header.name) +
                                " must not contain CR, LF or NUL");
      }
      out.emplace(header.name, std::move(value));
    }
    return out;
  }

  // The proxy settings of a target or of global: proxy_url and proxy_from_environment exclude
  // each other.
  void proxySettings(const std::vector<Entry>& fields, std::string& proxy_url,
                     bool& from_environment) const {
    const Entry* url_entry = findField(fields, "proxy_url");
    const Entry* env_entry = findField(fields, "proxy_from_environment");
    if (url_entry == nullptr && env_entry == nullptr) return;
    proxy_url.clear();
    from_environment = false;
    if (env_entry != nullptr) from_environment = boolean(*env_entry);
    if (url_entry != nullptr) {
      const std::string text = scalar(*url_entry);
      if (!text.empty()) {
        if (from_environment) {
          failAtValue(*env_entry,
                      "proxy_from_environment: true and proxy_url exclude each other (choose one)");
        }
        std::string error;
        auto normalized = normalizeProxyUrl(text, error);
        if (!normalized) {
          failAtValue(*url_entry,
                      "invalid proxy_url " + inQuotes(redactUserinfo(text)) + ": " + error);
        }
        proxy_url = std::move(*normalized);
      }
    }
  }

  // Reads the proxy variables the way curl does (lower case first, then upper case; empty =
  // unset) and validates them; errors point at `where` (the proxy_from_environment key).
  [[nodiscard]] ProxyEnv captureProxyEnv(const YamlNode& where) const {
    const auto read = [this, &where](const char* lower, const char* upper, bool is_url) {
      for (const char* name : {lower, upper}) {
        std::optional<std::string> value = env_ ? env_(name) : std::nullopt;
        if (!value || value->empty()) continue;
        if (!is_url) return *value;
        std::string error;
        auto normalized = normalizeProxyUrl(*value, error);
        if (!normalized) {
          fail(where, "proxy_from_environment: " + std::string(name) + "=" +
                          inQuotes(redactUserinfo(*value)) + " is invalid: " + error);
        }
        return std::move(*normalized);
      }
      return std::string();
    };
    ProxyEnv env;
    env.http_proxy = read("http_proxy", "HTTP_PROXY", true);
    env.https_proxy = read("https_proxy", "HTTPS_PROXY", true);
    env.no_proxy = read("no_proxy", "NO_PROXY", false);
    return env;
  }

  [[nodiscard]] bool boolean(const Entry& entry) const {
    const std::string text = scalar(entry);
    if (text == "true") return true;
    if (text == "false") return false;
    failAtValue(entry, inQuotes(entry.name) + " must be true or false, got " + inQuotes(text));
  }

  // dns: names to query: host names (a trailing dot is allowed), no duplicates.
  [[nodiscard]] std::vector<std::string> dnsNames(const Entry& entry) const {
    std::vector<std::string> out = stringList(entry);
    if (out.empty()) failAtValue(entry, "\"names\" must not be empty");
    for (std::size_t i = 0; i < out.size(); ++i) {
      if (!isValidHostName(out[i]) || out[i].size() > 253) {
        fail(entry.value.item(i), "invalid DNS name " + inQuotes(out[i]));
      }
      if (std::find(out.begin(), out.begin() + static_cast<std::ptrdiff_t>(i), out[i]) !=
          out.begin() + static_cast<std::ptrdiff_t>(i)) {
        fail(entry.value.item(i), "duplicate DNS name " + inQuotes(out[i]));
      }
    }
    return out;
  }

  [[nodiscard]] std::vector<DnsRecordType> recordTypes(const Entry& entry) const {
    const std::vector<std::string> texts = stringList(entry);
    if (texts.empty()) failAtValue(entry, "\"record_types\" must not be empty");
    std::vector<DnsRecordType> out;
    for (std::size_t i = 0; i < texts.size(); ++i) {
      const std::string upper = [&] {
        std::string u = texts[i];
        std::transform(u.begin(), u.end(), u.begin(), [](char c) {
          return (c >= 'a' && c <= 'z') ? static_cast<char>(c - 32) : c;
        });
        return u;
      }();
      DnsRecordType type{};
      if (upper == "A") {
        type = DnsRecordType::A;
      } else if (upper == "AAAA") {
        type = DnsRecordType::Aaaa;
      } else if (upper == "CNAME") {
        type = DnsRecordType::Cname;
      } else {
        fail(entry.value.item(i),
             "invalid record type " + inQuotes(texts[i]) + " (expected A, AAAA or CNAME)");
      }
      if (std::find(out.begin(), out.end(), type) != out.end()) {
        fail(entry.value.item(i), "duplicate record type " + inQuotes(texts[i]));
      }
      out.push_back(type);
    }
    return out;
  }

  const std::string& source_;
  const EnvLookup& env_;
  // The global proxy_from_environment value, for errors.
  std::optional<YamlNode> global_proxy_env_node_;
};

// Reads a whole file; errno-based message on failure.
std::optional<std::string> readFile(const std::string& path, std::string& error) {
  errno = 0;
  std::unique_ptr<std::FILE, int (*)(std::FILE*)> file(std::fopen(path.c_str(), "rb"),
                                                       &std::fclose);
  if (!file) {
    error = std::generic_category().message(errno);
    return std::nullopt;
  }
  std::string contents;
  std::array<char, 65536> buffer{};
  while (true) {
    const std::size_t count = std::fread(buffer.data(), 1, buffer.size(), file.get());
    contents.append(buffer.data(), count);
    if (count < buffer.size()) {
      break;
    }
  }
  if (std::ferror(file.get()) != 0) {
    error = std::generic_category().message(errno != 0 ? errno : EIO);
    return std::nullopt;
  }
  return contents;
}

void resolveRelativeTo(const std::filesystem::path& directory, std::string& file) {
  if (file.empty()) {
    return;
  }
  const std::filesystem::path path(file);
  if (path.is_relative()) {
    file = (directory / path).lexically_normal().string();
  }
}

}  // namespace

ConfigError::ConfigError(std::string file, int line, int column, const std::string& message)
    : std::runtime_error(formatWhat(file, line, column, message)),
      file_(std::move(file)),
      line_(line),
      column_(column),
      message_(message) {}

Config loadConfigFile(const std::string& path) { return loadConfigFile(path, processEnv()); }

Config loadConfigFile(const std::string& path, const EnvLookup& env) {
  std::string error;
  const auto contents = readFile(path, error);
  if (!contents) {
    throw ConfigError(path, 0, 0, "cannot read: " + error);
  }
  Config config = parseConfig(*contents, path, env);
  const std::filesystem::path directory = std::filesystem::path(path).parent_path();
  resolveRelativeTo(directory, config.global.ca_file);
  for (TargetConfig& target : config.targets) {
    resolveRelativeTo(directory, target.ca_file);
  }
  return config;
}

Config parseConfig(std::string_view yaml, const std::string& source) {
  return parseConfig(yaml, source, processEnv());
}

Config parseConfig(std::string_view yaml, const std::string& source, const EnvLookup& env) {
  return Parser(source, env).parse(yaml);
}

EnvLookup processEnv() {
  return [](std::string_view name) -> std::optional<std::string> {
    const std::string key(name);
    const char* value = std::getenv(key.c_str());  // NOLINT(concurrency-mt-unsafe)
    if (value == nullptr) {
      return std::nullopt;
    }
    return std::string(value);
  };
}

std::optional<milliseconds> parseDuration(std::string_view text) {
  static constexpr std::array<std::pair<std::string_view, std::int64_t>, 7> kUnits = {{
      {"y", 365LL * 24 * 3600 * 1000},
      {"w", 7LL * 24 * 3600 * 1000},
      {"d", 24LL * 3600 * 1000},
      {"h", 3600LL * 1000},
      {"m", 60LL * 1000},
      {"s", 1000},
      {"ms", 1},
  }};
  // Like Prometheus (whose durations are int64 nanoseconds), refuse anything past ~292 years.
  constexpr std::int64_t kMaxMs = std::numeric_limits<std::int64_t>::max() / 1'000'000;
  if (text.empty()) {
    return std::nullopt;
  }
  std::int64_t total = 0;
  std::size_t next_unit = 0;  // units must appear in descending order, each at most once
  std::size_t pos = 0;
  while (pos < text.size()) {
    const std::size_t number_start = pos;
    while (pos < text.size() && isAsciiDigit(text[pos])) {
      ++pos;
    }
    const std::string_view number = text.substr(number_start, pos - number_start);
    const std::size_t unit_start = pos;
    while (pos < text.size() && isAsciiAlpha(text[pos])) {
      ++pos;
    }
    const std::string_view unit = text.substr(unit_start, pos - unit_start);
    if (number.empty() || unit.empty()) {
      return std::nullopt;
    }
    std::size_t index = next_unit;
    while (index < kUnits.size() && kUnits.at(index).first != unit) {
      ++index;
    }
    if (index == kUnits.size()) {
      return std::nullopt;  // unknown unit, or out of order / repeated
    }
    next_unit = index + 1;
    std::int64_t value = 0;
    const auto [end, ec] = std::from_chars(number.data(), number.data() + number.size(), value);
    if (ec != std::errc{} || end != number.data() + number.size()) {
      return std::nullopt;
    }
    const std::int64_t unit_ms = kUnits.at(index).second;
    if (value > (kMaxMs - total) / unit_ms) {
      return std::nullopt;
    }
    total += value * unit_ms;
  }
  if (total == 0) {
    return std::nullopt;
  }
  return milliseconds(total);
}

std::optional<ResolverSpec> parseResolver(std::string_view text) {
  if (text == "system") {
    return ResolverSpec{};
  }
  std::string address;
  std::optional<std::string_view> port_text;
  if (!text.empty() && text.front() == '[') {
    const std::size_t close = text.find(']');
    if (close == std::string_view::npos) {
      return std::nullopt;
    }
    address = std::string(text.substr(1, close - 1));
    const std::string_view rest = text.substr(close + 1);
    if (!rest.empty()) {
      if (rest.front() != ':') {
        return std::nullopt;
      }
      port_text = rest.substr(1);
    }
    if (!isIpv6(address)) {
      return std::nullopt;
    }
  } else if (std::count(text.begin(), text.end(), ':') >= 2) {
    address = std::string(text);  // a bare IPv6 address, which cannot carry a port
    if (!isIpv6(address)) {
      return std::nullopt;
    }
  } else {
    const std::size_t colon = text.find(':');
    address = std::string(text.substr(0, colon));
    if (colon != std::string_view::npos) {
      port_text = text.substr(colon + 1);
    }
    if (!isIpv4(address)) {
      return std::nullopt;
    }
  }
  ResolverSpec spec;
  spec.system = false;
  spec.address = std::move(address);
  if (port_text) {
    const auto port = parsePort(*port_text);
    if (!port) {
      return std::nullopt;
    }
    spec.port = *port;
  }
  return spec;
}

}  // namespace gomodprobe::config
