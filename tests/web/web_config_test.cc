#include "web/web_config.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>
#include <string_view>

#include "config/config_loader.h"

namespace gomodprobe::web {
namespace {

using config::ConfigError;
using ::testing::HasSubstr;
using ::testing::Not;

// A syntactically valid bcrypt hash (cost 10, 22 salt + 31 hash characters).
const std::string kHash = "$2y$10$" + std::string(22, 'a') + std::string(31, 'B');

ConfigError parseError(std::string_view yaml) {
  try {
    (void)parseWebConfig(yaml, "web.yml");
  } catch (const ConfigError& e) {
    return e;
  }
  ADD_FAILURE() << "no ConfigError for:\n" << yaml;
  return ConfigError("", -1, -1, "");
}

TEST(WebConfigTest, EmptyFileMeansPlainHttpWithoutAuth) {
  const WebConfig config = parseWebConfig("", "web.yml");
  EXPECT_FALSE(config.tls);
  EXPECT_TRUE(config.basic_auth_users.empty());
  EXPECT_FALSE(parseWebConfig("# nothing\n", "web.yml").tls);
  EXPECT_FALSE(parseWebConfig("tls_server_config:\n", "web.yml").tls);
}

TEST(WebConfigTest, ParsesTlsAndUsers) {
  const WebConfig config = parseWebConfig(
      "tls_server_config:\n"
      "  cert_file: server.crt\n"
      "  key_file: /etc/keys/server.key\n"
      "  client_auth_type: RequireAndVerifyClientCert\n"
      "  client_ca_file: clients.pem\n"
      "  min_version: TLS13\n"
      "basic_auth_users:\n"
      "  alice: " +
          kHash +
          "\n"
          "  bob: '" +
          kHash + "'\n",
      "web.yml");
  ASSERT_TRUE(config.tls);
  EXPECT_EQ(config.tls->cert_file, "server.crt");
  EXPECT_EQ(config.tls->key_file, "/etc/keys/server.key");
  EXPECT_EQ(config.tls->client_ca_file, "clients.pem");
  EXPECT_TRUE(config.tls->require_client_cert);
  EXPECT_EQ(config.tls->min_version, TlsVersion::Tls13);
  ASSERT_EQ(config.basic_auth_users.size(), 2U);
  EXPECT_EQ(config.basic_auth_users.at("alice"), kHash);
  EXPECT_EQ(config.source, "web.yml");
}

TEST(WebConfigTest, TlsDefaultsToTls12WithoutClientCertificates) {
  const WebConfig config =
      parseWebConfig("tls_server_config:\n  cert_file: a.crt\n  key_file: a.key\n", "web.yml");
  ASSERT_TRUE(config.tls);
  EXPECT_EQ(config.tls->min_version, TlsVersion::Tls12);
  EXPECT_FALSE(config.tls->require_client_cert);
}

TEST(WebConfigTest, ErrorsCarryFileLineAndColumn) {
  auto e = parseError("tls_server_config:\n  cert_file: a.crt\n  key_fil: a.key\n");
  EXPECT_EQ(e.line(), 3);
  EXPECT_EQ(e.column(), 3);
  EXPECT_THAT(e.what(), HasSubstr("web.yml:3:3: unknown key \"key_fil\""));

  e = parseError("tls_server_config:\n  cert_file: a.crt\n");
  EXPECT_EQ(e.line(), 1);
  EXPECT_THAT(e.message(), HasSubstr("missing key_file"));

  e = parseError(
      "tls_server_config:\n  cert_file: a.crt\n  key_file: a.key\n"
      "  min_version: TLS11\n");
  EXPECT_EQ(e.line(), 4);
  EXPECT_EQ(e.column(), 16);
  EXPECT_THAT(e.message(), HasSubstr("not supported"));

  e = parseError("basic_auth_users:\n  alice: secret\n");
  EXPECT_EQ(e.line(), 2);
  EXPECT_EQ(e.column(), 10);
  EXPECT_THAT(e.message(), HasSubstr("not a bcrypt hash"));
  EXPECT_THAT(e.what(), Not(HasSubstr("secret"))) << "a password is never echoed";

  e = parseError("basic_auth_users:\n  alice: " + kHash + "\n  alice: " + kHash + "\n");
  EXPECT_EQ(e.line(), 3);
  EXPECT_THAT(e.message(), HasSubstr("duplicate key \"alice\" (first at line 2)"));

  e = parseError("tls_server_config: [1, 2\n");
  EXPECT_GT(e.line(), 0) << "YAML syntax errors are located too";

  e = parseError("tls_server_config:\n  cert_file: a\n  key_file: b\n  cipher_suites: [x]\n");
  EXPECT_EQ(e.line(), 4);
  EXPECT_THAT(e.message(), HasSubstr("\"cipher_suites\" is not supported"));

  e = parseError("http_server_config:\n  http2: false\n");
  EXPECT_EQ(e.line(), 1);

  e = parseError("basic_auth_user:\n  a: b\n");
  EXPECT_THAT(e.message(), HasSubstr("unknown key \"basic_auth_user\""));

  e = parseError("basic_auth_users:\n---\ntls_server_config:\n");
  EXPECT_EQ(e.line(), 3);
  EXPECT_THAT(e.message(), HasSubstr("expected a single YAML document"));
}

// yaml-cpp 0.7's YAML::LoadAll loops forever, allocating, on a lone "," (jbeder/yaml-cpp#1040):
// the daemon ran out of memory at start on such a web config.
TEST(WebConfigTest, AStrayCommaIsASyntaxErrorNotAHang) {
  const ConfigError e = parseError(",\n");
  EXPECT_EQ(e.line(), 1);
  EXPECT_THAT(e.message(), HasSubstr("unexpected token"));
}

TEST(WebConfigTest, ClientCaAndRequireClientCertGoTogether) {
  auto e = parseError(
      "tls_server_config:\n  cert_file: a\n  key_file: b\n"
      "  client_auth_type: RequireAndVerifyClientCert\n");
  EXPECT_EQ(e.line(), 4);
  EXPECT_THAT(e.message(), HasSubstr("needs client_ca_file"));
  e = parseError("tls_server_config:\n  cert_file: a\n  key_file: b\n  client_ca_file: c\n");
  EXPECT_EQ(e.line(), 4);
  e = parseError(
      "tls_server_config:\n  cert_file: a\n  key_file: b\n  client_auth_type: RequestClientCert\n");
  EXPECT_THAT(e.message(), HasSubstr("not supported"));
}

TEST(WebConfigTest, RejectsMalformedBcryptHashes) {
  for (const std::string& bad :
       {std::string("$1$abc$def"), std::string("$2y$10$short"), "$2x$10$" + std::string(53, 'a'),
        "$2y$03$" + std::string(53, 'a'), "$2y$10$" + std::string(52, 'a') + "!"}) {
    EXPECT_THROW((void)parseWebConfig("basic_auth_users:\n  u: '" + bad + "'\n", "w.yml"),
                 ConfigError)
        << bad;
  }
}

TEST(WebConfigTest, LoadResolvesRelativeFilesAndChecksTheyExist) {
  const auto dir =
      std::filesystem::temp_directory_path() / ("gomodprobe-webcfg-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  std::ofstream(dir / "server.crt") << "cert";
  std::ofstream(dir / "server.key") << "key";
  const auto path = (dir / "web.yml").string();
  std::ofstream(path) << "tls_server_config:\n  cert_file: server.crt\n  key_file: server.key\n";
  const WebConfig config = loadWebConfigFile(path);
  ASSERT_TRUE(config.tls);
  EXPECT_EQ(config.tls->cert_file, (dir / "server.crt").string());
  EXPECT_EQ(config.tls->key_file, (dir / "server.key").string());

  std::ofstream(path, std::ios::trunc)
      << "tls_server_config:\n  cert_file: missing.crt\n  key_file: server.key\n";
  try {
    (void)loadWebConfigFile(path);
    ADD_FAILURE() << "missing cert_file accepted";
  } catch (const ConfigError& e) {
    EXPECT_THAT(e.what(), HasSubstr("cannot read cert_file " + (dir / "missing.crt").string()));
  }
  EXPECT_THROW((void)loadWebConfigFile((dir / "nope.yml").string()), ConfigError);
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace gomodprobe::web
