#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>

namespace gomodprobe::web {

/// Lowest TLS version the web server accepts (exporter-toolkit's `min_version`).
enum class TlsVersion { Tls12, Tls13 };

/// exporter-toolkit's `tls_server_config` (github.com/prometheus/exporter-toolkit,
/// docs/web-configuration.md), the subset civetweb can serve.
struct TlsServerConfig {
  std::string cert_file;  ///< PEM: the server certificate, then any intermediates
  std::string key_file;   ///< PEM private key of cert_file
  /// PEM CA bundle for client certificates; with `client_auth_type: RequireAndVerifyClientCert`
  /// every client must present a certificate signed by it.
  std::string client_ca_file;
  bool require_client_cert = false;
  TlsVersion min_version = TlsVersion::Tls12;  ///< exporter-toolkit's default
};

/// The `--web.config.file` (same format as Prometheus exporters'):
///
///   tls_server_config:
///     cert_file: server.crt
///     key_file: server.key
///     client_auth_type: RequireAndVerifyClientCert   # or NoClientCert (default)
///     client_ca_file: clients-ca.crt
///     min_version: TLS12                             # or TLS13
///   basic_auth_users:
///     alice: $2y$10$...                              # bcrypt hash (htpasswd -nBC 10 alice)
///
/// Relative file names are relative to the web config file's directory. An empty file means plain
/// HTTP without authentication. Keys exporter-toolkit knows but gomodprobe does not implement
/// (cipher_suites, curve_preferences, max_version, client_allowed_sans, http_server_config, ...)
/// are errors, so a setting is never silently ignored.
struct WebConfig {
  std::optional<TlsServerConfig> tls;
  /// user name → bcrypt hash ("$2a$", "$2b$" or "$2y$", 60 characters). Empty: no authentication.
  std::map<std::string, std::string> basic_auth_users;
  std::string source;  ///< file name for messages; empty when there is no web config
};

/// Parses YAML text; `source` names it in errors. Throws config::ConfigError
/// ("file:line:column: message"). File names are kept as written (not resolved, not opened).
[[nodiscard]] WebConfig parseWebConfig(std::string_view yaml, const std::string& source);

/// Reads, parses and validates a web config file: resolves relative file names against its
/// directory and checks that the certificate, key and CA files are readable. Throws
/// config::ConfigError.
[[nodiscard]] WebConfig loadWebConfigFile(const std::string& path);

}  // namespace gomodprobe::web
