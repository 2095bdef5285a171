#include "goproxy/gosum.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>

namespace gomodprobe::goproxy {
namespace {

using ::testing::HasSubstr;

TEST(GoSumTest, ParsesModuleAndGoModLines) {
  const GoSumLineResult zip =
      parseGoSumLine("rsc.io/quote v1.5.2 h1:w5fcysjrx7yqtD/aO+QwRjYZOKnaM9Uh2b40tElTs3Y=");
  ASSERT_TRUE(zip.ok()) << zip.error;
  EXPECT_EQ(zip.line->module_path, "rsc.io/quote");
  EXPECT_EQ(zip.line->version, "v1.5.2");
  EXPECT_FALSE(zip.line->go_mod);
  EXPECT_EQ(zip.line->hash, "h1:w5fcysjrx7yqtD/aO+QwRjYZOKnaM9Uh2b40tElTs3Y=");

  const GoSumLineResult mod =
      parseGoSumLine("rsc.io/quote v1.5.2/go.mod h1:LzX7hefJvL54yjefDEDHNONDjII0t9xZLPXsUe+TKr0=");
  ASSERT_TRUE(mod.ok()) << mod.error;
  EXPECT_EQ(mod.line->version, "v1.5.2");
  EXPECT_TRUE(mod.line->go_mod);
}

TEST(GoSumTest, AcceptsIncompatibleAndPseudoVersionsAndTabs) {
  EXPECT_TRUE(parseGoSumLine("github.com/Azure/go-autorest v14.2.0+incompatible "
                             "h1:V5VMDjClD3GiElqLWO7mz2MxNAK/vTfRHdAubSIPRgs=")
                  .ok());
  EXPECT_TRUE(parseGoSumLine("golang.org/x/mod\tv0.0.0-20190513183733-4bf6d317e70e/go.mod\t"
                             "h1:mXi4GBBbnImb6dmsKGUJ2LatrhH/nqhxcFungHvyanc=")
                  .ok());
}

TEST(GoSumTest, RejectsMalformedLines) {
  const std::string hash = "h1:LzX7hefJvL54yjefDEDHNONDjII0t9xZLPXsUe+TKr0=";
  EXPECT_THAT(parseGoSumLine("rsc.io/quote v1.5.2").error, HasSubstr("wrong number of fields 2"));
  EXPECT_THAT(parseGoSumLine("rsc.io/quote v1.5.2 " + hash + " extra").error,
              HasSubstr("wrong number of fields 4"));
  EXPECT_THAT(parseGoSumLine("").error, HasSubstr("wrong number of fields 0"));
  EXPECT_THAT(parseGoSumLine("rsc.io/quote 1.5.2 " + hash).error, HasSubstr("not a canonical"));
  EXPECT_THAT(parseGoSumLine("rsc.io/quote v1.5 " + hash).error, HasSubstr("not a canonical"));
  EXPECT_THAT(parseGoSumLine("rsc.io/quote v1.5.2/go.sum " + hash).error,
              HasSubstr("not a canonical"));
  EXPECT_THAT(parseGoSumLine("rsc io v1.5.2 " + hash).error, HasSubstr("wrong number of fields"));
  EXPECT_THAT(parseGoSumLine("Rsc.io/quote v1.5.2 " + hash).error,
              HasSubstr("malformed module path"));
  EXPECT_THAT(
      parseGoSumLine("rsc.io/quote v1.5.2 LzX7hefJvL54yjefDEDHNONDjII0t9xZLPXsUe+TKr0=").error,
      HasSubstr("does not start with h<N>:"));
  EXPECT_THAT(parseGoSumLine("rsc.io/quote v1.5.2 h1:").error, HasSubstr("empty hash"));
  // 31 bytes, a '*' and unpadded variants of a 32-byte digest.
  EXPECT_FALSE(
      parseGoSumLine("rsc.io/quote v1.5.2 h1:LzX7hefJvL54yjefDEDHNONDjII0t9xZLPXsUe+TKg==").ok());
  EXPECT_FALSE(
      parseGoSumLine("rsc.io/quote v1.5.2 h1:LzX7hefJvL54yjefDEDHNONDjII0t9xZLPXsUe*TKr0=").ok());
  EXPECT_FALSE(
      parseGoSumLine("rsc.io/quote v1.5.2 h1:LzX7hefJvL54yjefDEDHNONDjII0t9xZLPXsUe+TKr0").ok());
  // Non-canonical last symbol (unused low bits set): decodes to the same bytes, but is not what
  // dirhash writes.
  EXPECT_FALSE(
      parseGoSumLine("rsc.io/quote v1.5.2 h1:LzX7hefJvL54yjefDEDHNONDjII0t9xZLPXsUe+TKr1=").ok());
}

TEST(GoSumTest, AcceptsFutureHashAlgorithms) {
  const GoSumLineResult r = parseGoSumLine("rsc.io/quote v1.5.2 h2:anything");
  ASSERT_TRUE(r.ok()) << r.error;
  EXPECT_EQ(r.line->hash, "h2:anything");
}

TEST(GoSumTest, ParsesFileSkippingBlankAndLegacyEmptyGoModLines) {
  const std::string data =
      "rsc.io/quote v1.5.2 h1:w5fcysjrx7yqtD/aO+QwRjYZOKnaM9Uh2b40tElTs3Y=\n"
      "\n"
      "   \t\n"
      "rsc.io/quote v1.5.2/go.mod h1:LzX7hefJvL54yjefDEDHNONDjII0t9xZLPXsUe+TKr0=\n"
      "rsc.io/old v1.0.0/go.mod h1:G7mAYYxgmS0lVkHyy2hEOLQCFB0DlQFTMLWggykrydY=\n"
      "rsc.io/sampler v1.3.0 h1:7uVkIFmeBqHfdjD+gZwtXXI+RODJ2Wc4O7MPEh/QiW4=";
  const GoSumFileResult r = parseGoSum(data);
  ASSERT_TRUE(r.ok()) << r.error;
  ASSERT_EQ(r.lines.size(), 3U);
  EXPECT_EQ(r.lines[0].module_path, "rsc.io/quote");
  EXPECT_TRUE(r.lines[1].go_mod);
  EXPECT_EQ(r.lines[2].module_path, "rsc.io/sampler");
}

TEST(GoSumTest, FileErrorNamesTheLine) {
  const GoSumFileResult r = parseGoSum(
      "rsc.io/quote v1.5.2 h1:w5fcysjrx7yqtD/aO+QwRjYZOKnaM9Uh2b40tElTs3Y=\n\nrsc.io/quote "
      "v1.5.2\n");
  EXPECT_FALSE(r.ok());
  EXPECT_EQ(r.error_line, 3U);
  EXPECT_EQ(r.error, "line 3: wrong number of fields 2");
  EXPECT_TRUE(r.lines.empty());
}

}  // namespace
}  // namespace gomodprobe::goproxy
