#include "agent/report.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>

namespace gomodprobe::agent {
namespace {

using ::testing::HasSubstr;

// What python3's xml.etree (an independent, strict XML parser) reads from `xml`: the suite's
// attributes and per testcase its attributes, failure message/type/text and system-out, as JSON.
// Parsing fails (non-zero exit, no JSON) on anything that is not well-formed XML.
nlohmann::json parseWithPython(const std::string& xml) {
  char path[] = "/tmp/gomodprobe-junit-XXXXXX";
  const int fd = ::mkstemp(path);
  if (fd < 0) return nullptr;
  ::close(fd);
  {
    std::ofstream out(path, std::ios::binary);
    out << xml;
  }
  const std::string script =
      "import json,sys,xml.etree.ElementTree as ET\n"
      "root=ET.parse(sys.argv[1]).getroot()\n"
      "cases=[]\n"
      "for c in root.findall('testcase'):\n"
      "  f=c.find('failure')\n"
      "  cases.append({'attrib':c.attrib,'out':c.findtext('system-out'),\n"
      "    'failure':None if f is None else {'attrib':f.attrib,'text':f.text}})\n"
      "print(json.dumps({'tag':root.tag,'attrib':root.attrib,'cases':cases}))\n";
  const std::string command = "python3 -c \"$GOMODPROBE_PY\" " + std::string(path);
  ::setenv("GOMODPROBE_PY", script.c_str(), 1);  // NOLINT(concurrency-mt-unsafe): test thread
  FILE* pipe = ::popen(command.c_str(), "r");
  std::string text;
  if (pipe != nullptr) {
    char buffer[4096];
    std::size_t n = 0;
    while ((n = std::fread(buffer, 1, sizeof buffer, pipe)) > 0) text.append(buffer, n);
    const int status = ::pclose(pipe);
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) text.clear();
  }
  std::remove(path);
  return nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
}

std::vector<ProbeResult> sampleResults() {
  ProbeResult ok;
  ok.target = "proxy-golang-org";
  ok.kind = TargetKind::GoProxy;
  ok.success = true;
  ok.duration_seconds = 0.25;
  ok.started_at = 1'700'000'000.5;

  ProbeResult bad;
  bad.target = "corp-proxy";
  bad.kind = TargetKind::Http;
  bad.success = false;
  bad.reason = FailureReason::HttpStatus;
  bad.duration_seconds = 1.5;
  bad.started_at = 1'700'000'001;
  // Server-controlled text: markup, quotes, a control character and a byte that is not UTF-8.
  bad.detail = "got <html>&\"'\x01\xff</html> ü";
  return {ok, bad};
}

TEST(JunitReportTest, IsWellFormedWithOneTestcasePerTarget) {
  const std::string xml = toJunit(sampleResults());
  const auto parsed = parseWithPython(xml);
  ASSERT_TRUE(parsed.is_object()) << "not well-formed:\n" << xml;
  EXPECT_EQ(parsed["tag"], "testsuite");
  EXPECT_EQ(parsed["attrib"]["name"], "gomodprobe");
  EXPECT_EQ(parsed["attrib"]["tests"], "2");
  EXPECT_EQ(parsed["attrib"]["failures"], "1");
  EXPECT_EQ(parsed["attrib"]["time"], "1.750");
  EXPECT_EQ(parsed["attrib"]["timestamp"], "2023-11-14T22:13:20");
  ASSERT_EQ(parsed["cases"].size(), 2U);

  const auto& ok = parsed["cases"][0];
  EXPECT_EQ(ok["attrib"]["name"], "proxy-golang-org");
  EXPECT_EQ(ok["attrib"]["classname"], "goproxy");
  EXPECT_EQ(ok["attrib"]["time"], "0.250");
  EXPECT_TRUE(ok["failure"].is_null());
  EXPECT_THAT(ok["out"].get<std::string>(), HasSubstr("proxy-golang-org"));

  const auto& bad = parsed["cases"][1];
  EXPECT_EQ(bad["attrib"]["name"], "corp-proxy");
  EXPECT_EQ(bad["attrib"]["classname"], "http");
  ASSERT_TRUE(bad["failure"].is_object());
  EXPECT_EQ(bad["failure"]["attrib"]["message"], "http_status");
  EXPECT_EQ(bad["failure"]["attrib"]["type"], "http_status");
  // The detail survives the round trip; the control byte and the invalid byte became U+FFFD.
  EXPECT_THAT(bad["failure"]["text"].get<std::string>(),
              HasSubstr("got <html>&\"'\xEF\xBF\xBD\xEF\xBF\xBD</html> ü\n"));
  EXPECT_THAT(bad["failure"]["text"].get<std::string>(), HasSubstr("corp-proxy"));
}

TEST(JunitReportTest, EmptyRunIsAnEmptySuite) {
  const auto parsed = parseWithPython(toJunit({}));
  ASSERT_TRUE(parsed.is_object());
  EXPECT_EQ(parsed["attrib"]["tests"], "0");
  EXPECT_TRUE(parsed["cases"].empty());
}

TEST(JunitReportTest, AttributeValuesSurviveQuotesAndNewlines) {
  ProbeResult odd;
  odd.target = "a\"b'c<d>&e\nf\tg";
  odd.kind = TargetKind::SumDb;
  odd.reason = FailureReason::Timeout;
  const auto parsed = parseWithPython(toJunit({odd}));
  ASSERT_TRUE(parsed.is_object());
  EXPECT_EQ(parsed["cases"][0]["attrib"]["name"], "a\"b'c<d>&e\nf\tg");
  EXPECT_EQ(xmlEscape("a\"'\n", true), "a&quot;&apos;&#10;");
  EXPECT_EQ(xmlEscape("a\"'\n", false), "a\"'\n");
  EXPECT_EQ(xmlEscape("\xC3", false), "\xEF\xBF\xBD") << "truncated UTF-8 sequence";
  // HTML (the landing page): quotes always, ' as &#39;, white space and other bytes as given.
  EXPECT_EQ(escapeMarkup("<a href='x'>&\"\t\r\n\xC3</a>", Markup::Html),
            "&lt;a href=&#39;x&#39;&gt;&amp;&quot;\t\r\n\xC3&lt;/a&gt;");
  EXPECT_EQ(escapeMarkup("a\"'\r", Markup::XmlText), "a\"'&#13;");
  EXPECT_EQ(xmlEscape("\xEF\xBF\xBF", false), "\xEF\xBF\xBD") << "U+FFFF is not an XML Char";
}

}  // namespace
}  // namespace gomodprobe::agent
