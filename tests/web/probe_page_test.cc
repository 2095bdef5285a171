#include "web/probe_page.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>

#include "web/web_server.h"

namespace gomodprobe::web {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

TargetConfig target() {
  TargetConfig t;
  t.name = "refused";
  t.kind = TargetKind::Http;
  t.url = "https://user:hunter2@good.test:1";
  t.path = "/";
  t.headers = {{"Authorization", "Bearer topsecret"}};
  return t;
}

ProbeResult result() {
  ProbeResult r;
  r.target = "refused";
  r.kind = TargetKind::Http;
  r.reason = FailureReason::ConnectRefused;
  r.detail = "Failed to connect";
  r.duration_seconds = 0.002;
  for (auto v : {HttpVersion::Http11, HttpVersion::Http2}) {
    HttpAttempt a;
    a.requested = v;
    a.reason = FailureReason::ConnectRefused;
    a.detail = "Failed to connect";
    a.phases[0] = 0.001;
    r.http.push_back(a);
  }
  return r;
}

TEST(ProbePageTest, MetricsHoldOnlyThisRunOfThisTarget) {
  const std::string text = probeMetricsText(target(), result());
  EXPECT_THAT(text, HasSubstr("gomodprobe_probe_success{target=\"refused\",kind=\"http\"} 0\n"));
  EXPECT_THAT(text, HasSubstr("gomodprobe_probes_total{target=\"refused\",kind=\"http\"} 1\n"));
  EXPECT_THAT(text, HasSubstr("gomodprobe_probe_failures_total{target=\"refused\",kind=\"http\","
                              "reason=\"connect_refused\"} 1\n"));
  EXPECT_THAT(text, HasSubstr("gomodprobe_phase_duration_seconds_count{target=\"refused\","
                              "phase=\"resolve\",http_version=\"2\"} 1\n"));
  // No agent-wide families.
  EXPECT_THAT(text, Not(HasSubstr("gomodprobe_build_info")));
  EXPECT_THAT(text, Not(HasSubstr("gomodprobe_scheduler_lag_seconds")));
  EXPECT_THAT(text, Not(HasSubstr("gomodprobe_config_last_reload")));
  EXPECT_THAT(text, Not(HasSubstr("gomodprobe_probes_in_flight")));
}

TEST(ProbePageTest, DebugTraceShowsStepsAndRedactsSecrets) {
  const std::string text = probeDebugText(target(), result());
  EXPECT_THAT(text, HasSubstr("Probe of target \"refused\" (http): FAILED (connect_refused)"));
  EXPECT_THAT(text, HasSubstr("url: https://<redacted>@good.test:1/"));
  EXPECT_THAT(text, HasSubstr("header Authorization: <redacted>"));
  EXPECT_THAT(text, Not(HasSubstr("hunter2")));
  EXPECT_THAT(text, Not(HasSubstr("topsecret")));
  EXPECT_THAT(text, HasSubstr("http/1.1 FAIL status=0"));
  EXPECT_THAT(text, HasSubstr("reason=connect_refused (Failed to connect)"));
  EXPECT_THAT(text, HasSubstr("Metrics that would have been returned:\n# HELP"));
}

TEST(ProbePageTest, RedactsCredentialsInUrlLists) {
  EXPECT_EQ(redactUrlCredentials("https://a:b@x.test/p,https://y.test|direct"),
            "https://<redacted>@x.test/p,https://y.test|direct");
  EXPECT_EQ(redactUrlCredentials("no url here"), "no url here");
  EXPECT_EQ(redactUrlCredentials("sum.golang.org+k https://t@s.test"),
            "sum.golang.org+k https://<redacted>@s.test");
}

TEST(ProbeQueryTest, TakesOnlyTargetAndDebug) {
  auto q = parseProbeQuery("target=h2");
  EXPECT_EQ(q.error, "");
  EXPECT_EQ(q.target, "h2");
  EXPECT_FALSE(q.debug);
  q = parseProbeQuery("debug=true&target=my%2Dtarget");
  EXPECT_EQ(q.error, "");
  EXPECT_EQ(q.target, "my-target");
  EXPECT_TRUE(q.debug);
  // A URL is just a name that no target has (404 later), never something to fetch.
  q = parseProbeQuery("target=http%3A%2F%2Fevil.test%2F");
  EXPECT_EQ(q.error, "");
  EXPECT_EQ(q.target, "http://evil.test/");
}

TEST(ProbeQueryTest, RejectsEverythingElse) {
  for (const char* bad : {"", "debug=true", "target=", "target=a&target=b", "target=a&module=x",
                          "module=http_2xx&target=a", "target=a&url=http://evil",
                          "target=a&debug=yes", "target=a&debug=true&debug=false"}) {
    EXPECT_NE(parseProbeQuery(bad).error, "") << bad;
  }
  EXPECT_THAT(parseProbeQuery("target=a&module=x").error,
              HasSubstr("unknown parameter \"module\""));
}

}  // namespace
}  // namespace gomodprobe::web
