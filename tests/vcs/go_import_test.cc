#include "vcs/go_import.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace gomodprobe::vcs {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

// The vectors of cmd/go/internal/vcs/discovery_test.go (Go 1.19), same input, same output.
struct ParseCase {
  std::string in;
  ModuleMode mode;
  std::vector<MetaImport> out;
};

TEST(GoImportTest, ParsesLikeGoDiscoveryTestVectors) {
  const std::vector<ParseCase> cases = {
      {R"(<meta name="go-import" content="foo/bar git https://github.com/rsc/foo/bar">)",
       ModuleMode::IgnoreMod,
       {{"foo/bar", "git", "https://github.com/rsc/foo/bar"}}},
      {R"(<meta name="go-import" content="foo/bar git https://github.com/rsc/foo/bar">
		<meta name="go-import" content="baz/quux git http://github.com/rsc/baz/quux">)",
       ModuleMode::IgnoreMod,
       {{"foo/bar", "git", "https://github.com/rsc/foo/bar"},
        {"baz/quux", "git", "http://github.com/rsc/baz/quux"}}},
      {R"(<meta name="go-import" content="foo/bar git https://github.com/rsc/foo/bar">
		<meta name="go-import" content="foo/bar mod http://github.com/rsc/baz/quux">)",
       ModuleMode::IgnoreMod,
       {{"foo/bar", "git", "https://github.com/rsc/foo/bar"}}},
      {R"(<meta name="go-import" content="foo/bar mod http://github.com/rsc/baz/quux">
		<meta name="go-import" content="foo/bar git https://github.com/rsc/foo/bar">)",
       ModuleMode::IgnoreMod,
       {{"foo/bar", "git", "https://github.com/rsc/foo/bar"}}},
      {R"(<meta name="go-import" content="foo/bar mod http://github.com/rsc/baz/quux">
		<meta name="go-import" content="foo/bar git https://github.com/rsc/foo/bar">)",
       ModuleMode::PreferMod,
       {{"foo/bar", "mod", "http://github.com/rsc/baz/quux"}}},
      {R"(<head>
		<meta name="go-import" content="foo/bar git https://github.com/rsc/foo/bar">
		</head>)",
       ModuleMode::IgnoreMod,
       {{"foo/bar", "git", "https://github.com/rsc/foo/bar"}}},
      {R"(<meta name="go-import" content="foo/bar git https://github.com/rsc/foo/bar">
		<body>)",
       ModuleMode::IgnoreMod,
       {{"foo/bar", "git", "https://github.com/rsc/foo/bar"}}},
      {R"(<!doctype html><meta name="go-import" content="foo/bar git https://github.com/rsc/foo/bar">)",
       ModuleMode::IgnoreMod,
       {{"foo/bar", "git", "https://github.com/rsc/foo/bar"}}},
      // XML doesn't like <div style=position:relative>.
      {R"(<!doctype html><title>Page Not Found</title><meta name=go-import content="chitin.io/chitin git https://github.com/chitin-io/chitin"><div style=position:relative>DRAFT</div>)",
       ModuleMode::IgnoreMod,
       {{"chitin.io/chitin", "git", "https://github.com/chitin-io/chitin"}}},
      {R"(<meta name="go-import" content="myitcv.io git https://github.com/myitcv/x">
	        <meta name="go-import" content="myitcv.io/blah2 mod https://raw.githubusercontent.com/myitcv/pubx/master">
	        )",
       ModuleMode::IgnoreMod,
       {{"myitcv.io", "git", "https://github.com/myitcv/x"}}},
      {R"(<meta name="go-import" content="myitcv.io git https://github.com/myitcv/x">
	        <meta name="go-import" content="myitcv.io/blah2 mod https://raw.githubusercontent.com/myitcv/pubx/master">
	        )",
       ModuleMode::PreferMod,
       {{"myitcv.io/blah2", "mod", "https://raw.githubusercontent.com/myitcv/pubx/master"},
        {"myitcv.io", "git", "https://github.com/myitcv/x"}}},
  };
  for (std::size_t i = 0; i < cases.size(); ++i) {
    const auto got = parseMetaGoImports(cases[i].in, cases[i].mode);
    EXPECT_EQ(got.error, "") << "case " << i;
    EXPECT_EQ(got.imports, cases[i].out) << "case " << i;
  }
}

