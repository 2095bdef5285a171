#include "metrics/push.h"

#include <gtest/gtest.h>

namespace gomodprobe::metrics {
namespace {

TEST(PushTest, GatewayUrlSplitsIntoHostAndPortForPrometheusGateway) {
  std::string error;
  auto a = parseGatewayUrl("http://pushgateway.example:9091", &error);
  ASSERT_TRUE(a) << error;
  EXPECT_EQ(a->host, "http://pushgateway.example");
  EXPECT_EQ(a->port, "9091");
  EXPECT_TRUE(a->username.empty());

  a = parseGatewayUrl("https://ci:p%40ss@pushgateway.example/", &error);
  ASSERT_TRUE(a) << error;
  EXPECT_EQ(a->host, "https://pushgateway.example");
  EXPECT_EQ(a->port, "443") << "the scheme's default port";
  EXPECT_EQ(a->username, "ci");
  EXPECT_EQ(a->password, "p@ss");

  a = parseGatewayUrl("http://[::1]:9091", &error);
  ASSERT_TRUE(a) << error;
  EXPECT_EQ(a->host, "http://[::1]");
}

TEST(PushTest, GatewayUrlWithPathOrOtherSchemeIsRefused) {
  for (const char* bad : {"ftp://pushgateway.example", "http://pushgateway.example/metrics/job/x",
                          "http://pushgateway.example/?a=b", "pushgateway.example:9091", ""}) {
    std::string error;
    EXPECT_FALSE(parseGatewayUrl(bad, &error)) << bad;
    EXPECT_FALSE(error.empty()) << bad;
  }
}

TEST(PushTest, InstanceOutsideUnreservedCharactersIsBase64UrlEncoded) {
  EXPECT_EQ(groupingLabels("runner-7.ci_x~"), (prometheus::Labels{{"instance", "runner-7.ci_x~"}}));
  // Reference values: Python's base64.urlsafe_b64encode.
  EXPECT_EQ(groupingLabels("ci/runner 7"),
            (prometheus::Labels{{"instance@base64", "Y2kvcnVubmVyIDc="}}));
  EXPECT_EQ(groupingLabels(">>>?"), (prometheus::Labels{{"instance@base64", "Pj4-Pw=="}}))
      << "'+' of standard base64 becomes '-'";
  EXPECT_EQ(groupingLabels(""), (prometheus::Labels{{"instance@base64", "="}}));
}

TEST(PushTest, GlobalLabelsJoinTheGroupingKeyButCannotReplaceJobOrInstance) {
  EXPECT_EQ(
      groupingLabels("runner-7",
                     {{"site", "fra1"}, {"pool", "big runners"}, {"instance", "x"}, {"job", "y"}}),
      (prometheus::Labels{
          {"instance", "runner-7"}, {"site", "fra1"}, {"pool@base64", "YmlnIHJ1bm5lcnM="}}));
}

TEST(PushTest, JobMustBePathSafe) {
  EXPECT_TRUE(validJobName("gomodprobe"));
  EXPECT_FALSE(validJobName(""));
  EXPECT_FALSE(validJobName("a/b"));
  EXPECT_FALSE(validJobName("a b"));
}

}  // namespace
}  // namespace gomodprobe::metrics
