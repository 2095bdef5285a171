#include "goproxy/private_lint.h"

#include <gtest/gtest.h>

namespace gomodprobe::goproxy {
namespace {

bool mentions(const std::vector<LintProblem>& problems, const std::string& text) {
  for (const auto& p : problems) {
    if (p.message.find(text) != std::string::npos) return true;
  }
  return false;
}

TEST(PrivateLintTest, NoproxyWithoutNosumdbWarnsPerModule) {
  const auto problems =
      lintPrivacy({"", "*.corp.example", "", ""}, {"git.corp.example/team/x", "golang.org/x/text"});
  ASSERT_EQ(problems.size(), 1U);
  EXPECT_NE(problems[0].message.find("git.corp.example/team/x"), std::string::npos);
  EXPECT_NE(problems[0].suggestion.find("GONOSUMDB"), std::string::npos);
}

TEST(PrivateLintTest, GoprivateCoversBoth) {
  EXPECT_TRUE(lintPrivacy({"*.corp.example", "", "", ""}, {"git.corp.example/x"}).empty());
  // GONOSUMDB explicitly set to something else overrides GOPRIVATE for the sumdb.
  EXPECT_TRUE(
      mentions(lintPrivacy({"*.corp.example", "", "other.example", ""}, {"git.corp.example/x"}),
               "GONOPROXY"));
}

TEST(PrivateLintTest, NosumdbWithSumdbOffAndBadSeparators) {
  EXPECT_TRUE(mentions(lintPrivacy({"", "", "corp.example", "off"}, {}), "GOSUMDB=off"));
  EXPECT_TRUE(mentions(lintPrivacy({"a.example; b.example", "", "", ""}, {}), "spaces"));
}

}  // namespace
}  // namespace gomodprobe::goproxy
