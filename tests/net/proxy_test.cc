#include "net/proxy.h"

#include <gtest/gtest.h>

namespace gomodprobe::net {
namespace {

TEST(NoProxyTest, MatchesLikeCurl) {
  EXPECT_TRUE(noProxyMatches("*", "anything.example"));
  EXPECT_TRUE(noProxyMatches(" * ", "anything.example"));
  EXPECT_FALSE(noProxyMatches("*.corp", "a.corp"));  // curl has no wildcard patterns
  EXPECT_TRUE(noProxyMatches("corp.example", "corp.example"));
  EXPECT_TRUE(noProxyMatches("corp.example", "git.corp.example"));
  EXPECT_TRUE(noProxyMatches(".corp.example", "git.corp.example"));
  EXPECT_TRUE(noProxyMatches(".corp.example", "corp.example"));
  EXPECT_TRUE(noProxyMatches("other, CORP.example", "Git.Corp.Example."));
  EXPECT_FALSE(noProxyMatches("corp.example", "notcorp.example"));
  EXPECT_FALSE(noProxyMatches("git.corp.example", "corp.example"));
  EXPECT_FALSE(noProxyMatches("", "corp.example"));
  EXPECT_TRUE(noProxyMatches("10.0.0.0/8", "10.1.2.3"));
  EXPECT_FALSE(noProxyMatches("10.0.0.0/8", "11.1.2.3"));
  EXPECT_TRUE(noProxyMatches("192.168.1.7", "192.168.1.7"));
  EXPECT_TRUE(noProxyMatches("127.0.0.0/30", "127.0.0.3"));
  EXPECT_FALSE(noProxyMatches("127.0.0.0/30", "127.0.0.4"));
  EXPECT_TRUE(noProxyMatches("::1", "::1"));
  EXPECT_TRUE(noProxyMatches("fd00::/8", "fd12::1"));
  EXPECT_FALSE(noProxyMatches("localhost", "127.0.0.1"));  // no special loopback rule
}

TEST(ProxyForTest, ExplicitThenEnvironmentBySchemeAndNoProxy) {
  TargetConfig t;
  EXPECT_EQ(proxyFor(t, "https://a.example/x"), "");
  t.proxy_from_environment = true;
  t.proxy_env.https_proxy = "http://sp:3128";
  t.proxy_env.http_proxy = "http://p:3128";
  t.proxy_env.no_proxy = "internal.example";
  EXPECT_EQ(proxyFor(t, "https://a.example/x"), "http://sp:3128");
  EXPECT_EQ(proxyFor(t, "http://a.example/x"), "http://p:3128");
  EXPECT_EQ(proxyFor(t, "https://git.internal.example/x"), "");
  t.proxy_url = "http://explicit:1";
  EXPECT_EQ(proxyFor(t, "https://git.internal.example/x"), "http://explicit:1");
}

TEST(ProxyCredentialsTest, RedactAndScrub) {
  EXPECT_EQ(redactProxyUrl("http://user:pw@proxy:3128"), "http://proxy:3128");
  EXPECT_EQ(redactProxyUrl("http://proxy:3128"), "http://proxy:3128");
  EXPECT_EQ(redactProxyUrl("https://a%40b:p@w@proxy:1"), "https://proxy:1");
  EXPECT_EQ(scrubProxyCredentials("failed for user:pw@proxy and pw", "http://user:pw@proxy:1"),
            "failed for ***@proxy and ***");
  EXPECT_EQ(scrubProxyCredentials("nothing", "http://proxy:1"), "nothing");
}

}  // namespace
}  // namespace gomodprobe::net
