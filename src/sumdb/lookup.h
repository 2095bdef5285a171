#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "sumdb/tlog.h"

namespace gomodprobe::sumdb {

/// A parsed /lookup/<module>@<version> response (sumdb.Server writes
/// tlog.FormatRecord(id, text) followed by the signed tree note).
struct LookupRecord {
  std::int64_t id = 0;  ///< record number in the log
  /// The record data, exactly as served: the go.sum lines, each ending in '\n'. The log leaf is
  /// recordHash(text); only these lines are authenticated by the log.
  std::string text;
  /// Everything after the blank line: the signed tree head, to be opened with openNote. Its
  /// text is NOT covered by the record hash (see matchingGoSumLines).
  std::string signed_note;
};

struct LookupParseResult {
  std::optional<LookupRecord> record;
  std::string error;
  [[nodiscard]] bool ok() const { return record.has_value(); }
};

/// tlog.ParseRecord: "<id>\n<text>\n<rest>": the id line (strconv.ParseInt syntax), then the
/// text up to and including the '\n' before the first blank line, then the rest. The text must
/// be valid UTF-8, end in '\n', contain no blank line and no control characters but '\n'.
[[nodiscard]] LookupParseResult parseLookupResponse(std::string_view body);

/// tlog.FormatRecord: "<id>\n<text>\n"; nullopt if the text is not valid record text.
[[nodiscard]] std::optional<std::string> formatRecord(std::int64_t id, std::string_view text);

/// tlog's isValidRecordText (see parseLookupResponse).
[[nodiscard]] bool isValidRecordText(std::string_view text);

/// The go.sum lines of `text` for module `path` at `version` (version may end in "/go.mod"),
/// as sumdb.Client.Lookup selects them: lines starting with "<path> <version> ". Pass only the
/// authenticated record text, never the whole response: hash lines smuggled into the tree
/// note's extension are not in the log.
[[nodiscard]] std::vector<std::string> matchingGoSumLines(std::string_view text,
                                                          std::string_view path,
                                                          std::string_view version);

/// sumdb.Client.checkRecord: record `id` with data `text` is in the tree served by `reader`:
/// id < tree size, and the record hash stored at storedHashIndex(0, id), read through the
/// authenticated tiles, equals recordHash(text).
[[nodiscard]] CheckResult checkRecordWithTiles(const TileHashReader& reader, std::int64_t id,
                                               std::string_view text);

}  // namespace gomodprobe::sumdb
