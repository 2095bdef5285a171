#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace gomodprobe::vcs {

/// Limits on what an SSH server may send before its identification line (RFC 4253 §4.2 allows
/// other lines first but bounds none; these follow OpenSSH's client, which gives up after 1024
/// lines, and keep memory bounded).
inline constexpr std::size_t kSshMaxPreLines = 1024;
inline constexpr std::size_t kSshMaxPreBytes = std::size_t{64} * 1024;
/// RFC 4253 §4.2: the identification string is at most 255 bytes including CR LF.
inline constexpr std::size_t kSshMaxIdentification = 255;

/// The outcome of scanning what the server sent so far.
struct SshIdentification {
  enum class Status { NeedMore, Found, Invalid };
  Status status = Status::NeedMore;
  std::string line;           ///< Found: "SSH-2.0-OpenSSH_9.2p1 Debian-2", without CR LF
  std::string software;       ///< Found: the softwareversion field ("OpenSSH_9.2p1")
  std::size_t pre_lines = 0;  ///< lines before the identification
  std::string error;          ///< Invalid: why, printable and bounded
};

/// Scans `received` (everything read from the server so far) for the identification line
/// "SSH-protoversion-softwareversion[ SP comments]" (RFC 4253 §4.2): lines end in LF (CR LF per
/// the RFC; a lone LF is accepted as OpenSSH does); lines not starting with "SSH-" before it are
/// skipped. Invalid: the identification is longer than 255 bytes with CR LF, its protoversion is
/// not "2.0" or "1.99" (compatibility mode, RFC 4253 §5.1), its softwareversion is empty or holds
/// non-printable or space characters, a line before it holds a NUL, or more than
/// kSshMaxPreLines / kSshMaxPreBytes precede it; with `eof` (the peer closed) a missing line is
/// Invalid too.
[[nodiscard]] SshIdentification scanSshIdentification(std::string_view received, bool eof);

}  // namespace gomodprobe::vcs
