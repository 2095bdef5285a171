#include "sumdb/lookup.h"

#include <array>

#include "sumdb/encoding.h"

namespace gomodprobe::sumdb {

bool isValidRecordText(std::string_view text) {
  char32_t last = 0;
  while (!text.empty()) {
    const DecodedRune r = decodeRune(text);
    if ((r.rune < 0x20 && r.rune != U'\n') || (r.rune == kRuneError && r.size == 1) ||
        (last == U'\n' && r.rune == U'\n')) {
      return false;
    }
    text.remove_prefix(r.size);
    last = r.rune;
  }
  return last == U'\n';
}

LookupParseResult parseLookupResponse(std::string_view body) {
  const char* const malformed = "malformed record data";
  const std::size_t eol = body.find('\n');
  if (eol == std::string_view::npos) return {std::nullopt, malformed};
  const std::optional<std::int64_t> id = parseInt64(body.substr(0, eol));
  if (!id) return {std::nullopt, malformed};
  body.remove_prefix(eol + 1);

  const std::size_t blank = body.find("\n\n");
  if (blank == std::string_view::npos) return {std::nullopt, malformed};
  const std::string_view text = body.substr(0, blank + 1);
  const std::string_view rest = body.substr(blank + 2);
  if (!isValidRecordText(text)) return {std::nullopt, malformed};
  return {LookupRecord{*id, std::string(text), std::string(rest)}, {}};
}

std::optional<std::string> formatRecord(std::int64_t id, std::string_view text) {
  if (!isValidRecordText(text)) return std::nullopt;
  std::string msg = std::to_string(id);
  msg += '\n';
  msg += text;
  msg += '\n';
  return msg;
}

std::vector<std::string> matchingGoSumLines(std::string_view text, std::string_view path,
                                            std::string_view version) {
  std::string prefix(path);
  prefix += ' ';
  prefix += version;
  prefix += ' ';
  std::vector<std::string> lines;
  while (!text.empty()) {
    const std::size_t eol = text.find('\n');
    const std::string_view line = text.substr(0, eol);
    if (line.starts_with(prefix)) lines.emplace_back(line);
    if (eol == std::string_view::npos) break;
    text.remove_prefix(eol + 1);
  }
  return lines;
}

CheckResult checkRecordWithTiles(const TileHashReader& reader, std::int64_t id,
                                 std::string_view text) {
  const std::int64_t size = reader.tree().n;
  if (id < 0 || id >= size) {
    return {"cannot validate record " + std::to_string(id) + " in tree of size " +
            std::to_string(size)};
  }
  const std::array<std::int64_t, 1> index{storedHashIndex(0, id)};
  const HashesResult hashes = reader.readHashes(index);
  if (!hashes.ok()) return {hashes.error};
  if (hashes.hashes.size() != 1 || hashes.hashes[0] != recordHash(text)) {
    return {"cannot authenticate record data in server response"};
  }
  return {};
}

}  // namespace gomodprobe::sumdb
