#include "goproxy/module_path.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <optional>
#include <string>
#include <vector>

#include "goproxy/goproxy_test_data.h"
#include "goproxy/zip_check.h"

namespace gomodprobe::goproxy {
namespace {

using test_data::moduleVectors;
using ::testing::HasSubstr;
using ::testing::Optional;

// "ok" or "error <text>", as in module_vectors.txt.
std::string errText(const std::optional<std::string>& err) { return err ? "error " + *err : "ok"; }

std::vector<std::string> okOrError(const std::optional<std::string>& value) {
  if (value) return {"ok", *value};
  return {"error"};
}

TEST(ModulePathTest, EscapesUpperCaseWithBang) {
  EXPECT_THAT(escapePath("github.com/GoogleCloudPlatform/omega"),
              Optional(std::string("github.com/!google!cloud!platform/omega")));
  EXPECT_THAT(escapePath("github.com/Azure/azure-sdk-for-go"),
              Optional(std::string("github.com/!azure/azure-sdk-for-go")));
  EXPECT_THAT(escapePath("rsc.io/quote"), Optional(std::string("rsc.io/quote")));
  EXPECT_THAT(escapeVersion("v1.5.3-PRE"), Optional(std::string("v1.5.3-!p!r!e")));
  EXPECT_THAT(escapeVersion("v1.0.0"), Optional(std::string("v1.0.0")));
}

TEST(ModulePathTest, EscapeRejectsInvalidPathsAndVersions) {
  EXPECT_EQ(escapePath(""), std::nullopt);
  EXPECT_EQ(escapePath("example.com/!x"), std::nullopt);
  EXPECT_EQ(escapePath("/example.com/x"), std::nullopt);
  EXPECT_EQ(escapePath("example.com/x/"), std::nullopt);
  EXPECT_EQ(escapePath("example.com/.x"), std::nullopt);
  EXPECT_EQ(escapePath("example.com/x."), std::nullopt);
  EXPECT_EQ(escapePath("localhost/x"), std::nullopt);  // no dot in the first element
  EXPECT_EQ(escapePath("Example.com/x"), std::nullopt);
  EXPECT_EQ(escapePath("example.com/a b"), std::nullopt);
  EXPECT_EQ(escapePath("example.com/\xc3\xa9"), std::nullopt);
  EXPECT_EQ(escapePath("example.com/x/v1"), std::nullopt);
  EXPECT_EQ(escapeVersion("v1.0.0!"), std::nullopt);
  EXPECT_EQ(escapeVersion(""), std::nullopt);
  EXPECT_EQ(escapeVersion("v1/x"), std::nullopt);
}

TEST(ModulePathTest, UnescapeInvertsEscapeAndRejectsBadEscapes) {
  EXPECT_THAT(unescapePath("github.com/!google!cloud!platform/omega"),
              Optional(std::string("github.com/GoogleCloudPlatform/omega")));
  EXPECT_EQ(unescapePath("github.com/GoogleCloudPlatform/omega"), std::nullopt);
  EXPECT_EQ(unescapePath("github.com/!google!"), std::nullopt);
  EXPECT_EQ(unescapePath("github.com/!0google"), std::nullopt);
  EXPECT_THAT(unescapeVersion("v1.5.3-!p!r!e"), Optional(std::string("v1.5.3-PRE")));
  EXPECT_EQ(unescapeVersion("v1.5.3-PRE"), std::nullopt);
}

TEST(ModulePathTest, CheckPathGivesGoErrorText) {
  EXPECT_EQ(checkPath("rsc.io/quote"), std::nullopt);
  EXPECT_THAT(
      checkPath("x"),
      Optional(std::string("malformed module path \"x\": missing dot in first path element")));
  EXPECT_THAT(checkPath("example.com/con.txt"),
              Optional(HasSubstr("\"con\" disallowed as path element component on Windows")));
}

TEST(ModulePathTest, MatchPrefixPatternsMatchesElementPrefixes) {
  EXPECT_TRUE(matchPrefixPatterns("*.corp.example.com,rsc.io/private", "git.corp.example.com/a/b"));
  EXPECT_TRUE(matchPrefixPatterns("*.corp.example.com,rsc.io/private", "rsc.io/private/x"));
  EXPECT_FALSE(matchPrefixPatterns("*.corp.example.com,rsc.io/private", "rsc.io/privateer"));
  EXPECT_FALSE(matchPrefixPatterns("rsc.io/private", "rsc.io"));
  EXPECT_TRUE(matchPrefixPatterns(",,rsc.io/", "rsc.io/quote"));
  EXPECT_FALSE(matchPrefixPatterns("[,rsc.io/quote/v3", "rsc.io/quote"));  // malformed ignored
  EXPECT_FALSE(matchPrefixPatterns("", "rsc.io/quote"));
}

TEST(ModulePathTest, PathMatchReportsBadPatterns) {
  EXPECT_TRUE(pathMatch("a*", "abc").matched);
  EXPECT_FALSE(pathMatch("a*", "a/c").matched);
  EXPECT_TRUE(pathMatch("[", "a").bad_pattern);
  EXPECT_TRUE(pathMatch("a\\", "a").bad_pattern);
  EXPECT_FALSE(pathMatch("[a-c]", "b").bad_pattern);
}

TEST(ModulePathTest, CheckModuleVersionRequiresCanonicalMatchingMajor) {
  EXPECT_EQ(checkModuleVersion("rsc.io/quote", "v1.5.2"), std::nullopt);
  EXPECT_EQ(checkModuleVersion("rsc.io/quote/v3", "v3.1.0"), std::nullopt);
  EXPECT_THAT(
      checkModuleVersion("rsc.io/quote/v3", "v1.5.2"),
      Optional(std::string("rsc.io/quote/v3@v1.5.2: invalid version: should be v3, not v1")));
  EXPECT_THAT(checkModuleVersion("rsc.io/quote", "v1.5"),
              Optional(std::string("version \"v1.5\" is not canonical (should be \"v1.5.0\")")));
  EXPECT_EQ(canonicalVersion("v2.0.0+incompatible"), "v2.0.0+incompatible");
  EXPECT_EQ(canonicalVersion("v1.2.3+meta"), "v1.2.3");
  EXPECT_EQ(canonicalVersion("v1"), "v1.0.0");
  EXPECT_EQ(canonicalVersion("v1.02.3"), "");
}

// The tables below come from module_vectors.txt: inputs of Go's own tests with results computed
// by the real Go functions (see gen_module_vectors.go.txt).

TEST(ModulePathTest, CheckPathMatchesGoVectors) {
  const auto vectors = moduleVectors("checkpath");
  ASSERT_GT(vectors.size(), 150U);
  for (const auto& v : vectors) {
    ASSERT_EQ(v.size(), 2U);
    EXPECT_EQ(errText(checkPath(v[0])), v[1]) << "checkPath(" << v[0] << ")";
  }
}

TEST(ModulePathTest, CheckFilePathMatchesGoVectors) {
  const auto vectors = moduleVectors("checkfilepath");
  ASSERT_GT(vectors.size(), 150U);
  for (const auto& v : vectors) {
    ASSERT_EQ(v.size(), 2U);
    EXPECT_EQ(errText(checkFilePath(v[0])), v[1]) << "checkFilePath(" << v[0] << ")";
  }
}

TEST(ModulePathTest, EscapeAndUnescapeMatchGoVectors) {
  std::size_t count = 0;
  for (const auto& v : moduleVectors("escapepath")) {
    EXPECT_EQ(okOrError(escapePath(v[0])), std::vector<std::string>(v.begin() + 1, v.end()))
        << "escapePath(" << v[0] << ")";
    ++count;
  }
  for (const auto& v : moduleVectors("unescapepath")) {
    EXPECT_EQ(okOrError(unescapePath(v[0])), std::vector<std::string>(v.begin() + 1, v.end()))
        << "unescapePath(" << v[0] << ")";
    ++count;
  }
  for (const auto& v : moduleVectors("escapeversion")) {
    EXPECT_EQ(okOrError(escapeVersion(v[0])), std::vector<std::string>(v.begin() + 1, v.end()))
        << "escapeVersion(" << v[0] << ")";
    ++count;
  }
  for (const auto& v : moduleVectors("unescapeversion")) {
    EXPECT_EQ(okOrError(unescapeVersion(v[0])), std::vector<std::string>(v.begin() + 1, v.end()))
        << "unescapeVersion(" << v[0] << ")";
    ++count;
  }
  EXPECT_GT(count, 400U);
}

TEST(ModulePathTest, SplitPathVersionMatchesGoVectors) {
  const auto vectors = moduleVectors("splitpathversion");
  ASSERT_GT(vectors.size(), 150U);
  for (const auto& v : vectors) {
    ASSERT_EQ(v.size(), 4U);
    const PathVersionSplit split = splitPathVersion(v[0]);
    EXPECT_EQ(std::string(split.prefix), v[1]) << v[0];
    EXPECT_EQ(std::string(split.path_major), v[2]) << v[0];
    EXPECT_EQ(split.ok ? "true" : "false", v[3]) << v[0];
  }
}

TEST(ModulePathTest, CheckModuleVersionAndCanonicalMatchGoVectors) {
  const auto modules = moduleVectors("checkmodule");
  ASSERT_GT(modules.size(), 30U);
  for (const auto& v : modules) {
    ASSERT_EQ(v.size(), 3U);
    EXPECT_EQ(errText(checkModuleVersion(v[0], v[1])), v[2]) << v[0] << "@" << v[1];
  }
  const auto versions = moduleVectors("canonical");
  ASSERT_GT(versions.size(), 20U);
  for (const auto& v : versions) {
    ASSERT_EQ(v.size(), 3U);
    EXPECT_EQ(canonicalVersion(v[0]), v[1]) << v[0];
    EXPECT_EQ(isValidSemver(v[0]) ? "true" : "false", v[2]) << v[0];
  }
}

TEST(ModulePathTest, PathMatchMatchesGoVectors) {
  const auto vectors = moduleVectors("match");
  ASSERT_GT(vectors.size(), 50U);
  for (const auto& v : vectors) {
    ASSERT_EQ(v.size(), 4U);
    const PathMatchResult r = pathMatch(v[0], v[1]);
    EXPECT_EQ(r.matched ? "true" : "false", v[2]) << "pathMatch(" << v[0] << ", " << v[1] << ")";
    EXPECT_EQ(r.bad_pattern ? "badpattern" : "ok", v[3])
        << "pathMatch(" << v[0] << ", " << v[1] << ")";
  }
}

TEST(ModulePathTest, MatchPrefixPatternsMatchesGoVectors) {
  const auto vectors = moduleVectors("matchprefix");
  ASSERT_GT(vectors.size(), 25U);
  for (const auto& v : vectors) {
    ASSERT_EQ(v.size(), 3U);
    EXPECT_EQ(matchPrefixPatterns(v[0], v[1]) ? "true" : "false", v[2])
        << "matchPrefixPatterns(" << v[0] << ", " << v[1] << ")";
  }
}

TEST(ModulePathTest, CleanPathMatchesGoVectors) {
  const auto vectors = moduleVectors("clean");
  ASSERT_GT(vectors.size(), 150U);
  for (const auto& v : vectors) {
    ASSERT_EQ(v.size(), 2U);
    EXPECT_EQ(cleanPath(v[0]), v[1]) << "cleanPath(" << v[0] << ")";
  }
}

}  // namespace
}  // namespace gomodprobe::goproxy

