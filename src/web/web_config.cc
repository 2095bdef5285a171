#include "web/web_config.h"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <system_error>
#include <vector>

#include "config/config_loader.h"
#include "config/yaml_tree.h"

namespace gomodprobe::web {

namespace {

using config::ConfigError;

// Keys of exporter-toolkit's web config that gomodprobe recognises but does not implement.
constexpr std::array<std::string_view, 5> kUnsupportedTlsKeys = {
    "cipher_suites", "curve_preferences", "max_version", "prefer_server_cipher_suites",
    "client_allowed_sans"};

bool isBcryptHash(const std::string& hash) {
  // "$2b$10$" + 22 salt characters + 31 hash characters (bcrypt's base64 alphabet).
  if (hash.size() != 60 || hash.compare(0, 2, "$2") != 0 || hash[3] != '$' || hash[6] != '$') {
    return false;
  }
  if (hash[2] != 'a' && hash[2] != 'b' && hash[2] != 'y') return false;
  if (hash[4] < '0' || hash[4] > '3' || hash[5] < '0' || hash[5] > '9') return false;
  const int cost = (hash[4] - '0') * 10 + (hash[5] - '0');
  if (cost < 4 || cost > 31) return false;
  return std::all_of(hash.begin() + 7, hash.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
           c == '/';
  });
}

class Parser {
 public:
  explicit Parser(const std::string& source) : source_(source) {}

  WebConfig parse(std::string_view yaml) {
    // The syntax and the document count are checked with config::YamlTree first: YAML::LoadAll
    // loops forever, allocating, on a stray token such as a lone "," in yaml-cpp < 0.8
    // (jbeder/yaml-cpp#1040). The file is small: its first document is then loaded as nodes.
    YAML::Node root;
    try {
      const config::YamlTree tree = config::YamlTree::parse(yaml);
      if (!tree.root()) return emptyConfig();
      if (tree.secondDocument()) failAt(*tree.secondDocument(), "expected a single YAML document");
      root = YAML::Load(std::string(yaml));
    } catch (const YAML::Exception& e) {
      failAt(e.mark, e.msg);
    }
    WebConfig config = emptyConfig();
    if (root.IsNull()) return config;
    if (!root.IsMap()) fail(root, "the top level must be a map");
    for (const auto& [key, value] : entries(root)) {
      const std::string& name = key.Scalar();
      if (name == "tls_server_config") {
        if (!value.IsNull()) config.tls = parseTls(key, value);
      } else if (name == "basic_auth_users") {
        if (!value.IsNull()) config.basic_auth_users = parseUsers(value);
      } else if (name == "http_server_config") {
        fail(key, "\"http_server_config\" is not supported by gomodprobe");
      } else {
        fail(key, "unknown key \"" + name +
                      "\" at the top level (expected tls_server_config or basic_auth_users)");
      }
    }
    return config;
  }

 private:
  [[nodiscard]] WebConfig emptyConfig() const {
    WebConfig config;
    config.source = source_;
    return config;
  }

  [[noreturn]] void failAt(const YAML::Mark& mark, const std::string& message) const {
    if (mark.is_null()) throw ConfigError(source_, 0, 0, message);
    throw ConfigError(source_, mark.line + 1, mark.column + 1, message);
  }
  [[noreturn]] void fail(const YAML::Node& node, const std::string& message) const {
    failAt(node.Mark(), message);
  }

  // Map entries in document order; non-string and duplicate keys are errors.
  [[nodiscard]] std::vector<std::pair<YAML::Node, YAML::Node>> entries(
      const YAML::Node& map) const {
    std::vector<std::pair<YAML::Node, YAML::Node>> out;
    for (const auto& pair : map) {
      const YAML::Node key = pair.first;
      if (!key.IsScalar()) fail(key, "keys must be strings");
      for (const auto& [seen, unused] : out) {
        if (seen.Scalar() == key.Scalar()) {
          fail(key, "duplicate key \"" + key.Scalar() + "\" (first at line " +
                        std::to_string(seen.Mark().line + 1) + ")");
        }
      }
      out.emplace_back(key, pair.second);
    }
    return out;
  }

  [[nodiscard]] std::string scalar(const YAML::Node& key, const YAML::Node& value) const {
    if (value.IsNull()) fail(key, "\"" + key.Scalar() + "\" needs a value");
    if (!value.IsScalar()) fail(value, "\"" + key.Scalar() + "\" must be a string");
    return value.Scalar();
  }

