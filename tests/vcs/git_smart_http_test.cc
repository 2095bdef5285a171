#include "vcs/git_smart_http.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace gomodprobe::vcs {
namespace {

using ::testing::HasSubstr;

const std::string kOid(40, 'a');

// One pkt-line with its 4-hex-digit length.
std::string pkt(const std::string& payload) {
  char length[5];
  std::snprintf(length, sizeof(length), "%04zx", payload.size() + 4);
  return length + payload;
}

TEST(GitSmartHttpTest, ReadsPktLinesAndSpecialPackets) {
  const std::string data = pkt("hello\n") + "0000" + "0001" + "0002" + "000Aabcdef";
  PktLineReader reader(data);
  auto line = reader.next();
  ASSERT_TRUE(line);
  EXPECT_EQ(line->type, PktLine::Type::Data);
  EXPECT_EQ(line->payload, "hello\n");
  EXPECT_EQ(reader.next()->type, PktLine::Type::Flush);
  EXPECT_EQ(reader.next()->type, PktLine::Type::Delim);
  EXPECT_EQ(reader.next()->type, PktLine::Type::ResponseEnd);
  line = reader.next();  // upper-case hex accepted, as git's hexval does
  ASSERT_TRUE(line);
  EXPECT_EQ(line->payload, "abcdef");
  EXPECT_FALSE(reader.next());
  EXPECT_EQ(reader.error(), "");
}

TEST(GitSmartHttpTest, RejectsMalformedPktLines) {
  const std::vector<std::string> cases = {"0003", "00zz", "001", "0010short",
                                          "fff1" + std::string(65520, 'x')};
  for (const std::string& bad : cases) {
    PktLineReader reader(bad);
    while (reader.next()) {
    }
    EXPECT_NE(reader.error(), "") << bad.substr(0, 12);
  }
}

TEST(GitSmartHttpTest, AcceptsV0AdvertisementWithServiceLine) {
  const std::string body =
      pkt("# service=git-upload-pack\n") + "0000" +
      pkt(kOid + " HEAD" + std::string(1, '\0') + "multi_ack side-band-64k\n") +
      pkt(kOid + " refs/heads/main\n") + pkt(kOid + " refs/tags/v1.0.0\n") + "0000";
  const auto got = parseUploadPackAdvertisement(body);
  EXPECT_TRUE(got.valid) << got.error;
  EXPECT_EQ(got.protocol, "smart-v0");
  EXPECT_EQ(got.refs, 3U);
}

TEST(GitSmartHttpTest, AcceptsV2WithAndWithoutServiceLine) {
  const std::string caps =
      pkt("version 2\n") + pkt("agent=git/2.39.5\n") + pkt("ls-refs=unborn\n") + "0000";
  for (const std::string& body : {caps, pkt("# service=git-upload-pack\n") + "0000" + caps}) {
    const auto got = parseUploadPackAdvertisement(body);
    EXPECT_TRUE(got.valid) << got.error;
    EXPECT_EQ(got.protocol, "smart-v2");
  }
}

TEST(GitSmartHttpTest, RejectsBrokenAdvertisements) {
  struct Case {
    std::string body;
    std::string error;
  };
  const std::vector<Case> cases = {
      {"", "empty"},
      {pkt("# service=git-receive-pack\n") + "0000", "invalid server response"},
      {pkt("# service=git-upload-pack\n") + pkt(kOid + " HEAD\n"), "no flush-pkt"},
      {"0000", "expected service"},
      {pkt("# service=git-upload-pack\n") + "0000" + pkt(kOid + " HEAD\n"), "not ended"},
      {pkt("# service=git-upload-pack\n") + "0000" + pkt("hello world\n") + "0000",
       "invalid server response"},
      {pkt(kOid + " HEAD\n") + "0000", "invalid server response"},  // v0 needs the service line
      {pkt("version 2\n") + pkt("agent=x\n"), "not ended by a flush-pkt"},
      {"<html>not git</html>", "invalid pkt-line length"},
  };
  for (const Case& c : cases) {
    const auto got = parseUploadPackAdvertisement(c.body);
    EXPECT_FALSE(got.valid) << c.body;
    EXPECT_THAT(got.error, HasSubstr(c.error)) << c.body;
  }
}

TEST(GitSmartHttpTest, ContentTypeIgnoresCaseAndParameters) {
  EXPECT_TRUE(isUploadPackAdvertisementType("application/x-git-upload-pack-advertisement"));
  EXPECT_TRUE(
      isUploadPackAdvertisementType("Application/X-Git-Upload-Pack-Advertisement; charset=x"));
  EXPECT_FALSE(isUploadPackAdvertisementType("text/plain"));
  EXPECT_FALSE(isUploadPackAdvertisementType("application/x-git-upload-pack-advertisementx"));
  EXPECT_FALSE(isUploadPackAdvertisementType(""));
}

TEST(GitSmartHttpTest, ParsesDumbInfoRefs) {
  const auto two = parseDumbInfoRefs(kOid + "\trefs/heads/main\n" + kOid + "\trefs/tags/v1\n");
  EXPECT_TRUE(two.valid) << two.error;
  EXPECT_EQ(two.refs, 2U);
  EXPECT_TRUE(parseDumbInfoRefs("").valid);
  EXPECT_THAT(parseDumbInfoRefs(kOid + "\trefs/heads/main").error, HasSubstr("not terminated"));
  EXPECT_THAT(parseDumbInfoRefs("<html>\n").error, HasSubstr("not a dumb info/refs line"));
  EXPECT_FALSE(parseDumbInfoRefs(kOid + " refs/heads/main\n").valid);  // space, not tab
}

TEST(GitSmartHttpTest, PrintableEscapesAndBounds) {
  EXPECT_EQ(printable(std::string("a\0b\n", 4)), "a\\x00b\\x0a");
  EXPECT_EQ(printable(std::string(100, 'x'), 5), "xxxxx…");
}

}  // namespace
}  // namespace gomodprobe::vcs