namespace gomodprobe::goproxy {
namespace {

TEST(ModulePathTest, CompareSemverFollowsSemverCompare) {
  EXPECT_LT(compareSemver("v1.2.3", "v1.10.0"), 0);
  EXPECT_GT(compareSemver("v2.0.0", "v1.99.99"), 0);
  EXPECT_EQ(compareSemver("v1.2.3", "v1.2.3+meta"), 0);
  EXPECT_LT(compareSemver("v1.0.0-rc.1", "v1.0.0"), 0);
  EXPECT_LT(compareSemver("v1.0.0-alpha", "v1.0.0-alpha.1"), 0);
  EXPECT_LT(compareSemver("v1.0.0-2", "v1.0.0-10"), 0);
  EXPECT_LT(compareSemver("v1.0.0-10", "v1.0.0-alpha"), 0);
  EXPECT_LT(compareSemver("bad", "v0.0.1"), 0);
  EXPECT_EQ(compareSemver("v1", "v1.0.0"), 0);
}

TEST(ModulePathTest, LatestPrefersTheHighestRelease) {
  EXPECT_EQ(latestFromList({"v1.0.0", "v1.10.0", "v1.9.0", "v2.0.0-beta.1"}), "v1.10.0");
  EXPECT_EQ(latestFromList({"v0.1.0-pre", "v0.1.0-pre.2", "junk"}), "v0.1.0-pre.2");
  EXPECT_EQ(latestFromList({}), std::nullopt);
  EXPECT_EQ(latestFromList({"junk", ""}), std::nullopt);
}

}  // namespace
}  // namespace gomodprobe::goproxy
