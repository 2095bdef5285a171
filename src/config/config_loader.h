#pragma once

#include <functional>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>

#include "gomodprobe/config.h"

namespace gomodprobe::config {

/// A configuration error, located in its source. what() is "file:line:column: message"; line and
/// column are 1-based (0 when the error has no position, e.g. an unreadable file).
class ConfigError : public std::runtime_error {
 public:
  ConfigError(std::string file, int line, int column, const std::string& message);
  [[nodiscard]] const std::string& file() const { return file_; }
  [[nodiscard]] int line() const { return line_; }
  [[nodiscard]] int column() const { return column_; }
  [[nodiscard]] const std::string& message() const { return message_; }

 private:
  std::string file_;
  int line_;
  int column_;
  std::string message_;
};

/// Looks up an environment variable (injected so tests need not touch the process environment).
using EnvLookup = std::function<std::optional<std::string>(std::string_view name)>;
/// The process environment.
[[nodiscard]] EnvLookup processEnv();

/// Reads and validates a YAML config file. Throws ConfigError. The proxy variables of targets
/// with proxy_from_environment are read from `env` (default: the process environment) now, at
/// load time, and kept in TargetConfig::proxy_env.
[[nodiscard]] Config loadConfigFile(const std::string& path);
[[nodiscard]] Config loadConfigFile(const std::string& path, const EnvLookup& env);

/// Parses and validates YAML text; `source` names it in errors. Throws ConfigError.
/// Strict: unknown keys, wrong types, bad durations/URLs/resolvers/proxy URLs, duplicate target
/// names and timeout >= interval are errors. Global defaults are applied to every target.
[[nodiscard]] Config parseConfig(std::string_view yaml, const std::string& source);
[[nodiscard]] Config parseConfig(std::string_view yaml, const std::string& source,
                                 const EnvLookup& env);

/// The embedded default: configFromGoEnv (config/go_env.h) over the Go variables in `env`, without
/// modules: one goproxy target per http(s) GOPROXY entry up to direct/off (default
/// "https://proxy.golang.org,direct"; entries without a scheme get "https://") named after the
/// host ("proxy-golang-org"), and one sumdb target for GOSUMDB (default sum.golang.org, path
/// /latest, "sumdb-sum-golang-org"; "off" → none; a URL in GOSUMDB is used as is, otherwise the
/// database is reached through the proxies as the go command does).
[[nodiscard]] Config defaultConfig(const EnvLookup& env);

/// Prometheus duration syntax: one or more <number><unit> with unit in ms, s, m, h, d, w, y
/// ("1m30s", "250ms"). nullopt when malformed or zero.
[[nodiscard]] std::optional<std::chrono::milliseconds> parseDuration(std::string_view text);

/// "system", "IP", "IP:port", "[v6]" or "[v6]:port". nullopt when malformed.
[[nodiscard]] std::optional<ResolverSpec> parseResolver(std::string_view text);

}  // namespace gomodprobe::config
