// Fuzzes the git smart-HTTP parsers: pkt-lines (vcs::PktLineReader), the upload-pack ref
// advertisement (parseUploadPackAdvertisement), dumb-HTTP info/refs (parseDumbInfoRefs), the
// Content-Type check and vcs::printable. Invariants: the reader consumes the buffer exactly
// (lengths add up, payloads within bounds and at most 65516 bytes) or stops with an error; a
// result is valid exactly when it has no error; errors (they go into probe details) are bounded
// and printable; a valid advertisement names its protocol and has no more refs than pkt-lines; a
// valid dumb list has one ref per line.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "vcs/git_smart_http.h"

namespace vcs = gomodprobe::vcs;

namespace {

constexpr std::string_view kEllipsis = "\xe2\x80\xa6";
constexpr std::size_t kMaxError = 400;

// Printable ASCII, plus the ellipsis vcs::printable appends.
bool isPrintable(std::string_view text) {
  for (std::size_t i = 0; i < text.size();) {
    if (text.substr(i).starts_with(kEllipsis)) {
      i += kEllipsis.size();
      continue;
    }
    const auto c = static_cast<unsigned char>(text[i]);
    if (c < 0x20 || c >= 0x7f) return false;
    ++i;
  }
  return true;
}

void checkError(const std::string& error) {
  if (error.size() > kMaxError || !isPrintable(error)) std::abort();
}

std::size_t readAll(std::string_view body) {
  vcs::PktLineReader reader(body);
  std::size_t consumed = 0;
  std::size_t lines = 0;
  while (const auto line = reader.next()) {
    ++lines;
    consumed += 4;
    if (line->type == vcs::PktLine::Type::Data) {
      if (line->payload.size() > 65516) std::abort();
      if (line->payload.data() != body.data() + consumed) std::abort();
      consumed += line->payload.size();
    } else if (!line->payload.empty()) {
      std::abort();
    }
    if (consumed > body.size()) std::abort();
  }
  if (reader.error().empty()) {
    if (!reader.atEnd() || consumed != body.size()) std::abort();
  } else {
    checkError(reader.error());
    if (reader.next()) std::abort();  // an error is final
  }
  return lines;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view body(reinterpret_cast<const char*>(data), size);
  const std::size_t lines = readAll(body);

  const auto advertisement = vcs::parseUploadPackAdvertisement(body);
  if (advertisement.valid == !advertisement.error.empty()) std::abort();
  if (advertisement.valid) {
    const auto& protocol = advertisement.protocol;
    if (protocol != "smart-v0" && protocol != "smart-v1" && protocol != "smart-v2") std::abort();
    if (advertisement.refs >= lines) std::abort();  // at least a flush-pkt besides the refs
    if (protocol == "smart-v2" && advertisement.refs != 0) std::abort();
  } else {
    checkError(advertisement.error);
  }

  const auto dumb = vcs::parseDumbInfoRefs(body);
  if (dumb.valid == !dumb.error.empty()) std::abort();
  if (dumb.valid) {
    if (dumb.refs != static_cast<std::size_t>(std::count(body.begin(), body.end(), '\n'))) {
      std::abort();
    }
  } else {
    checkError(dumb.error);
  }

  if (vcs::isUploadPackAdvertisementType(body) &&
      body.size() < std::string_view("application/x-git-upload-pack-advertisement").size()) {
    std::abort();
  }
  for (const std::size_t max : {std::size_t{0}, std::size_t{8}, std::size_t{60}}) {
    const std::string shown = vcs::printable(body, max);
    if (shown.size() > 4 * max + kEllipsis.size() || !isPrintable(shown)) std::abort();
    if ((body.size() > max) != shown.ends_with(kEllipsis)) std::abort();
  }
  return 0;
}
