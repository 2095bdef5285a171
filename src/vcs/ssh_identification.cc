#include "vcs/ssh_identification.h"

#include "vcs/git_smart_http.h"

namespace gomodprobe::vcs {

namespace {

SshIdentification invalid(SshIdentification out, std::string error) {
  out.status = SshIdentification::Status::Invalid;
  out.error = std::move(error);
  return out;
}

SshIdentification checkLine(SshIdentification out, std::string_view line) {
  // line: without CR LF.
  if (line.size() + 2 > kSshMaxIdentification) {
    return invalid(std::move(out), "identification line of " + std::to_string(line.size() + 2) +
                                       " bytes (at most 255 with CR LF)");
  }
  const std::string_view rest = line.substr(4);
  const auto dash = rest.find('-');
  if (dash == std::string_view::npos) {
    return invalid(std::move(out),
                   "identification without softwareversion: \"" + printable(line) + "\"");
  }
  const std::string_view proto = rest.substr(0, dash);
  if (proto != "2.0" && proto != "1.99") {
    return invalid(std::move(out), "SSH protocol version \"" + printable(proto) +
                                       "\" is not 2.0 (\"" + printable(line) + "\")");
  }
  std::string_view software = rest.substr(dash + 1);
  const auto space = software.find(' ');
  if (space != std::string_view::npos) software = software.substr(0, space);
  if (software.empty()) {
    return invalid(std::move(out), "empty softwareversion: \"" + printable(line) + "\"");
  }
  for (const char c : line) {
    const auto byte = static_cast<unsigned char>(c);
    if (byte < 0x20 || byte >= 0x7f) {
      return invalid(std::move(out),
                     "non-printable byte in the identification: \"" + printable(line) + "\"");
    }
  }
  out.status = SshIdentification::Status::Found;
  out.line = std::string(line);
  out.software = std::string(software);
  return out;
}

}  // namespace

SshIdentification scanSshIdentification(std::string_view received, bool eof) {
  SshIdentification out;
  std::size_t pos = 0;
  while (pos < received.size()) {
    const auto lf = received.find('\n', pos);
    const bool complete = lf != std::string_view::npos;
    std::string_view line = received.substr(pos, complete ? lf - pos : std::string_view::npos);
    if (complete && !line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.starts_with("SSH-") || (!complete && std::string_view("SSH-").starts_with(line))) {
      if (!complete) {
        if (line.size() + 2 > kSshMaxIdentification) return checkLine(std::move(out), line);
        if (eof) {
          return invalid(std::move(out), "connection closed inside the identification line \"" +
                                             printable(line) + "\"");
        }
        return out;  // NeedMore
      }
      return checkLine(std::move(out), line);
    }
    if (line.find('\0') != std::string_view::npos) {
      return invalid(std::move(out), "NUL byte before the identification (\"" + printable(line) +
                                         "\"): not an SSH server");
    }
    if (!complete) {
      if (received.size() > kSshMaxPreBytes) break;
      if (eof) break;
      return out;
    }
    ++out.pre_lines;
    if (out.pre_lines > kSshMaxPreLines) {
      return invalid(std::move(out), "more than " + std::to_string(kSshMaxPreLines) +
                                         " lines before the identification");
    }
    pos = lf + 1;
  }
  if (received.size() > kSshMaxPreBytes) {
    return invalid(std::move(out),
                   "no identification in the first " + std::to_string(kSshMaxPreBytes) + " bytes");
  }
  if (eof) {
    return invalid(std::move(out),
                   received.empty()
                       ? std::string("connection closed without an identification line")
                       : "connection closed without an identification line (got \"" +
                             printable(received) + "\")");
  }
  return out;
}

}  // namespace gomodprobe::vcs
