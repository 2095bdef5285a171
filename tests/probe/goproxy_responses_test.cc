#include "probe/goproxy_responses.h"

#include <gtest/gtest.h>

#include <string>

namespace gomodprobe::probe {
namespace {

TEST(GoProxyResponsesTest, ParsesInfoWithTime) {
  std::string error;
  const auto info = parseInfo(
      R"({"Version":"v1.5.2","Name":"c4d4236f9242","Time":"2018-02-14T15:44:20Z"})", error);
  ASSERT_TRUE(info.has_value()) << error;
  EXPECT_EQ(info->version, "v1.5.2");
  ASSERT_TRUE(info->time.has_value());
  EXPECT_DOUBLE_EQ(*info->time, 1518623060.0);  // date -u -d 2018-02-14T15:44:20Z +%s
}

TEST(GoProxyResponsesTest, InfoErrorsNameTheProblem) {
  std::string error;
  EXPECT_FALSE(parseInfo("[]", error));
  EXPECT_EQ(error, "not a JSON object");
  EXPECT_FALSE(parseInfo(R"({"Version":1})", error));
  EXPECT_EQ(error, "no string Version");
  EXPECT_FALSE(parseInfo(R"({"Version":"v1.0.0","Time":"2018-02-14"})", error));
  EXPECT_EQ(error, "Time is not RFC 3339");
}

TEST(GoProxyResponsesTest, Rfc3339OffsetsAndFractions) {
  const auto utc = parseRfc3339("2018-02-14T15:44:20Z");
  ASSERT_TRUE(utc.has_value());
  const auto offset = parseRfc3339("2018-02-14T17:44:20.5+02:00");
  ASSERT_TRUE(offset.has_value());
  EXPECT_DOUBLE_EQ(*offset, *utc + 0.5);
  EXPECT_FALSE(parseRfc3339("2018-02-14T15:44:20").has_value());
  EXPECT_FALSE(parseRfc3339("2018-02-14T15:44:20.Z").has_value());
}

TEST(GoProxyResponsesTest, ListTakesFirstFieldsAndRejectsNonVersions) {
  std::string error;
  const auto versions = parseList("v1.0.0\n\nv1.1.0 2019-01-01T00:00:00Z\n", error);
  ASSERT_TRUE(versions.has_value()) << error;
  EXPECT_EQ(*versions, (std::vector<std::string>{"v1.0.0", "v1.1.0"}));
  EXPECT_FALSE(parseList("v1.0.0\n<html>\n", error).has_value());
  EXPECT_EQ(error, "list line is not a version: <html>");
}

}  // namespace
}  // namespace gomodprobe::probe