  [[nodiscard]] TlsServerConfig parseTls(const YAML::Node& section_key,
                                         const YAML::Node& node) const {
    if (!node.IsMap()) fail(node, "\"tls_server_config\" must be a map");
    TlsServerConfig tls;
    bool has_cert = false;
    bool has_key = false;
    std::optional<YAML::Node> auth_type_node;
    std::optional<YAML::Node> ca_node;
    for (const auto& [key, value] : entries(node)) {
      const std::string& name = key.Scalar();
      if (name == "cert_file") {
        tls.cert_file = scalar(key, value);
        has_cert = !tls.cert_file.empty();
      } else if (name == "key_file") {
        tls.key_file = scalar(key, value);
        has_key = !tls.key_file.empty();
      } else if (name == "client_ca_file") {
        tls.client_ca_file = scalar(key, value);
        ca_node = value;
      } else if (name == "client_auth_type") {
        const std::string type = scalar(key, value);
        auth_type_node = value;
        if (type == "RequireAndVerifyClientCert") {
          tls.require_client_cert = true;
        } else if (type == "NoClientCert") {
          tls.require_client_cert = false;
        } else if (type == "RequestClientCert" || type == "RequireAnyClientCert" ||
                   type == "VerifyClientCertIfGiven") {
          fail(value, "client_auth_type \"" + type +
                          "\" is not supported (use NoClientCert or RequireAndVerifyClientCert)");
        } else {
          fail(value, "invalid client_auth_type \"" + type + "\"");
        }
      } else if (name == "min_version") {
        const std::string version = scalar(key, value);
        if (version == "TLS12") {
          tls.min_version = TlsVersion::Tls12;
        } else if (version == "TLS13") {
          tls.min_version = TlsVersion::Tls13;
        } else if (version == "TLS10" || version == "TLS11") {
          fail(value, "min_version " + version + " is not supported (TLS12 or TLS13)");
        } else {
          fail(value, "invalid min_version \"" + version + "\" (TLS12 or TLS13)");
        }
      } else if (std::find(kUnsupportedTlsKeys.begin(), kUnsupportedTlsKeys.end(), name) !=
                 kUnsupportedTlsKeys.end()) {
        fail(key, "\"" + name + "\" is not supported by gomodprobe");
      } else {
        fail(key, "unknown key \"" + name + "\" in tls_server_config");
      }
    }
    if (!has_cert) fail(section_key, "tls_server_config: missing cert_file");
    if (!has_key) fail(section_key, "tls_server_config: missing key_file");
    if (tls.require_client_cert && tls.client_ca_file.empty()) {
      fail(*auth_type_node, "RequireAndVerifyClientCert needs client_ca_file");
    }
    if (!tls.require_client_cert && !tls.client_ca_file.empty()) {
      fail(*ca_node,
           "client_ca_file is set but client_auth_type is not RequireAndVerifyClientCert");
    }
    return tls;
  }

  [[nodiscard]] std::map<std::string, std::string> parseUsers(const YAML::Node& node) const {
    if (!node.IsMap()) fail(node, "\"basic_auth_users\" must be a map of user name to bcrypt hash");
    std::map<std::string, std::string> users;
    for (const auto& [key, value] : entries(node)) {
      const std::string& user = key.Scalar();
      if (user.empty() || user.find(':') != std::string::npos) {
        fail(key, "invalid user name \"" + user + "\" (must be non-empty, without ':')");
      }
      if (value.IsNull() || !value.IsScalar()) {
        fail(value.IsNull() ? key : value, "user \"" + user + "\" needs a bcrypt hash");
      }
      // The hash itself is not echoed: it is a secret.
      if (!isBcryptHash(value.Scalar())) {
        fail(value, "the password of user \"" + user +
                        "\" is not a bcrypt hash ($2a$, $2b$ or $2y$, 60 characters)");
      }
      users.emplace(user, value.Scalar());
    }
    return users;
  }

  const std::string& source_;
};

void resolveRelativeTo(const std::filesystem::path& directory, std::string& file) {
  if (!file.empty() && std::filesystem::path(file).is_relative()) {
    file = (directory / file).lexically_normal().string();
  }
}

void checkReadable(const std::string& source, const std::string& what, const std::string& file) {
  if (std::ifstream(file).good()) return;
  throw ConfigError(source, 0, 0,
                    "cannot read " + what + " " + file + ": " +
                        std::generic_category().message(errno != 0 ? errno : EACCES));
}

}  // namespace

WebConfig parseWebConfig(std::string_view yaml, const std::string& source) {
  return Parser(source).parse(yaml);
}

WebConfig loadWebConfigFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    throw ConfigError(
        path, 0, 0, "cannot read: " + std::generic_category().message(errno != 0 ? errno : ENOENT));
  }
  std::ostringstream text;
  text << in.rdbuf();
  WebConfig config = parseWebConfig(text.str(), path);
  if (config.tls) {
    const std::filesystem::path directory = std::filesystem::path(path).parent_path();
    resolveRelativeTo(directory, config.tls->cert_file);
    resolveRelativeTo(directory, config.tls->key_file);
    resolveRelativeTo(directory, config.tls->client_ca_file);
    checkReadable(path, "cert_file", config.tls->cert_file);
    checkReadable(path, "key_file", config.tls->key_file);
    if (!config.tls->client_ca_file.empty()) {
      checkReadable(path, "client_ca_file", config.tls->client_ca_file);
    }
  }
  return config;
}

}  // namespace gomodprobe::web
