#include "vcs/ssh_identification.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>

namespace gomodprobe::vcs {
namespace {

using ::testing::HasSubstr;
using Status = SshIdentification::Status;

TEST(SshIdentificationTest, FindsTheIdentificationLine) {
  const auto got = scanSshIdentification("SSH-2.0-OpenSSH_9.2p1 Debian-2+deb12u3\r\n", false);
  ASSERT_EQ(got.status, Status::Found) << got.error;
  EXPECT_EQ(got.line, "SSH-2.0-OpenSSH_9.2p1 Debian-2+deb12u3");
  EXPECT_EQ(got.software, "OpenSSH_9.2p1");
  EXPECT_EQ(got.pre_lines, 0U);
}

TEST(SshIdentificationTest, SkipsLinesBeforeItAndAcceptsLoneLf) {
  const auto got =
      scanSshIdentification("Welcome to corp git\r\nauthorised use only\nSSH-1.99-Gitlab\n", false);
  ASSERT_EQ(got.status, Status::Found) << got.error;
  EXPECT_EQ(got.pre_lines, 2U);
  EXPECT_EQ(got.software, "Gitlab");
}

TEST(SshIdentificationTest, WaitsForMoreUntilTheLineEnds) {
  EXPECT_EQ(scanSshIdentification("", false).status, Status::NeedMore);
  EXPECT_EQ(scanSshIdentification("SS", false).status, Status::NeedMore);
  EXPECT_EQ(scanSshIdentification("SSH-2.0-Open", false).status, Status::NeedMore);
  EXPECT_EQ(scanSshIdentification("banner\r\nmore", false).status, Status::NeedMore);
}

TEST(SshIdentificationTest, RejectsTooLongIdentification) {
  // 253 bytes + CR LF = 255: the limit itself is fine.
  const std::string ok = "SSH-2.0-" + std::string(245, 'x');
  EXPECT_EQ(scanSshIdentification(ok + "\r\n", false).status, Status::Found);
  const std::string too_long = "SSH-2.0-" + std::string(246, 'x');
  const auto got = scanSshIdentification(too_long + "\r\n", false);
  EXPECT_EQ(got.status, Status::Invalid);
  EXPECT_THAT(got.error, HasSubstr("256 bytes"));
  // Also without waiting for the end of the line.
  EXPECT_EQ(scanSshIdentification("SSH-2.0-" + std::string(300, 'x'), false).status,
            Status::Invalid);
}

TEST(SshIdentificationTest, RejectsOtherProtocolsAndGarbage) {
  EXPECT_THAT(scanSshIdentification("SSH-1.5-OldServer\r\n", false).error, HasSubstr("is not 2.0"));
  EXPECT_THAT(scanSshIdentification("SSH-2.0-\r\n", false).error, HasSubstr("empty"));
  EXPECT_THAT(scanSshIdentification("SSH-2.0-a\x01x\r\n", false).error, HasSubstr("non-printable"));
  EXPECT_THAT(scanSshIdentification(std::string("\x16\x03\x01\x00\x05", 5), false).error,
              HasSubstr("NUL"));
  const auto http = scanSshIdentification("HTTP/1.1 400 Bad Request\r\n\r\n", true);
  EXPECT_EQ(http.status, Status::Invalid);
  EXPECT_THAT(http.error, HasSubstr("closed without an identification"));
  EXPECT_EQ(scanSshIdentification("", true).status, Status::Invalid);
  EXPECT_EQ(scanSshIdentification("SSH-2.0-cut", true).status, Status::Invalid);
}

TEST(SshIdentificationTest, BoundsWhatComesBefore) {
  std::string lines;
  for (std::size_t i = 0; i <= kSshMaxPreLines; ++i) lines += "x\r\n";
  EXPECT_THAT(scanSshIdentification(lines, false).error, HasSubstr("more than 1024 lines"));
  EXPECT_THAT(scanSshIdentification(std::string(kSshMaxPreBytes + 1, 'y'), false).error,
              HasSubstr("no identification in the first"));
}

}  // namespace
}  // namespace gomodprobe::vcs