TEST(GoImportTest, StopsAtBodyAndHeadEndCaseInsensitively) {
  const auto after_body = parseMetaGoImports(
      R"(<HTML><BODY><meta name="go-import" content="a.example/x git https://a.example/x">)",
      ModuleMode::PreferMod);
  EXPECT_THAT(after_body.imports, IsEmpty());
  const auto after_head = parseMetaGoImports(
      R"(<head></HEAD><meta name="go-import" content="a.example/x git https://a.example/x">)",
      ModuleMode::PreferMod);
  EXPECT_THAT(after_head.imports, IsEmpty());
}

TEST(GoImportTest, NeedsExactlyThreeFieldsAndExactName) {
  const auto got = parseMetaGoImports(
      R"(<meta name="go-import" content="a.example/x git">
<meta name="go-import" content="a.example/x git https://a.example/x extra">
<meta name="Go-Import" content="a.example/y git https://a.example/y">
<META NAME="go-import" CONTENT="  a.example/z   git
   https://a.example/z  ">)",
      ModuleMode::PreferMod);
  // Attribute names fold case, the name value does not; fields split on any white space.
  EXPECT_THAT(got.imports, ElementsAre(MetaImport{"a.example/z", "git", "https://a.example/z"}));
}

TEST(GoImportTest, DecodesEntitiesAndSelfClosingTags) {
  const auto got = parseMetaGoImports(
      R"(<?xml version="1.0" encoding="UTF-8"?><!-- a <comment> --><html><head>
<meta name="go-import" content="a.example/x git https://a.example/x?a=1&amp;b=2&#x21;&unknown;"/>
<![CDATA[ <meta name="go-import" content="cdata.example git https://no"> ]]>
</head>)",
      ModuleMode::PreferMod);
  EXPECT_EQ(got.error, "");
  EXPECT_THAT(got.imports, ElementsAre(MetaImport{"a.example/x", "git",
                                                  "https://a.example/x?a=1&b=2!&unknown;"}));
}

TEST(GoImportTest, SyntaxErrorBeforeAnyTagIsAnError) {
  // '<' followed by a space is "expected element name after <" even in non-strict mode.
  const auto got = parseMetaGoImports(
      "<html><head><title>a < b</title><meta name=\"go-import\" content=\"a.example/x git "
      "https://a.example/x\">",
      ModuleMode::PreferMod);
  EXPECT_THAT(got.imports, IsEmpty());
  EXPECT_THAT(got.error, HasSubstr("expected element name after <"));

  const auto bad_utf8 = parseMetaGoImports(
      "<title>caf\xe9</title><meta name=go-import content=\"a b c\">", ModuleMode::PreferMod);
  EXPECT_THAT(bad_utf8.error, HasSubstr("invalid UTF-8"));

  const auto charset =
      parseMetaGoImports(R"(<?xml version="1.0" encoding="ISO-8859-1"?>)", ModuleMode::PreferMod);
  EXPECT_THAT(charset.error, HasSubstr("ISO-8859-1"));
}

// encoding/xml checks a quoted attribute value cut short by EOF like any text (UTF-8, character
// range) before the caller reports the EOF. Found by comparing with Go 1.19 over the fuzz corpus.
TEST(GoImportTest, QuotedValueCutShortIsCheckedBeforeTheEof) {
  EXPECT_EQ(parseMetaGoImports("<meta name=\"caf\xe9", ModuleMode::PreferMod).error,
            "XML syntax error on line 1: invalid UTF-8");
  EXPECT_EQ(parseMetaGoImports("<meta\nname=\"a&#0;b", ModuleMode::PreferMod).error,
            "XML syntax error on line 2: illegal character code U+0000");
  EXPECT_EQ(parseMetaGoImports("<meta name=\"go-imp", ModuleMode::PreferMod).error,
            "XML syntax error on line 1: unexpected EOF");
}

TEST(GoImportTest, SyntaxErrorAfterATagKeepsTheTags) {
  const auto got = parseMetaGoImports(
      R"(<meta name="go-import" content="a.example/x git https://a.example/x"><title>a < b)",
      ModuleMode::PreferMod);
  EXPECT_EQ(got.error, "");
  EXPECT_THAT(got.imports, ElementsAre(MetaImport{"a.example/x", "git", "https://a.example/x"}));
}

