#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

#include "config/config_loader.h"
#include "config/secret_file.h"

namespace gomodprobe::config {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

constexpr const char* kSecret = "s3cr3t-token-value";

class VcsConfigTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string templ = (std::filesystem::temp_directory_path() / "vcs-config-XXXXXX").string();
    ASSERT_NE(::mkdtemp(templ.data()), nullptr);
    dir_ = templ;
    write("token", std::string(kSecret) + "\r\nsecond line\n");
    write("password", std::string(kSecret) + "\n");
    write("netrc", "machine git.corp.example login u password " + std::string(kSecret) + "\n");
    write("empty", "");
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  void write(const std::string& name, const std::string& content) {
    std::ofstream(dir_ + "/" + name) << content;
  }

  Config parse(const std::string& target_yaml) {
    return parseConfig(
        "targets:\n  - name: corp\n    kind: vcs\n    url: "
        "https://git.corp.example/team/repo\n" +
            target_yaml,
        dir_ + "/gomodprobe.yml");
  }

  ConfigError error(const std::string& target_yaml) {
    try {
      (void)parse(target_yaml);
    } catch (const ConfigError& e) {
      return e;
    }
    ADD_FAILURE() << "no ConfigError for:\n" << target_yaml;
    return {"", -1, -1, ""};
  }

  std::string dir_;
};

TEST_F(VcsConfigTest, DefaultsModuleFromUrlAndSetsDiscoveryQuery) {
  const Config config = parse("");
  ASSERT_EQ(config.targets.size(), 1U);
  const TargetConfig& t = config.targets[0];
  EXPECT_EQ(t.kind, TargetKind::Vcs);
  EXPECT_EQ(t.module, "git.corp.example/team/repo");
  EXPECT_EQ(t.requestUrl(), "https://git.corp.example/team/repo?go-get=1");

  const Config with_port =
      parseConfig("targets:\n  - {name: a, kind: vcs, url: \"https://127.0.0.1:8443/x/y\"}\n", "t");
  EXPECT_EQ(with_port.targets[0].module, "127.0.0.1/x/y");
}

TEST_F(VcsConfigTest, ReadsCredentialPathsRelativeToTheConfigButKeepsNoSecret) {
  const Config config = parse(
      "    module: git.corp.example/team/repo/v2\n"
      "    ssh: git.corp.example:22\n"
      "    bearer_token_file: token\n");
  const TargetConfig& t = config.targets[0];
  EXPECT_EQ(t.module, "git.corp.example/team/repo/v2");
  EXPECT_EQ(t.ssh, "git.corp.example:22");
  EXPECT_EQ(t.bearer_token_file, dir_ + "/token");
  // The secret itself is read at each run, not kept in the config.
  EXPECT_EQ(readSecretFile(t.bearer_token_file, nullptr), kSecret);

  const Config basic = parse("    basic_auth: {username: bob, password_file: password}\n");
  EXPECT_EQ(basic.targets[0].basic_auth.username, "bob");
  EXPECT_EQ(basic.targets[0].basic_auth.password_file, dir_ + "/password");
  const Config netrc = parse("    netrc_file: " + dir_ + "/netrc\n");
  EXPECT_EQ(netrc.targets[0].netrc_file, dir_ + "/netrc");
}

TEST_F(VcsConfigTest, MoreThanOneCredentialKindIsAnError) {
  const auto e = error("    netrc_file: netrc\n    bearer_token_file: token\n");
  EXPECT_EQ(e.line(), 6);
  EXPECT_EQ(e.column(), 5);
  EXPECT_THAT(e.message(), HasSubstr("conflicts with \"netrc_file\""));
}

TEST_F(VcsConfigTest, UnreadableOrEmptyCredentialFilesAreErrorsWithoutContent) {
  const auto missing = error("    bearer_token_file: nope\n");
  EXPECT_EQ(missing.line(), 5);
  EXPECT_EQ(missing.column(), 24);
  EXPECT_THAT(missing.message(), HasSubstr("No such file"));
  const auto empty = error("    basic_auth:\n      username: bob\n      password_file: empty\n");
  EXPECT_EQ(empty.line(), 7);
  EXPECT_THAT(empty.message(), HasSubstr("is empty"));
  const auto no_netrc = error("    netrc_file: /nonexistent/netrc\n");
  EXPECT_THAT(no_netrc.message(), HasSubstr("netrc_file"));
  // A directory cannot be read as a file.
  const auto dir = error("    bearer_token_file: " + dir_ + "\n");
  EXPECT_THAT(dir.message(), Not(HasSubstr(kSecret)));
}

TEST_F(VcsConfigTest, RejectsBadVcsKeys) {
  EXPECT_THAT(error("    basic_auth: {username: bob}\n").message(),
              HasSubstr("missing the required key \"password_file\""));
  EXPECT_THAT(error("    basic_auth: {username: \"a:b\", password_file: password}\n").message(),
              HasSubstr("without ':'"));
  EXPECT_THAT(error("    ssh: git.corp.example\n").message(), HasSubstr("invalid ssh address"));
  EXPECT_THAT(error("    ssh: \"bad host:22\"\n").message(), HasSubstr("invalid ssh address"));
  EXPECT_THAT(error("    module: https://git.corp.example/x\n").message(),
              HasSubstr("invalid module path"));
  EXPECT_THAT(error("    path: /x\n").message(), HasSubstr("does not apply to kind vcs"));
  // Credentials are vcs-only.
  try {
    (void)parseConfig(
        "targets:\n  - {name: a, kind: http, url: \"https://a.example\", netrc_file: x}\n", "t");
    ADD_FAILURE();
  } catch (const ConfigError& e) {
    EXPECT_THAT(e.message(), HasSubstr("does not apply to kind http"));
  }
}

}  // namespace
}  // namespace gomodprobe::config
