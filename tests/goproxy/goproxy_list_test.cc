#include "goproxy/goproxy_list.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace gomodprobe::goproxy {
namespace {

using ::testing::AllOf;
using ::testing::ElementsAre;
using ::testing::Field;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

ProxyEntry proxy(std::string url, bool fallback_on_any_error) {
  return {std::move(url), false, false, fallback_on_any_error};
}
const ProxyEntry kDirect{"direct", true, false, false};
const ProxyEntry kOff{"off", false, true, false};

std::vector<ProxyEntry> parsed(std::string_view value) {
  ProxyListResult r = parseGoProxy(value);
  EXPECT_TRUE(r.ok()) << value << ": " << r.error;
  return r.entries;
}

TEST(GoproxyListTest, ParsesDefault) {
  EXPECT_THAT(parsed("https://proxy.golang.org,direct"),
              ElementsAre(proxy("https://proxy.golang.org", false), kDirect));
  // Empty means the default (cmd/go/internal/cfg: envOr).
  EXPECT_THAT(parsed(""), ElementsAre(proxy("https://proxy.golang.org", false), kDirect));
}

TEST(GoproxyListTest, SeparatorAfterEntryDecidesFallback) {
  EXPECT_THAT(parsed("https://a.example|https://b.example,https://c.example|off"),
              ElementsAre(proxy("https://a.example", true), proxy("https://b.example", false),
                          proxy("https://c.example", true), kOff));
}

TEST(GoproxyListTest, AddsHttpsToBareHostsOnly) {
  EXPECT_THAT(
      parsed("proxy.example.com,localhost:3000/sub,http://plain.example,file:///srv/goproxy"),
      ElementsAre(proxy("https://proxy.example.com", false),
                  proxy("https://localhost:3000/sub", false), proxy("http://plain.example", false),
                  proxy("file:///srv/goproxy", false)));
}

TEST(GoproxyListTest, TrimsSpaceAndOneTrailingSlashAndSkipsEmptyEntries) {
  EXPECT_THAT(parsed(" ,https://a.example/ ,, | https://b.example/x//\t,direct"),
              ElementsAre(proxy("https://a.example", false), proxy("https://b.example/x/", false),
                          kDirect));
}

TEST(GoproxyListTest, StopsAtDirectAndOff) {
  EXPECT_THAT(parsed("direct,https://never.example"), ElementsAre(kDirect));
  EXPECT_THAT(parsed("off|https://never.example"), ElementsAre(kOff));
}

TEST(GoproxyListTest, RejectsWhatGoRejects) {
  EXPECT_EQ(parseGoProxy(" , ").error,
            "GOPROXY list is not the empty string, but contains no entries");
  EXPECT_EQ(parseGoProxy("Direct").error, "invalid proxy URL missing scheme: Direct");
  EXPECT_EQ(parseGoProxy("/srv/goproxy").error, "invalid proxy URL missing scheme: /srv/goproxy");
  EXPECT_EQ(parseGoProxy("ftp://a.example").error,
            "invalid proxy URL scheme (must be https, http, file): ftp://a.example");
  EXPECT_EQ(parseGoProxy("file://host/srv").error,
            "invalid file:// proxy URL with non-path elements: file://host/srv");
  EXPECT_THAT(parseGoProxy("https://a.example:port").error, HasSubstr("invalid port \":port\""));
  EXPECT_THAT(parseGoProxy("https://a.example/%zz").error, HasSubstr("invalid URL escape \"%zz\""));
  EXPECT_TRUE(parseGoProxy("https://a.example:port").entries.empty());
  // Accepted by Go even though the scheme is upper case.
  EXPECT_TRUE(parseGoProxy("HTTPS://a.example").ok());
}

TEST(GoproxyListTest, CommaChainDoesNotFallBackOn502) {
  const auto entries = parsed("https://a.example,https://b.example");
  EXPECT_EQ(servingEntry(entries, {502, 200}), -1);
  EXPECT_EQ(servingEntry(entries, {kNetworkError, 200}), -1);
  EXPECT_EQ(servingEntry(entries, {404, 200}), 1);
  EXPECT_EQ(servingEntry(entries, {410, 200}), 1);
  EXPECT_EQ(servingEntry(entries, {200, 500}), 0);
  EXPECT_EQ(servingEntry(entries, {404, 404}), -1);
}

TEST(GoproxyListTest, PipeChainFallsBackOnAnyError) {
  const auto entries = parsed("https://a.example|https://b.example");
  EXPECT_EQ(servingEntry(entries, {502, 200}), 1);
  EXPECT_EQ(servingEntry(entries, {kNetworkError, 200}), 1);
  EXPECT_EQ(servingEntry(entries, {502, 502}), -1);
}

TEST(GoproxyListTest, DirectServesAndOffFails) {
  const auto to_direct = parsed("https://a.example,direct");
  EXPECT_EQ(servingEntry(to_direct, {404}), 1);
  EXPECT_EQ(servingEntry(to_direct, {404, kNetworkError}), 1);  // direct's outcome is not consulted
  EXPECT_EQ(servingEntry(to_direct, {503}), -1);
  EXPECT_EQ(servingEntry(parsed("https://a.example|off"), {503}), -1);
  EXPECT_EQ(servingEntry(parsed("off"), {}), -1);
  EXPECT_EQ(servingEntry(parsed("direct"), {}), 0);
}

TEST(GoproxyListTest, OnlyStatus200Serves) {
  // web.Response.Err accepts exactly 200; a 204 is an error that ',' does not fall through.
  const auto entries = parsed("https://a.example,https://b.example");
  EXPECT_EQ(servingEntry(entries, {204, 200}), -1);
  EXPECT_EQ(servingEntry(entries, {404}), -1);  // outcomes ran out
}

TEST(GoproxyListTest, LintAcceptsGoodValues) {
  EXPECT_THAT(lintGoProxy("https://proxy.golang.org,direct"), IsEmpty());
  EXPECT_THAT(lintGoProxy("https://a.example|https://b.example,off"), IsEmpty());
}

auto problem(LintSeverity severity, const std::string& message_part,
             const std::string& suggestion_part) {
  return AllOf(Field(&LintProblem::severity, severity),
               Field(&LintProblem::message, HasSubstr(message_part)),
               Field(&LintProblem::suggestion, HasSubstr(suggestion_part)));
}

TEST(GoproxyListTest, LintFlagsEmptyValue) {
  EXPECT_THAT(lintGoProxy(""),
              ElementsAre(problem(LintSeverity::Warning, "default", "https://proxy.golang.org")));
  EXPECT_THAT(lintGoProxy(","), ElementsAre(problem(LintSeverity::Error, "no entries", "")));
}

TEST(GoproxyListTest, LintFlagsSpacesAroundSeparators) {
  EXPECT_THAT(lintGoProxy("https://proxy.golang.org , direct"),
              ElementsAre(problem(LintSeverity::Warning, "white space",
                                  "GOPROXY=https://proxy.golang.org,direct")));
}

TEST(GoproxyListTest, LintFlagsSemicolonSeparator) {
  EXPECT_THAT(
      lintGoProxy("https://proxy.golang.org;direct"),
      ElementsAre(problem(LintSeverity::Error, "';'", "\"https://proxy.golang.org,direct\"")));
}

TEST(GoproxyListTest, LintFlagsKeywordCasing) {
  EXPECT_THAT(lintGoProxy("https://proxy.golang.org,DIRECT"),
              ElementsAre(problem(LintSeverity::Error, "\"DIRECT\" is not the keyword \"direct\"",
                                  "\"direct\"")));
  EXPECT_THAT(lintGoProxy("Off"), ElementsAre(problem(LintSeverity::Error, "\"off\"", "\"off\"")));
}

TEST(GoproxyListTest, LintFlagsUnknownAndMissingSchemes) {
  EXPECT_THAT(
      lintGoProxy("socks5://a.example,direct"),
      ElementsAre(problem(LintSeverity::Error, "must be https, http, file", "https://a.example")));
  EXPECT_THAT(lintGoProxy("goproxy,direct"),
              ElementsAre(problem(LintSeverity::Error, "missing scheme", "https://goproxy")));
}

TEST(GoproxyListTest, LintFlagsUnreachableEntries) {
  EXPECT_THAT(lintGoProxy("direct,https://proxy.golang.org"),
              ElementsAre(problem(LintSeverity::Warning, "\"https://proxy.golang.org\"",
                                  "GOPROXY=direct")));
  EXPECT_THAT(lintGoProxy("https://a.example|off|https://b.example"),
              ElementsAre(problem(LintSeverity::Warning, "after \"off\"",
                                  "GOPROXY=https://a.example|off")));
  // A mis-cased keyword is fixed first, so what follows it is unreachable too.
  EXPECT_THAT(lintGoProxy("Direct,https://b.example"),
              ElementsAre(problem(LintSeverity::Error, "keyword", "\"direct\""),
                          problem(LintSeverity::Warning, "never consulted", "GOPROXY=direct")));
}

}  // namespace
}  // namespace gomodprobe::goproxy
