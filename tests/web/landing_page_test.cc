#include "web/landing_page.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <chrono>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace gomodprobe::web {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

const auto kNow = std::chrono::system_clock::time_point(std::chrono::seconds(1'700'000'030));

metrics::TargetSnapshot failing() {
  ProbeResult r;
  r.target = "mirror";
  r.kind = TargetKind::GoProxy;
  r.success = false;
  r.reason = FailureReason::TlsCertExpired;
  r.detail = "certificate has expired <script>alert(1)</script>";
  r.duration_seconds = 0.0123;
  r.started_at = 1'700'000'000;
  HttpAttempt h2;
  h2.requested = HttpVersion::Http2;
  h2.reason = FailureReason::TlsCertExpired;
  h2.detail = "SSL certificate problem: certificate has expired";
  h2.phases[0] = 0.001;
  h2.phases[1] = 0.0025;
  r.http.push_back(h2);
  HttpAttempt h1 = h2;
  h1.requested = HttpVersion::Http11;
  r.http.push_back(h1);
  ModuleCheck m;
  m.module = "golang.org/x/text";
  m.requested = "latest";
  m.reason = FailureReason::ChecksumMismatch;
  m.detail = "zip h1 \"a&b\" differs";
  m.hash_match = false;
  r.modules.push_back(m);
  return {"mirror", TargetKind::GoProxy, 7, 3, std::make_shared<const ProbeResult>(r)};
}

metrics::TargetSnapshot healthy() {
  ProbeResult r;
  r.target = "h2";
  r.kind = TargetKind::Http;
  r.success = true;
  r.duration_seconds = 0.004;
  r.started_at = 1'700'000'020;
  HttpAttempt h2;
  h2.requested = HttpVersion::Http2;
  h2.success = true;
  h2.status_code = 200;
  h2.negotiated_version = 2;
  h2.phases = {0.0001, 0.0002, 0.0015, 0.0007, 0.0001};
  h2.tls = TlsInfo{"TLSv1.3", "TLS_AES_256_GCM_SHA384", std::nullopt};
  r.http.push_back(h2);
  return {"h2", TargetKind::Http, 4, 0, std::make_shared<const ProbeResult>(r)};
}

TEST(LandingPageTest, ListsEveryTargetWithResultReasonAndPhases) {
  const std::string page = renderLandingPage(
      {healthy(), failing(), {"new", TargetKind::SumDb, 0, 0, nullptr}}, {"1.2.3", kNow, 10});
  EXPECT_THAT(page, HasSubstr("<table id=\"targets\">"));
  EXPECT_THAT(page, HasSubstr("<meta http-equiv=\"refresh\" content=\"10\">"));
  EXPECT_THAT(page, HasSubstr("3 targets: 1 ok, 1 failing, 1 not run yet. Version 1.2.3."));
  // The failing target: FAIL, its reason label, the per-attempt reasons and the module problem.
  EXPECT_THAT(page, HasSubstr("<tr class=\"fail\" id=\"target-mirror\">"));
  EXPECT_THAT(page, HasSubstr("<td class=\"reason\">tls_cert_expired</td>"));
  EXPECT_THAT(page, HasSubstr("SSL certificate problem: certificate has expired"));
  EXPECT_THAT(page, HasSubstr("hash MISMATCH"));
  EXPECT_THAT(page, HasSubstr("7 runs, 3 failed"));
  EXPECT_THAT(page, HasSubstr("2023-11-14 22:13:20 UTC<br>30&nbsp;s ago"));
  // The healthy one: ok and phases per HTTP version.
  EXPECT_THAT(page, HasSubstr("<tr class=\"ok\" id=\"target-h2\">"));
  EXPECT_THAT(page, HasSubstr("<b>http/2</b> <span class=\"good\">ok</span> status 200 via HTTP/2: "
                              "resolve 0.1&nbsp;ms, connect 0.2&nbsp;ms, tls 1.5&nbsp;ms, "
                              "processing 0.7&nbsp;ms, transfer 0.1&nbsp;ms (TLSv1.3)"));
  // The failing attempts: only the phases reached.
  EXPECT_THAT(page, HasSubstr("<b>http/1.1</b> <span class=\"bad\">FAIL</span> no response: "
                              "resolve 1.0&nbsp;ms, connect 2.5&nbsp;ms</div>"));
  // Not run yet.
  EXPECT_THAT(page, HasSubstr("<tr class=\"pending\" id=\"target-new\">"));
  // Links.
  EXPECT_THAT(page, HasSubstr("<a href=\"/metrics\">"));
  EXPECT_THAT(page, HasSubstr("<a href=\"/probe?target=mirror&amp;debug=true\">"));
}

TEST(LandingPageTest, StreamedPageIsTheSamePageInPiecesOfWholeRows) {
  std::vector<metrics::TargetSnapshot> targets;
  for (int i = 0; i < 40; ++i) {
    auto t = i % 3 == 0 ? failing() : healthy();
    t.name += std::to_string(i);
    targets.push_back(t);
  }
  const LandingPageInfo info{"1.2.3", kNow, 10};
  const std::string whole = renderLandingPage(targets, info);
  std::vector<std::string> pieces;
  constexpr std::size_t kFlush = 2048;  // a few rows per piece
  renderLandingPage(
      targets, info, [&pieces](std::string_view piece) { pieces.emplace_back(piece); }, kFlush);
  ASSERT_GT(pieces.size(), 5U);
  std::string joined;
  for (std::size_t i = 0; i < pieces.size(); ++i) {
    joined += pieces[i];
    if (i + 1 == pieces.size()) break;
    // Every piece but the last ends with a whole row and is at least the flush size; none grows
    // past it by more than a row (the largest row here is under 2 KB).
    EXPECT_TRUE(pieces[i].ends_with("</tr>\n")) << i;
    EXPECT_GE(pieces[i].size(), kFlush) << i;
    EXPECT_LT(pieces[i].size(), 2 * kFlush) << i;
  }
  EXPECT_TRUE(pieces.back().ends_with("</html>\n"));
  EXPECT_EQ(joined, whole);
  EXPECT_NE(whole.find("id=\"target-mirror39\""), std::string::npos);  // the last row
}

TEST(LandingPageTest, EscapesEverythingFromTheNetworkAndTheConfig) {
  auto t = failing();
  t.name = "a\"<b>";
  const std::string page = renderLandingPage({t}, {"v<1>", kNow, 0});
  EXPECT_THAT(page, Not(HasSubstr("<script>")));
  EXPECT_THAT(page, HasSubstr("certificate has expired &lt;script&gt;alert(1)&lt;/script&gt;"));
  EXPECT_THAT(page, HasSubstr("zip h1 &quot;a&amp;b&quot; differs"));
  EXPECT_THAT(page, HasSubstr("id=\"target-a&quot;&lt;b&gt;\""));
  EXPECT_THAT(page, HasSubstr("/probe?target=a%22%3Cb%3E&amp;debug=true"));
  EXPECT_THAT(page, HasSubstr("Version v&lt;1&gt;"));
  EXPECT_THAT(page, Not(HasSubstr("http-equiv=\"refresh\""))) << "refresh 0 means none";
}

TEST(LandingPageTest, EscapeAndEncodeHelpers) {
  EXPECT_EQ(htmlEscape("<a href='x'>&\"</a>"), "&lt;a href=&#39;x&#39;&gt;&amp;&quot;&lt;/a&gt;");
  EXPECT_EQ(urlEncode("a-b_c.d~e f/g?h&i=j"), "a-b_c.d~e%20f%2Fg%3Fh%26i%3Dj");
}

}  // namespace
}  // namespace gomodprobe::web
