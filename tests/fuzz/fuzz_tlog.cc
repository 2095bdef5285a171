// Fuzzes the checksum database's record and tile handling. The first input byte picks the mode:
// even: the rest is a /lookup response (sumdb::parseLookupResponse; a parsed record must survive
// formatRecord → parse unchanged), a tree note text (parseTree) and a tile path (parseTilePath;
// only canonical paths parse, so path() must give the input back) whose tile reads the rest
// (hashFromTile); odd: a tree size, tree hash, record id and text, then tile bytes that a
// TileHashReader authenticates (checkRecordWithTiles, treeHash, checkOlderTree). Tile reads never
// crash and never throw, whatever the server sends.
#include <fuzzer/FuzzedDataProvider.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "sumdb/lookup.h"
#include "sumdb/tlog.h"

namespace sumdb = gomodprobe::sumdb;

namespace {

void textMode(std::string_view text) {
  if (const auto parsed = sumdb::parseLookupResponse(text); parsed.ok()) {
    const auto& record = *parsed.record;
    if (!sumdb::isValidRecordText(record.text)) std::abort();
    const auto formatted = sumdb::formatRecord(record.id, record.text);
    if (!formatted) std::abort();
    const auto again = sumdb::parseLookupResponse(*formatted + "\n");
    if (!again.ok() || again.record->id != record.id || again.record->text != record.text) {
      std::abort();
    }
    (void)sumdb::matchingGoSumLines(record.text, "example.com/mod257", "v1.5.0");
    (void)sumdb::parseTree(record.signed_note);
  }
  if (const auto tree = sumdb::parseTree(text)) {
    if (tree->n < 0) std::abort();
    if (sumdb::parseTree(sumdb::formatTree(*tree)) != tree) std::abort();
  }
  const std::string_view path = text.substr(0, text.find('\n'));
  if (const auto tile = sumdb::parseTilePath(path)) {
    if (tile->path() != path) std::abort();
    const std::string_view rest = text.substr(std::min(text.size(), path.size() + 1));
    (void)sumdb::hashFromTile(*tile, rest, sumdb::storedHashIndex(0, tile->n));
  }
}

void tileMode(FuzzedDataProvider& input) {
  sumdb::Tree tree;
  tree.n = input.ConsumeIntegralInRange<std::int64_t>(0, 1 << 20);
  const auto hash_bytes = input.ConsumeBytes<std::uint8_t>(tree.hash.size());
  std::copy(hash_bytes.begin(), hash_bytes.end(), tree.hash.begin());
  const auto id = input.ConsumeIntegralInRange<std::int64_t>(-1, tree.n);
  const std::string text = input.ConsumeRandomLengthString(256);
  const std::string pool = input.ConsumeRemainingBytesAsString();
  std::size_t offset = 0;
  // Serves each requested tile from the next bytes of the pool: the right length while the pool
  // lasts, then whatever is left (short tiles must be rejected, not read past).
  auto fetch = [&](const sumdb::Tile& tile) {
    const auto want = static_cast<std::size_t>(tile.w) * 32;
    sumdb::TileDataResult result;
    result.data = pool.substr(std::min(offset, pool.size()), want);
    offset += want;
    return result;
  };
  const sumdb::TileHashReader reader(tree, sumdb::kDefaultTileHeight, fetch);
  (void)sumdb::checkRecordWithTiles(reader, id, text);
  (void)sumdb::treeHash(tree.n, reader.hashReader());
  if (tree.n >= 2) (void)sumdb::checkOlderTree(reader, sumdb::Tree{tree.n / 2, tree.hash});
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  if ((data[0] & 1) == 0) {
    textMode(std::string_view(reinterpret_cast<const char*>(data) + 1, size - 1));
  } else {
    FuzzedDataProvider input(data + 1, size - 1);
    tileMode(input);
  }
  return 0;
}
