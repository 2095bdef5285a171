#include "vcs/git_smart_http.h"

#include <algorithm>
#include <cstdio>

namespace gomodprobe::vcs {

namespace {

constexpr std::size_t kMaxPktLen = 65520;

int hexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

std::string_view chomp(std::string_view line) {
  if (!line.empty() && line.back() == '\n') line.remove_suffix(1);
  return line;
}

bool isLowerHex(std::string_view text) {
  return std::all_of(text.begin(), text.end(),
                     [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); });
}

// "<oid> <refname>[\0caps]"
bool isRefLine(std::string_view line) {
  line = chomp(line);
  const auto nul = line.find('\0');
  if (nul != std::string_view::npos) line = line.substr(0, nul);
  const auto space = line.find(' ');
  if (space != 40 && space != 64) return false;
  return isLowerHex(line.substr(0, space)) && space + 1 < line.size();
}

}  // namespace

std::string printable(std::string_view bytes, std::size_t max) {
  std::string out;
  for (std::size_t i = 0; i < bytes.size() && i < max; ++i) {
    const auto c = static_cast<unsigned char>(bytes[i]);
    if (c >= 0x20 && c < 0x7f && c != '\\') {
      out += static_cast<char>(c);
    } else {
      char hex[8];
      std::snprintf(hex, sizeof(hex), "\\x%02x", c);
      out += hex;
    }
  }
  if (bytes.size() > max) out += "…";
  return out;
}

std::optional<PktLine> PktLineReader::next() {
  if (!error_.empty() || pos_ >= data_.size()) return std::nullopt;
  if (data_.size() - pos_ < 4) {
    error_ = "truncated pkt-line length \"" + printable(data_.substr(pos_)) + "\"";
    return std::nullopt;
  }
  std::size_t length = 0;
  for (std::size_t i = 0; i < 4; ++i) {
    const int v = hexValue(data_[pos_ + i]);
    if (v < 0) {
      error_ = "invalid pkt-line length \"" + printable(data_.substr(pos_, 4)) + "\"";
      return std::nullopt;
    }
    length = length * 16 + static_cast<std::size_t>(v);
  }
  PktLine line;
  if (length <= 2) {
    line.type = length == 0   ? PktLine::Type::Flush
                : length == 1 ? PktLine::Type::Delim
                              : PktLine::Type::ResponseEnd;
    pos_ += 4;
    return line;
  }
  if (length == 3 || length > kMaxPktLen) {
    error_ = "invalid pkt-line length " + std::to_string(length);
    return std::nullopt;
  }
  if (data_.size() - pos_ < length) {
    error_ = "pkt-line of " + std::to_string(length) + " bytes cut short after " +
             std::to_string(data_.size() - pos_);
    return std::nullopt;
  }
  line.payload = data_.substr(pos_ + 4, length - 4);
  pos_ += length;
  return line;
}

Advertisement parseUploadPackAdvertisement(std::string_view body) {
  Advertisement out;
  PktLineReader reader(body);
  const auto fail = [&](const std::string& error) {
    out.error = reader.error().empty() ? error : reader.error();
    return out;
  };
  auto line = reader.next();
  if (!line) return fail("empty advertisement");
  if (line->type != PktLine::Type::Data) {
    return fail("invalid server response; expected service, got a special packet");
  }
  if (chomp(line->payload) == "# service=git-upload-pack") {
    // Metadata lines may follow, up to a flush-pkt (git ignores them).
    do {
      line = reader.next();
      if (!line) return fail("no flush-pkt after the service line");
    } while (line->type == PktLine::Type::Data);
    if (line->type != PktLine::Type::Flush) return fail("no flush-pkt after the service line");
    line = reader.next();
    if (!line) return fail("no ref advertisement after the service line");
  } else if (chomp(line->payload) != "version 2") {
    // git's check_smart_http: neither the service line nor "version 2" is fatal.
    return fail("invalid server response; got \"" + printable(chomp(line->payload)) + "\"");
  }
  if (line->type == PktLine::Type::Data && chomp(line->payload) == "version 2") {
    out.protocol = "smart-v2";
    for (;;) {
      line = reader.next();
      if (!line) return fail("capability advertisement not ended by a flush-pkt");
      if (line->type == PktLine::Type::Flush) break;
      if (line->type != PktLine::Type::Data || chomp(line->payload).empty()) {
        return fail("unexpected special packet in the capability advertisement");
      }
    }
  } else {
    out.protocol = "smart-v0";
    if (line->type == PktLine::Type::Data && chomp(line->payload) == "version 1") {
      out.protocol = "smart-v1";
      line = reader.next();
      if (!line) return fail("no ref list after \"version 1\"");
    }
    if (out.protocol == "smart-v0" && line->type == PktLine::Type::Data &&
        !isRefLine(line->payload)) {
      return fail("invalid server response; got \"" + printable(chomp(line->payload)) + "\"");
    }
    while (line->type != PktLine::Type::Flush) {
      if (line->type != PktLine::Type::Data || !isRefLine(line->payload)) {
        return fail("invalid ref line \"" +
                    printable(line->type == PktLine::Type::Data ? chomp(line->payload) : "") +
                    "\"");
      }
      ++out.refs;
      line = reader.next();
      if (!line) return fail("ref list not ended by a flush-pkt");
    }
  }
  out.valid = true;
  return out;
}

DumbRefs parseDumbInfoRefs(std::string_view body) {
  DumbRefs out;
  std::size_t pos = 0;
  while (pos < body.size()) {
    const auto lf = body.find('\n', pos);
    if (lf == std::string_view::npos) {
      out.error = "last line not terminated: \"" + printable(body.substr(pos)) + "\"";
      return out;
    }
    const std::string_view line = body.substr(pos, lf - pos);
    const auto tab = line.find('\t');
    if ((tab != 40 && tab != 64) || !isLowerHex(line.substr(0, tab)) || tab + 1 >= line.size()) {
      out.error = "not a dumb info/refs line: \"" + printable(line) + "\"";
      return out;
    }
    ++out.refs;
    pos = lf + 1;
  }
  out.valid = true;
  return out;
}

bool isUploadPackAdvertisementType(std::string_view content_type) {
  const auto semicolon = content_type.find(';');
  std::string_view type = content_type.substr(0, semicolon);
  while (!type.empty() && (type.back() == ' ' || type.back() == '\t')) type.remove_suffix(1);
  while (!type.empty() && (type.front() == ' ' || type.front() == '\t')) type.remove_prefix(1);
  static constexpr std::string_view kType = "application/x-git-upload-pack-advertisement";
  return type.size() == kType.size() &&
         std::equal(type.begin(), type.end(), kType.begin(), [](char a, char b) {
           return (a >= 'A' && a <= 'Z' ? static_cast<char>(a - 'A' + 'a') : a) == b;
         });
}

}  // namespace gomodprobe::vcs
