#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>

#include "probe/vcs_probe.h"

namespace gomodprobe::probe {
namespace {

using ::testing::HasSubstr;

constexpr const char* kModule = "git.corp.example/team/repo";
constexpr const char* kPage =
    R"(<html><head><meta name="go-import" content="git.corp.example/team/repo git https://git.corp.example/git/team/repo"></head></html>)";

net::FetchResponse response(long status, std::string body, std::string content_type = "") {
  net::FetchResponse r;
  r.status_code = status;
  r.ok = status >= 200 && status <= 299;
  if (!r.ok) r.reason = FailureReason::HttpStatus;
  r.body = std::move(body);
  r.content_type = std::move(content_type);
  return r;
}

std::string pkt(const std::string& payload) {
  char length[5];
  std::snprintf(length, sizeof(length), "%04zx", payload.size() + 4);
  return length + payload;
}

TEST(VcsVerdictTest, DiscoveryFindsTheRepo) {
  const auto v = judgeDiscovery(response(200, kPage), kModule, false);
  EXPECT_EQ(v.reason, FailureReason::None) << v.detail;
  ASSERT_TRUE(v.match);
  EXPECT_EQ(v.match->vcs, "git");
  EXPECT_EQ(v.match->repo_root, "https://git.corp.example/git/team/repo");
}

TEST(VcsVerdictTest, DiscoveryAcceptsTagsWhateverTheStatusLikeTheGoCommand) {
  const auto v = judgeDiscovery(response(404, kPage), kModule, false);
  EXPECT_EQ(v.reason, FailureReason::None);
  EXPECT_THAT(v.detail, HasSubstr("HTTP 404, accepted"));
}

TEST(VcsVerdictTest, DiscoveryStatusWithoutTags) {
  EXPECT_EQ(judgeDiscovery(response(401, "denied"), kModule, false).reason, FailureReason::VcsAuth);
  const auto refused = judgeDiscovery(response(403, ""), kModule, true);
  EXPECT_EQ(refused.reason, FailureReason::VcsAuth);
  EXPECT_THAT(refused.detail, HasSubstr("credentials refused"));
  EXPECT_EQ(judgeDiscovery(response(404, "nope"), kModule, false).reason,
            FailureReason::HttpStatus);
}

TEST(VcsVerdictTest, DiscoveryProtocolFailures) {
  EXPECT_EQ(judgeDiscovery(response(200, "<html><head></head></html>"), kModule, false).reason,
            FailureReason::VcsProtocol);
  EXPECT_EQ(judgeDiscovery(response(200, kPage), "git.corp.example/other", false).reason,
            FailureReason::VcsProtocol);
  EXPECT_EQ(judgeDiscovery(response(200, "<title>a < b</title>"), kModule, false).reason,
            FailureReason::VcsProtocol);
  const auto unknown = judgeDiscovery(
      response(200,
               R"(<meta name="go-import" content="git.corp.example/team/repo cvs https://x">)"),
      kModule, false);
  EXPECT_EQ(unknown.reason, FailureReason::VcsProtocol);
}

TEST(VcsVerdictTest, TransportFailuresKeepTheirReason) {
  net::FetchResponse r;
  r.reason = FailureReason::TlsCertUntrusted;
  r.detail = "untrusted";
  EXPECT_EQ(judgeDiscovery(r, kModule, false).reason, FailureReason::TlsCertUntrusted);
  EXPECT_EQ(judgeInfoRefs(r, false).reason, FailureReason::TlsCertUntrusted);
}

TEST(VcsVerdictTest, InfoRefsSmartDumbAuthAndMissing) {
  const std::string v2 = pkt("version 2\n") + pkt("ls-refs\n") + "0000";
  const auto smart =
      judgeInfoRefs(response(200, v2, "application/x-git-upload-pack-advertisement"), false);
  EXPECT_EQ(smart.reason, FailureReason::None) << smart.detail;
  EXPECT_EQ(smart.protocol, "smart-v2");

  const auto dumb = judgeInfoRefs(
      response(200, std::string(40, 'a') + "\trefs/heads/main\n", "text/plain"), false);
  EXPECT_EQ(dumb.reason, FailureReason::None);
  EXPECT_EQ(dumb.protocol, "dumb");
  EXPECT_THAT(dumb.detail, HasSubstr("dumb HTTP server"));
  const auto html = judgeInfoRefs(response(200, "<html>login</html>\n", "text/html"), false);
  EXPECT_EQ(html.reason, FailureReason::VcsProtocol);
  EXPECT_THAT(html.detail, HasSubstr("neither smart"));

  EXPECT_EQ(judgeInfoRefs(response(401, ""), false).reason, FailureReason::VcsAuth);
  EXPECT_EQ(judgeInfoRefs(response(404, ""), false).reason, FailureReason::HttpStatus);
  const auto broken = judgeInfoRefs(response(200, "0032# service=git-upload-pack\n",
                                             "application/x-git-upload-pack-advertisement"),
                                    false);
  EXPECT_EQ(broken.reason, FailureReason::VcsProtocol);
}

}  // namespace
}  // namespace gomodprobe::probe