TEST(GoImportTest, EmptyOrTruncatedPageHasNoTagsAndNoErrorAtTopLevel) {
  EXPECT_THAT(parseMetaGoImports("", ModuleMode::PreferMod).imports, IsEmpty());
  EXPECT_EQ(parseMetaGoImports("just text", ModuleMode::PreferMod).error, "");
  // EOF inside a tag is a syntax error ("unexpected EOF").
  EXPECT_THAT(parseMetaGoImports("<meta name=\"go-imp", ModuleMode::PreferMod).error,
              HasSubstr("unexpected EOF"));
}

// The vectors of vcs_test.go TestMatchGoImport (Go 1.19).
TEST(GoImportTest, MatchesLikeGoTestMatchGoImport) {
  const MetaImport foo{"example.com/user/foo", "git", "https://example.com/repo/target"};
  const MetaImport fooa{"example.com/user/fooa", "git", "https://example.com/repo/target"};
  const MetaImport foobar{"example.com/user/foo/bar", "git", "https://example.com/repo/target"};
  const MetaImport blah2{"myitcv.io/blah2", "mod",
                         "https://raw.githubusercontent.com/myitcv/pubx/master"};
  const MetaImport myitcv{"myitcv.io", "git", "https://github.com/myitcv/x"};
  struct Case {
    std::vector<MetaImport> imports;
    std::string path;
    std::optional<MetaImport> want;  // nullopt: an error
  };
  const std::vector<Case> cases = {
      {{foo}, "example.com/user/foo", foo},
      {{foo}, "example.com/user/foo/", foo},
      {{foo, fooa}, "example.com/user/foo", foo},
      {{foo, fooa}, "example.com/user/fooa", fooa},
      {{foo, foobar}, "example.com/user/foo/bar", std::nullopt},
      {{foo, foobar}, "example.com/user/foo/bar/baz", std::nullopt},
      {{foo, foobar}, "example.com/user/foo/bar/baz/qux", std::nullopt},
      {{foo, foobar}, "example.com/user/foo/bar/baz/", std::nullopt},
      {{foo, foobar}, "example.com", std::nullopt},
      {{foo}, "different.example.com/user/foo", std::nullopt},
      {{blah2, myitcv}, "myitcv.io/blah2/foo", blah2},
      {{blah2, myitcv}, "myitcv.io/other", myitcv},
  };
  for (const Case& c : cases) {
    const auto got = matchGoImport(c.imports, c.path);
    EXPECT_EQ(got.match, c.want) << c.path;
    EXPECT_EQ(got.error.empty(), c.want.has_value()) << c.path << ": " << got.error;
  }
}

TEST(GoImportTest, HasPathPrefixFollowsStrHasPathPrefix) {
  EXPECT_TRUE(hasPathPrefix("a/b", "a"));
  EXPECT_TRUE(hasPathPrefix("a/b", "a/"));
  EXPECT_TRUE(hasPathPrefix("a", "a"));
  EXPECT_TRUE(hasPathPrefix("a", ""));
  EXPECT_FALSE(hasPathPrefix("ab", "a"));
  EXPECT_FALSE(hasPathPrefix("a", "a/b"));
}

TEST(GoImportTest, ChecksRepoRootAndVcsLikeTheGoCommand) {
  EXPECT_EQ(checkMetaImport({"a.example/x", "git", "https://a.example/x"}), "");
  EXPECT_EQ(checkMetaImport({"a.example/x", "mod", "https://proxy.example"}), "");
  EXPECT_THAT(checkMetaImport({"a.example/x", "git", "a.example/x"}), HasSubstr("no scheme"));
  EXPECT_THAT(checkMetaImport({"a.example/x", "git", "file:///srv/x"}),
              HasSubstr("file scheme disallowed"));
  EXPECT_THAT(checkMetaImport({"a.example/x", "cvs", "https://a.example/x"}),
              HasSubstr("unknown vcs \"cvs\""));
}

}  // namespace
}  // namespace gomodprobe::vcs
