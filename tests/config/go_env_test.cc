// config/go_env: reading the Go environment (process or `go env -json`), the targets the go
// command would use, and lint-env's classes of mistakes.

#include "config/go_env.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <map>
#include <optional>
#include <string>
#include <vector>

namespace gomodprobe::config {
namespace {

using goproxy::LintSeverity;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

GoEnv envOf(std::map<std::string, std::string> vars) {
  GoEnv env;
  env.source = "test";
  for (auto& [k, v] : vars) env.vars.emplace(k, v);
  return env;
}

EnvLookup lookupOf(std::map<std::string, std::string> vars) {
  return [vars = std::move(vars)](std::string_view name) -> std::optional<std::string> {
    const auto it = vars.find(std::string(name));
    return it == vars.end() ? std::nullopt : std::optional<std::string>(it->second);
  };
}

/// "severity variable" of every problem, to assert the classes found.
std::vector<std::string> classes(const std::vector<GoEnvProblem>& problems) {
  std::vector<std::string> out;
  for (const auto& p : problems) {
    out.push_back(std::string(p.severity == LintSeverity::Error ? "error " : "warning ") +
                  p.variable);
  }
  return out;
}

TEST(GoEnvTest, EffectiveValuesApplyTheGoCommandDefaults) {
  const GoEnv env = envOf({{"GOPRIVATE", "corp.example"}});
  EXPECT_EQ(env.effective("GOPROXY"), "https://proxy.golang.org,direct");
  EXPECT_EQ(env.effective("GOSUMDB"), "sum.golang.org");
  EXPECT_EQ(env.effective("GONOPROXY"), "corp.example");
  EXPECT_EQ(env.effective("GONOSUMDB"), "corp.example");
  const GoEnv explicit_env = envOf({{"GOPRIVATE", "corp.example"}, {"GONOSUMDB", "x.example"}});
  EXPECT_EQ(explicit_env.effective("GONOSUMDB"), "x.example");
}

TEST(GoEnvTest, LowerCaseProxyVariablesAreReadWhenUpperCaseIsUnset) {
  const GoEnv env = goEnvFromLookup(lookupOf({{"https_proxy", "http://lower:3128"},
                                              {"HTTP_PROXY", "http://upper:3128"},
                                              {"http_proxy", "http://ignored:3128"}}));
  EXPECT_EQ(env.get("HTTPS_PROXY"), "http://lower:3128");
  EXPECT_EQ(env.get("HTTP_PROXY"), "http://upper:3128");
  EXPECT_EQ(env.vars.count("NO_PROXY"), 0U);
}

TEST(GoEnvTest, GoEnvJsonGivesTheGoSettingsAndTheProcessGivesTheProxies) {
  std::vector<std::string> asked;
  const CommandRunner fake_go = [&asked](const std::vector<std::string>& argv) {
    asked = argv;
    return std::optional<std::string>(R"({
      "GOPROXY": "https://goproxy.cn,direct", "GOSUMDB": "sum.golang.google.cn",
      "GONOPROXY": "corp.example", "GONOSUMDB": "corp.example", "GOPRIVATE": "corp.example",
      "GOINSECURE": "", "GOVCS": ""})");
  };
  const GoEnv env = goEnvFromGoCommand(
      fake_go, lookupOf({{"GOPROXY", "https://from-process"}, {"HTTPS_PROXY", "http://p:1"}}));
  EXPECT_THAT(asked, ElementsAre("go", "env", "-json", "GOPROXY", "GOSUMDB", "GONOPROXY",
                                 "GONOSUMDB", "GOPRIVATE", "GOINSECURE", "GOVCS"));
  EXPECT_EQ(env.source, "go env -json");
  EXPECT_EQ(env.get("GOPROXY"), "https://goproxy.cn,direct");
  EXPECT_EQ(env.get("GOSUMDB"), "sum.golang.google.cn");
  EXPECT_EQ(env.get("HTTPS_PROXY"), "http://p:1");
}

TEST(GoEnvTest, UnusableGoEnvOutputIsAConfigError) {
  const CommandRunner failing = [](const std::vector<std::string>&) {
    return std::optional<std::string>();
  };
  EXPECT_THROW((void)goEnvFromGoCommand(failing, lookupOf({})), ConfigError);
  const CommandRunner garbage = [](const std::vector<std::string>&) {
    return std::optional<std::string>("go: unknown flag -json");
  };
  EXPECT_THROW((void)goEnvFromGoCommand(garbage, lookupOf({})), ConfigError);
  const CommandRunner wrong_type = [](const std::vector<std::string>&) {
    return std::optional<std::string>(R"({"GOPROXY": 3})");
  };
  EXPECT_THROW((void)goEnvFromGoCommand(wrong_type, lookupOf({})), ConfigError);
}

TEST(GoEnvTest, ProcessRunnerCapturesStdoutAndReportsFailure) {
  const CommandRunner run = processRunner();
  EXPECT_EQ(run({"sh", "-c", "echo out; echo err >&2"}), std::optional<std::string>("out\n"));
  EXPECT_EQ(run({"sh", "-c", "exit 3"}), std::nullopt);
  EXPECT_EQ(run({"/nonexistent/gomodprobe-no-such-command"}), std::nullopt);
}

TEST(GoEnvTest, ModulesGoToEveryProxyAndAChainTarget) {
  GoEnvTargetOptions options;
  options.modules = {{"golang.org/x/text", "v0.14.0"}, {"rsc.io/quote", "latest"}};
  const Config config = configFromGoEnv(
      envOf({{"GOPROXY", "https://a.example,https://b.example|direct"}}), options, "t");
  ASSERT_EQ(config.targets.size(), 4U);
  EXPECT_EQ(config.targets[0].name, "a-example");
  EXPECT_THAT(config.targets[0].modules, ElementsAre(options.modules[0], options.modules[1]));
  EXPECT_EQ(config.targets[1].name, "b-example");
  EXPECT_EQ(config.targets[2].name, "goproxy-chain");
  EXPECT_EQ(config.targets[2].kind, TargetKind::Chain);
  EXPECT_EQ(config.targets[2].goproxy, "https://a.example,https://b.example|direct");
  EXPECT_EQ(config.targets[3].kind, TargetKind::SumDb);
  EXPECT_EQ(config.targets[3].goproxy, "https://a.example,https://b.example|direct");
}

TEST(GoEnvTest, PrivateModulesGetAVcsTargetAndStayOutOfTheProxiesAndTheSumdb) {
  GoEnvTargetOptions options;
  options.modules = {{"git.corp.example/team/repo", "v1.0.0"}, {"rsc.io/quote", "v1.5.2"}};
  const Config config = configFromGoEnv(
      envOf({{"GOPROXY", "https://a.example"}, {"GOPRIVATE", "git.corp.example"}}), options, "t");
  ASSERT_EQ(config.targets.size(), 4U);
  EXPECT_THAT(config.targets[0].modules, ElementsAre(options.modules[1]));  // a-example
  EXPECT_EQ(config.targets[0].path, "/rsc.io/quote/@v/list");
  EXPECT_THAT(config.targets[1].modules, ElementsAre(options.modules[1]));  // goproxy-chain
  EXPECT_THAT(config.targets[2].modules, ElementsAre(options.modules[1]));  // sumdb
  const TargetConfig& vcs = config.targets[3];
  EXPECT_EQ(vcs.kind, TargetKind::Vcs);
  EXPECT_EQ(vcs.name, "vcs-git-corp-example-team-repo");
  EXPECT_EQ(vcs.url, "https://git.corp.example/team/repo");
  EXPECT_EQ(vcs.module, "git.corp.example/team/repo");
}

TEST(GoEnvTest, ProxyVariablesMakeEveryTargetUseTheProxyLikeGo) {
  const Config config = configFromGoEnv(envOf({{"GOPROXY", "https://a.example"},
                                               {"HTTPS_PROXY", "http://proxy.corp:3128"},
                                               {"NO_PROXY", "sum.golang.org"}}),
                                        {}, "t");
  ASSERT_EQ(config.targets.size(), 2U);
  for (const auto& target : config.targets) {
    EXPECT_TRUE(target.proxy_from_environment) << target.name;
    EXPECT_EQ(target.proxy_env.https_proxy, "http://proxy.corp:3128") << target.name;
    EXPECT_EQ(target.proxy_env.no_proxy, "sum.golang.org") << target.name;
  }
  const Config direct = configFromGoEnv(envOf({{"GOPROXY", "https://a.example"}}), {}, "t");
  EXPECT_FALSE(direct.targets[0].proxy_from_environment);
}

TEST(GoEnvTest, LintFindsNothingInTheDefaults) {
  EXPECT_TRUE(lintGoEnv(envOf({}), {}).empty());
  EXPECT_TRUE(lintGoEnv(envOf({{"GOPRIVATE", "corp.example/*"}}), {}).empty());
}

TEST(GoEnvTest, LintGoProxySpacesSemicolonsDirectCasingAndSchemes) {
  EXPECT_THAT(classes(lintGoEnv(envOf({{"GOPROXY", "https://goproxy.cn; direct"}}), {})),
              ::testing::Contains("error GOPROXY"));
  EXPECT_THAT(classes(lintGoEnv(envOf({{"GOPROXY", "https://goproxy.cn,Direct"}}), {})),
              ::testing::Contains("error GOPROXY"));
  EXPECT_THAT(classes(lintGoEnv(envOf({{"GOPROXY", "https://goproxy.cn, direct"}}), {})),
              ElementsAre("warning GOPROXY"));
  EXPECT_THAT(classes(lintGoEnv(envOf({{"GOPROXY", "ftp://mirror.example,direct"}}), {})),
              ::testing::Contains("error GOPROXY"));
}

TEST(GoEnvTest, LintPrivatePatternNotCoveredByGoNoSumDb) {
  const auto problems =
      lintGoEnv(envOf({{"GONOPROXY", "git.corp.example"}, {"GONOSUMDB", "other.example"}}), {});
  ASSERT_THAT(classes(problems), ElementsAre("warning GONOSUMDB"));
  EXPECT_THAT(problems[0].message, HasSubstr("git.corp.example"));
  EXPECT_THAT(problems[0].fix, HasSubstr("GONOSUMDB"));
  // GOPRIVATE alone covers both; a broader GONOSUMDB pattern covers a narrower one.
  EXPECT_TRUE(lintGoEnv(envOf({{"GOPRIVATE", "git.corp.example"}}), {}).empty());
  EXPECT_TRUE(
      lintGoEnv(envOf({{"GONOPROXY", "git.corp.example/team"}, {"GONOSUMDB", "git.corp.example"}}),
                {})
          .empty());
}

TEST(GoEnvTest, LintPrivateModuleCheckedAgainstThePublicSumdb) {
  const auto problems = lintGoEnv(envOf({{"GONOPROXY", "*.corp.example"}, {"GONOSUMDB", "x.org"}}),
                                  {{"git.corp.example/team/repo", "v1.0.0"}});
  // One finding for the pattern, one naming the module.
  ASSERT_THAT(classes(problems), ElementsAre("warning GONOSUMDB", "warning GONOSUMDB"));
  EXPECT_THAT(problems[0].message, HasSubstr("git.corp.example/team/repo"));
}

TEST(GoEnvTest, LintPatternListWithSpacesNamesItsVariable) {
  EXPECT_THAT(classes(lintGoEnv(envOf({{"GOPRIVATE", "*.corp.example, github.com/acme"}}), {})),
              ::testing::Contains("warning GOPRIVATE"));
}

TEST(GoEnvTest, SemicolonFixTrimsAndLowerCasesKeywords) {
  const auto problems = lintGoEnv(envOf({{"GOPROXY", "https://goproxy.cn; Direct"}}), {});
  ASSERT_FALSE(problems.empty());
  EXPECT_THAT(problems[0].fix, HasSubstr("\"https://goproxy.cn,direct\""));
}

TEST(GoEnvTest, LintGoSumDbOffWithGoNoSumDbAndMalformedGoSumDb) {
  EXPECT_THAT(classes(lintGoEnv(envOf({{"GOSUMDB", "off"}, {"GONOSUMDB", "corp.example"}}), {})),
              ElementsAre("warning GONOSUMDB"));
  EXPECT_THAT(classes(lintGoEnv(envOf({{"GOSUMDB", "a b c"}}), {})), ElementsAre("error GOSUMDB"));
}

TEST(GoEnvTest, LintGoInsecureWithoutGoPrivate) {
  EXPECT_THAT(classes(lintGoEnv(envOf({{"GOINSECURE", "git.corp.example"}}), {})),
              ElementsAre("warning GOINSECURE"));
  EXPECT_TRUE(
      lintGoEnv(envOf({{"GOINSECURE", "git.corp.example"}, {"GOPRIVATE", "*.corp.example"}}), {})
          .empty());
}

TEST(GoEnvTest, LintProxyUrlSchemesAndGoVcs) {
  EXPECT_THAT(classes(lintGoEnv(envOf({{"HTTPS_PROXY", "htp://proxy.corp:3128"}}), {})),
              ElementsAre("error HTTPS_PROXY"));
  EXPECT_TRUE(lintGoEnv(envOf({{"HTTPS_PROXY", "proxy.corp:3128"}}), {}).empty());
  EXPECT_TRUE(lintGoEnv(envOf({{"HTTP_PROXY", "socks5://proxy.corp:1080"}}), {}).empty());
  EXPECT_THAT(classes(lintGoEnv(envOf({{"GOVCS", "private:git,public"}}), {})),
              ElementsAre("error GOVCS"));
}

TEST(GoEnvTest, FormatShowsEachProblemWithItsFixAndHidesProxyCredentials) {
  const GoEnv env = envOf({{"GOPROXY", "https://goproxy.cn;direct"},
                           {"HTTPS_PROXY", "http://user:s3cret@proxy.corp:3128"}});
  const std::string text = formatGoEnvLint(env, lintGoEnv(env, {}));
  EXPECT_THAT(text, HasSubstr("error   GOPROXY:"));
  EXPECT_THAT(text, HasSubstr("fix: "));
  EXPECT_THAT(text, HasSubstr("HTTPS_PROXY=\"http://***@proxy.corp:3128\""));
  EXPECT_THAT(text, ::testing::Not(HasSubstr("s3cret")));
  EXPECT_THAT(text, HasSubstr("1 error(s)"));
}

}  // namespace
}  // namespace gomodprobe::config
