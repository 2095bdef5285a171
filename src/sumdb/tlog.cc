#include "sumdb/tlog.h"

#include <bit>
#include <cstdio>
#include <map>
#include <utility>

#include "sumdb/crypto.h"
#include "sumdb/encoding.h"

namespace gomodprobe::sumdb {
namespace {

constexpr std::string_view kTreePrefix = "go.sum database tree\n";
constexpr std::size_t kMaxTreeNoteSize = 1000000;
constexpr std::int64_t kPathBase = 1000;
constexpr int kMaxTileHeight = 30;
constexpr int kMaxTileLevel = 63;
const char* const kProofFailed = "invalid transparency proof";

std::string_view asBytes(const Hash& hash) {
  return {reinterpret_cast<const char*>(hash.data()), hash.size()};
}

Hash hashFromBytes(std::string_view bytes) {
  Hash hash{};
  for (std::size_t i = 0; i < kHashSize && i < bytes.size(); ++i) {
    hash.at(i) = static_cast<std::uint8_t>(bytes[i]);
  }
  return hash;
}

bool validTreeSize(std::int64_t n) { return n >= 0 && n <= kMaxTreeSize; }

// maxpow2: the largest power of two k < n (n >= 2) and its log l.
std::pair<std::int64_t, int> maxpow2(std::int64_t n) {
  int l = 0;
  while ((std::int64_t{1} << (l + 1)) < n) ++l;
  return {std::int64_t{1} << l, l};
}

// Consumes hashes in order; running past the end (only possible through an internal
// inconsistency, the reader's count is checked first) yields zero hashes and sets `overrun`.
struct HashCursor {
  std::span<const Hash> rest;
  bool overrun = false;

  Hash next() {
    if (rest.empty()) {
      overrun = true;
      return Hash{};
    }
    const Hash hash = rest.front();
    rest = rest.subspan(1);
    return hash;
  }
};

// subTreeIndex: stored-hash indexes of the complete subtrees making up records [lo, hi).
void subTreeIndex(std::int64_t lo, std::int64_t hi, std::vector<std::int64_t>& need) {
  while (lo < hi) {
    const auto [k, level] = maxpow2(hi - lo + 1);
    need.push_back(storedHashIndex(level, lo >> level));
    lo += k;
  }
}

// subTreeHash: the hash of records [lo, hi) from the hashes subTreeIndex asked for.
Hash subTreeHash(std::int64_t lo, std::int64_t hi, HashCursor& cursor) {
  std::vector<Hash> parts;
  while (lo < hi) {
    const auto [k, level] = maxpow2(hi - lo + 1);
    parts.push_back(cursor.next());
    lo += k;
  }
  if (parts.empty()) {
    cursor.overrun = true;
    return Hash{};
  }
  Hash hash = parts.back();
  for (std::size_t i = parts.size() - 1; i-- > 0;) hash = nodeHash(parts[i], hash);
  return hash;
}

void leafProofIndex(std::int64_t lo, std::int64_t hi, std::int64_t n,
                    std::vector<std::int64_t>& need) {
  if (lo + 1 == hi) return;
  const auto [k, level] = maxpow2(hi - lo);
  if (n < lo + k) {
    leafProofIndex(lo, lo + k, n, need);
    subTreeIndex(lo + k, hi, need);
  } else {
    subTreeIndex(lo, lo + k, need);
    leafProofIndex(lo + k, hi, n, need);
  }
}

void leafProof(std::int64_t lo, std::int64_t hi, std::int64_t n, HashCursor& cursor, Proof& proof) {
  if (lo + 1 == hi) return;
  const auto [k, level] = maxpow2(hi - lo);
  Hash th{};
  if (n < lo + k) {
    leafProof(lo, lo + k, n, cursor, proof);
    th = subTreeHash(lo + k, hi, cursor);
  } else {
    th = subTreeHash(lo, lo + k, cursor);
    leafProof(lo + k, hi, n, cursor, proof);
  }
  proof.push_back(th);
}

// runRecordProof; `proof` is the prefix of the proof still to be used.
std::optional<Hash> runRecordProof(std::span<const Hash> proof, std::int64_t lo, std::int64_t hi,
                                   std::int64_t n, const Hash& leaf_hash) {
  if (lo + 1 == hi) {
    if (!proof.empty()) return std::nullopt;
    return leaf_hash;
  }
  if (proof.empty()) return std::nullopt;
  const auto [k, level] = maxpow2(hi - lo);
  const Hash& sibling = proof.back();
  const std::span<const Hash> rest = proof.first(proof.size() - 1);
  if (n < lo + k) {
    const std::optional<Hash> th = runRecordProof(rest, lo, lo + k, n, leaf_hash);
    if (!th) return std::nullopt;
    return nodeHash(*th, sibling);
  }
  const std::optional<Hash> th = runRecordProof(rest, lo + k, hi, n, leaf_hash);
  if (!th) return std::nullopt;
  return nodeHash(sibling, *th);
}

void treeProofIndex(std::int64_t lo, std::int64_t hi, std::int64_t n,
                    std::vector<std::int64_t>& need) {
  if (n == hi) {
    if (lo == 0) return;
    subTreeIndex(lo, hi, need);
    return;
  }
  const auto [k, level] = maxpow2(hi - lo);
  if (n <= lo + k) {
    treeProofIndex(lo, lo + k, n, need);
    subTreeIndex(lo + k, hi, need);
  } else {
    subTreeIndex(lo, lo + k, need);
    treeProofIndex(lo + k, hi, n, need);
  }
}

void treeProof(std::int64_t lo, std::int64_t hi, std::int64_t n, HashCursor& cursor, Proof& proof) {
  if (n == hi) {
    if (lo == 0) return;
    proof.push_back(subTreeHash(lo, hi, cursor));
    return;
  }
  const auto [k, level] = maxpow2(hi - lo);
  Hash th{};
  if (n <= lo + k) {
    treeProof(lo, lo + k, n, cursor, proof);
    th = subTreeHash(lo + k, hi, cursor);
  } else {
    th = subTreeHash(lo, lo + k, cursor);
    treeProof(lo + k, hi, n, cursor, proof);
  }
  proof.push_back(th);
}

// runTreeProof: {old tree hash, new tree hash} computed from the proof.
std::optional<std::pair<Hash, Hash>> runTreeProof(std::span<const Hash> proof, std::int64_t lo,
                                                  std::int64_t hi, std::int64_t n,
                                                  const Hash& old) {
  if (n == hi) {
    if (lo == 0) {
      if (!proof.empty()) return std::nullopt;
      return std::pair{old, old};
    }
    if (proof.size() != 1) return std::nullopt;
    return std::pair{proof[0], proof[0]};
  }
  if (proof.empty()) return std::nullopt;
  const auto [k, level] = maxpow2(hi - lo);
  const Hash& sibling = proof.back();
  const std::span<const Hash> rest = proof.first(proof.size() - 1);
  if (n <= lo + k) {
    const auto inner = runTreeProof(rest, lo, lo + k, n, old);
    if (!inner) return std::nullopt;
    return std::pair{inner->first, nodeHash(inner->second, sibling)};
  }
  const auto inner = runTreeProof(rest, lo + k, hi, n, old);
  if (!inner) return std::nullopt;
  return std::pair{nodeHash(sibling, inner->first), nodeHash(sibling, inner->second)};
}

// Reads `indexes` and checks the reader returned one hash per index.
HashesResult readExactly(const HashReader& reader, const std::vector<std::int64_t>& indexes) {
  HashesResult result = reader(indexes);
  if (!result.ok()) return result;
  if (result.hashes.size() != indexes.size()) {
    return {{},
            "tlog: ReadHashes(" + std::to_string(indexes.size()) +
                " indexes) = " + std::to_string(result.hashes.size()) + " hashes"};
  }
  return result;
}

// tileForIndex with the byte range of the hash's data inside the tile.
struct TileSlot {
  Tile tile;
  std::int64_t start = 0;
  std::int64_t end = 0;
};

std::optional<TileSlot> tileSlotForIndex(int h, std::int64_t index) {
  if (h < 1 || h > kMaxTileHeight) return std::nullopt;
  const std::optional<StoredHashPosition> position = splitStoredHashIndex(index);
  if (!position) return std::nullopt;
  int level = position->level;
  std::int64_t n = position->n;
  TileSlot slot;
  slot.tile.h = h;
  slot.tile.l = level / h;
  level -= slot.tile.l * h;  // now the level within the tile
  slot.tile.n = (n << level) >> h;
  n -= (slot.tile.n << h) >> level;  // now n within the tile at that level
  slot.tile.w = (n + 1) << level;
  slot.start = (n << level) * static_cast<std::int64_t>(kHashSize);
  slot.end = ((n + 1) << level) * static_cast<std::int64_t>(kHashSize);
  return slot;
}

// tileHash: the hash of the subtree whose bottom-row hashes are `data` (a power of two of them).
Hash tileHash(std::string_view data) {
  if (data.size() <= kHashSize) return hashFromBytes(data);
  const std::size_t half = data.size() / 2;
  return nodeHash(tileHash(data.substr(0, half)), tileHash(data.substr(half)));
}

// tileParent: the k-levels-up ancestor of tile t in a tree of n records, cut to the width that
// exists at that size; nullopt if it does not exist yet (Go returns the zero Tile).
std::optional<Tile> tileParent(Tile t, int k, std::int64_t n) {
  t.l += k;
  if (t.l * t.h >= 63 || k * t.h >= 63) return std::nullopt;
  t.n >>= k * t.h;
  t.w = std::int64_t{1} << t.h;
  const std::int64_t max = n >> (t.l * t.h);
  if ((t.n << t.h) + t.w >= max) {
    if ((t.n << t.h) >= max) return std::nullopt;
    t.w = max - (t.n << t.h);
  }
  return t;
}

std::string formatDecimal3(std::int64_t value) {
  std::array<char, 24> buffer{};
  (void)std::snprintf(buffer.data(), buffer.size(), "%03lld", static_cast<long long>(value));
  return buffer.data();
}

// A path component as strconv.Atoi accepts it, bounded to avoid overflow.
std::optional<std::int64_t> parseComponent(std::string_view text) {
  const std::optional<std::int64_t> value = parseInt64(text);
  if (!value || *value < -kMaxTreeSize || *value > kMaxTreeSize) return std::nullopt;
  return value;
}

}  // namespace

Hash recordHash(std::string_view data) { return sha256({std::string_view("\x00", 1), data}); }

Hash nodeHash(const Hash& left, const Hash& right) {
  return sha256({std::string_view("\x01", 1), asBytes(left), asBytes(right)});
}

std::string formatHash(const Hash& hash) { return base64Encode(std::span(hash)); }

std::optional<Hash> parseHash(std::string_view text) {
  const std::optional<std::string> data = base64Decode(text);
  if (!data || data->size() != kHashSize) return std::nullopt;
  return hashFromBytes(*data);
}

std::int64_t storedHashIndex(int level, std::int64_t n) {
  // Unsigned arithmetic: wraps on overflow like Go instead of being undefined.
  auto un = static_cast<std::uint64_t>(n);
  for (int l = level; l > 0; --l) un = 2 * un + 1;
  std::uint64_t i = 0;
  for (; un > 0; un >>= 1U) i += un;
  return static_cast<std::int64_t>(i + static_cast<std::uint64_t>(level));
}

std::optional<StoredHashPosition> splitStoredHashIndex(std::int64_t index) {
  if (index < 0 || index > storedHashIndex(0, kMaxTreeSize)) return std::nullopt;
  std::int64_t n = index / 2;
  std::int64_t index_n = storedHashIndex(0, n);
  if (index_n > index) return std::nullopt;  // "bad math" in Go; cannot happen
  for (;;) {
    // Each record adds 1 record hash + one hash per trailing one bit of its number.
    const std::int64_t x = index_n + 1 + std::countr_zero(static_cast<std::uint64_t>(n + 1));
    if (x > index) break;
    ++n;
    index_n = x;
  }
  const int level = static_cast<int>(index - index_n);
  return StoredHashPosition{level, n >> level};
}

std::int64_t storedHashCount(std::int64_t n) {
  if (n <= 0) return 0;
  std::int64_t num_hash = storedHashIndex(0, n - 1) + 1;
  for (auto i = static_cast<std::uint64_t>(n - 1); (i & 1U) != 0; i >>= 1U) ++num_hash;
  return num_hash;
}

HashesResult storedHashesForRecordHash(std::int64_t n, const Hash& record_hash,
                                       const HashReader& reader) {
  if (!validTreeSize(n) || n == kMaxTreeSize) return {{}, "tlog: invalid record number"};
  HashesResult result;
  result.hashes.push_back(record_hash);
  // Record n completes one subtree (one more interior hash) per trailing one bit of n.
  const int m = std::countr_zero(static_cast<std::uint64_t>(n + 1));
  std::vector<std::int64_t> indexes(static_cast<std::size_t>(m));
  for (int i = 0; i < m; ++i) {
    indexes[static_cast<std::size_t>(m - 1 - i)] = storedHashIndex(i, (n >> i) - 1);
  }
  HashesResult old = readExactly(reader, indexes);
  if (!old.ok()) return old;
  Hash h = record_hash;
  for (int i = 0; i < m; ++i) {
    h = nodeHash(old.hashes[static_cast<std::size_t>(m - 1 - i)], h);
    result.hashes.push_back(h);
  }
  return result;
}

HashResult treeHash(std::int64_t n, const HashReader& reader) {
  if (!validTreeSize(n)) return {{}, "tlog: invalid tree size"};
  if (n == 0) return {};
  std::vector<std::int64_t> indexes;
  subTreeIndex(0, n, indexes);
  const HashesResult hashes = readExactly(reader, indexes);
  if (!hashes.ok()) return {{}, hashes.error};
  HashCursor cursor{hashes.hashes};
  const Hash hash = subTreeHash(0, n, cursor);
  if (cursor.overrun || !cursor.rest.empty()) return {{}, "tlog: bad index math in TreeHash"};
  return {hash, {}};
}

ProofResult proveRecord(std::int64_t t, std::int64_t n, const HashReader& reader) {
  if (!validTreeSize(t) || n < 0 || n >= t) return {{}, "tlog: invalid inputs in ProveRecord"};
  std::vector<std::int64_t> indexes;
  leafProofIndex(0, t, n, indexes);
  if (indexes.empty()) return {};
  const HashesResult hashes = readExactly(reader, indexes);
  if (!hashes.ok()) return {{}, hashes.error};
  HashCursor cursor{hashes.hashes};
  ProofResult result;
  leafProof(0, t, n, cursor, result.proof);
  if (cursor.overrun || !cursor.rest.empty()) return {{}, "tlog: bad index math in ProveRecord"};
  return result;
}

CheckResult checkRecord(const Proof& proof, std::int64_t tree_size, const Hash& tree_hash,
                        std::int64_t record_index, const Hash& record_hash) {
  if (!validTreeSize(tree_size) || record_index < 0 || record_index >= tree_size) {
    return {"tlog: invalid inputs in CheckRecord"};
  }
  const std::optional<Hash> th = runRecordProof(proof, 0, tree_size, record_index, record_hash);
  if (!th || *th != tree_hash) return {kProofFailed};
  return {};
}

ProofResult proveTree(std::int64_t t, std::int64_t n, const HashReader& reader) {
  if (!validTreeSize(t) || t < 1 || n < 1 || n > t)
    return {{}, "tlog: invalid inputs in ProveTree"};
  std::vector<std::int64_t> indexes;
  treeProofIndex(0, t, n, indexes);
  if (indexes.empty()) return {};
  const HashesResult hashes = readExactly(reader, indexes);
  if (!hashes.ok()) return {{}, hashes.error};
  HashCursor cursor{hashes.hashes};
  ProofResult result;
  treeProof(0, t, n, cursor, result.proof);
  if (cursor.overrun || !cursor.rest.empty()) return {{}, "tlog: bad index math in ProveTree"};
  return result;
}

CheckResult checkTree(const Proof& proof, std::int64_t new_size, const Hash& new_hash,
                      std::int64_t old_size, const Hash& old_hash) {
  if (!validTreeSize(new_size) || new_size < 1 || old_size < 1 || old_size > new_size) {
    return {"tlog: invalid inputs in CheckTree"};
  }
  const auto hashes = runTreeProof(proof, 0, new_size, old_size, old_hash);
  if (!hashes || hashes->first != old_hash || hashes->second != new_hash) return {kProofFailed};
  return {};
}

std::string formatTree(const Tree& tree) {
  return std::string(kTreePrefix) + std::to_string(tree.n) + "\n" + formatHash(tree.hash) + "\n";
}

std::optional<Tree> parseTree(std::string_view text) {
  if (!text.starts_with(kTreePrefix) || text.size() > kMaxTreeNoteSize) return std::nullopt;
  // Lines 2 and 3; a third '\n' must exist (Go: at least three newlines in the text).
  std::string_view rest = text.substr(kTreePrefix.size());
  const std::size_t end_n = rest.find('\n');
  if (end_n == std::string_view::npos) return std::nullopt;
  const std::string_view n_text = rest.substr(0, end_n);
  rest.remove_prefix(end_n + 1);
  const std::size_t end_hash = rest.find('\n');
  if (end_hash == std::string_view::npos) return std::nullopt;
  const std::string_view hash_text = rest.substr(0, end_hash);

  const std::optional<std::int64_t> n = parseInt64(n_text);
  if (!n || *n < 0 || n_text != std::to_string(*n)) return std::nullopt;
  const std::optional<Hash> hash = parseHash(hash_text);
  if (!hash) return std::nullopt;
  return Tree{*n, *hash};
}

std::string Tile::path() const {
  std::int64_t value = n;
  std::string n_str = formatDecimal3(value % kPathBase);
  while (value >= kPathBase) {
    value /= kPathBase;
    std::string group = "x";
    group += formatDecimal3(value % kPathBase);
    group += '/';
    n_str.insert(0, group);
  }
  std::string p_str;
  if (h >= 0 && h < 63 && w != (std::int64_t{1} << h)) p_str = ".p/" + std::to_string(w);
  const std::string l_str = l == -1 ? std::string("data") : std::to_string(l);
  return "tile/" + std::to_string(h) + "/" + l_str + "/" + n_str + p_str;
}

std::optional<Tile> parseTilePath(std::string_view path) {
  std::vector<std::string_view> f;
  for (std::string_view rest = path;;) {
    const std::size_t slash = rest.find('/');
    f.push_back(rest.substr(0, slash));
    if (slash == std::string_view::npos) break;
    rest.remove_prefix(slash + 1);
  }
  if (f.size() < 4 || f[0] != "tile") return std::nullopt;
  const std::optional<std::int64_t> h = parseComponent(f[1]);
  const bool is_data = f[2] == "data";
  const std::optional<std::int64_t> l =
      is_data ? std::optional<std::int64_t>(0) : parseComponent(f[2]);
  // Go bounds only h (1..30) and l >= 0 here; levels above 63 are rejected later by
  // HashFromTile anyway, so they are refused up front.
  if (!h || !l || *h < 1 || *l < 0 || *h > kMaxTileHeight || *l > kMaxTileLevel) {
    return std::nullopt;
  }
  std::int64_t w = std::int64_t{1} << *h;
  if (f[f.size() - 2].ends_with(".p")) {
    const std::optional<std::int64_t> ww = parseComponent(f.back());
    if (!ww || *ww <= 0 || *ww >= w) return std::nullopt;
    w = *ww;
    f[f.size() - 2].remove_suffix(2);
    f.pop_back();
  }
  std::int64_t n = 0;
  for (std::size_t i = 3; i < f.size(); ++i) {
    std::string_view s = f[i];
    if (s.starts_with('x')) s.remove_prefix(1);
    const std::optional<std::int64_t> nn = parseComponent(s);
    if (!nn || *nn < 0 || *nn >= kPathBase) return std::nullopt;
    if (n > (kMaxTreeSize - *nn) / kPathBase) return std::nullopt;
    n = n * kPathBase + *nn;
  }
  Tile tile{static_cast<int>(*h), is_data ? -1 : static_cast<int>(*l), n, w};
  if (path != tile.path()) return std::nullopt;
  return tile;
}

std::optional<Tile> tileForIndex(int h, std::int64_t index) {
  const std::optional<TileSlot> slot = tileSlotForIndex(h, index);
  if (!slot) return std::nullopt;
  return slot->tile;
}

HashResult hashFromTile(const Tile& tile, std::string_view data, std::int64_t index) {
  if (tile.h < 1 || tile.h > kMaxTileHeight || tile.l < 0 || tile.l > kMaxTileLevel || tile.w < 1 ||
      tile.w > (std::int64_t{1} << tile.h) || tile.n < 0) {
    return {{}, "invalid tile " + tile.path()};
  }
  if (static_cast<std::int64_t>(data.size()) < tile.w * static_cast<std::int64_t>(kHashSize)) {
    return {{}, "data len " + std::to_string(data.size()) + " too short for tile " + tile.path()};
  }
  const std::optional<TileSlot> slot = tileSlotForIndex(tile.h, index);
  if (!slot) return {{}, "invalid index " + std::to_string(index)};
  if (tile.l != slot->tile.l || tile.n != slot->tile.n || tile.w < slot->tile.w) {
    return {
        {},
        "index " + std::to_string(index) + " is in " + slot->tile.path() + " not " + tile.path()};
  }
  const auto start = static_cast<std::size_t>(slot->start);
  const auto end = static_cast<std::size_t>(slot->end);
  return {tileHash(data.substr(start, end - start)), {}};
}

TileDataResult readTileData(const Tile& tile, const HashReader& reader) {
  if (tile.h < 1 || tile.h > kMaxTileHeight || tile.l < 0 || tile.n < 0 || tile.w < 0 ||
      tile.w > (std::int64_t{1} << tile.h) || tile.l * tile.h > 48) {
    return {{}, "invalid tile " + tile.path()};
  }
  const std::int64_t size = tile.w == 0 ? std::int64_t{1} << tile.h : tile.w;
  const std::int64_t start = tile.n << tile.h;
  std::vector<std::int64_t> indexes;
  indexes.reserve(static_cast<std::size_t>(size));
  for (std::int64_t i = 0; i < size; ++i) {
    indexes.push_back(storedHashIndex(tile.h * tile.l, start + i));
  }
  const HashesResult hashes = readExactly(reader, indexes);
  if (!hashes.ok()) return {{}, hashes.error};
  TileDataResult result;
  result.data.reserve(static_cast<std::size_t>(size) * kHashSize);
  for (const Hash& hash : hashes.hashes) result.data.append(asBytes(hash));
  return result;
}

std::string_view tilePrefix(const Tile& tile, std::string_view data) {
  if (tile.w < 0) return {};
  const auto size = static_cast<std::size_t>(tile.w) * kHashSize;
  if (data.size() < size) return {};
  return data.substr(0, size);
}

TileHashReader::TileHashReader(Tree tree, int height, TileFetcher fetch)
    : tree_(tree), height_(height), fetch_(std::move(fetch)) {}

TileHashReader::Plan TileHashReader::plan(std::span<const std::int64_t> indexes) const {
  Plan plan;
  plan.indexes.assign(indexes.begin(), indexes.end());
  if (height_ < 1 || height_ > kMaxTileHeight) {
    plan.error = "invalid tile height " + std::to_string(height_);
    return plan;
  }
  if (!validTreeSize(tree_.n)) {
    plan.error = "invalid tree size " + std::to_string(tree_.n);
    return plan;
  }
  std::map<Tile, std::size_t> tile_order;  // tile -> position in plan.tiles

  // The tiles holding the complete-subtree hashes of the tree: they authenticate against
  // tree_.hash.
  subTreeIndex(0, tree_.n, plan.subtree_indexes);
  for (const std::int64_t x : plan.subtree_indexes) {
    const std::optional<Tile> base = tileForIndex(height_, x);
    const std::optional<Tile> tile = base ? tileParent(*base, 0, tree_.n) : std::nullopt;
    if (!tile) {
      plan.error = "bad math in tileHashReader: no tile for subtree hash " + std::to_string(x);
      return plan;
    }
    const auto [it, inserted] = tile_order.emplace(*tile, plan.tiles.size());
    if (inserted) plan.tiles.push_back(*tile);
    plan.subtree_tile.push_back(it->second);
  }
  plan.subtree_tile_count = plan.tiles.size();

  // For each index, its tile and every ancestor tile up to one already planned (each of those
  // is verified against its parent).
  const std::int64_t limit = storedHashIndex(0, tree_.n);
  for (const std::int64_t x : indexes) {
    if (x < 0 || x >= limit) {
      plan.error = "indexes not in tree";
      return plan;
    }
    const std::optional<Tile> tile = tileForIndex(height_, x);
    if (!tile) {
      plan.error = "indexes not in tree";
      return plan;
    }
    int k = 0;
    std::optional<std::size_t> found;
    for (; k * height_ < 63; ++k) {
      const std::optional<Tile> parent = tileParent(*tile, k, tree_.n);
      if (!parent) continue;
      const auto it = tile_order.find(*parent);
      if (it != tile_order.end()) {
        found = it->second;
        break;
      }
    }
    if (!found) {
      plan.error = "bad math in tileHashReader: no planned ancestor for index " + std::to_string(x);
      return plan;
    }
    if (k == 0) plan.index_tile.push_back(*found);
    for (--k; k >= 0; --k) {
      const std::optional<Tile> parent = tileParent(*tile, k, tree_.n);
      if (!parent || parent->w != (std::int64_t{1} << parent->h)) {
        plan.error = "bad math in tileHashReader: partial tile below the tree's frontier for " +
                     std::to_string(x);
        return plan;
      }
      tile_order.emplace(*parent, plan.tiles.size());
      if (k == 0) plan.index_tile.push_back(plan.tiles.size());
      plan.tiles.push_back(*parent);
    }
  }
  return plan;
}

HashesResult TileHashReader::complete(const Plan& plan, std::span<const std::string> data) const {
  if (!plan.ok()) return {{}, plan.error};
  if (data.size() != plan.tiles.size()) {
    return {{},
            "TileReader returned bad result slice (len=" + std::to_string(data.size()) + ", want " +
                std::to_string(plan.tiles.size()) + ")"};
  }
  for (std::size_t i = 0; i < plan.tiles.size(); ++i) {
    const std::int64_t want = plan.tiles[i].w * static_cast<std::int64_t>(kHashSize);
    if (static_cast<std::int64_t>(data[i].size()) != want) {
      return {{},
              "TileReader returned bad result slice (" + plan.tiles[i].path() + " len=" +
                  std::to_string(data[i].size()) + ", want " + std::to_string(want) + ")"};
    }
  }

  // The subtree-hash tiles must reproduce the signed tree hash.
  if (!plan.subtree_indexes.empty()) {
    Hash th{};
    for (std::size_t i = plan.subtree_indexes.size(); i-- > 0;) {
      const std::size_t j = plan.subtree_tile[i];
      const HashResult h = hashFromTile(plan.tiles[j], data[j], plan.subtree_indexes[i]);
      if (!h.ok()) return {{}, h.error};
      th = i + 1 == plan.subtree_indexes.size() ? h.hash : nodeHash(h.hash, th);
    }
    if (th != tree_.hash) return {{}, "downloaded inconsistent tile"};
  }

  // Every other tile must hash to its entry in its parent tile. (x/mod started this loop at
  // len(stx) instead of at the number of subtree-hash tiles; see the class comment.)
  std::map<Tile, std::size_t> tile_order;
  for (std::size_t i = 0; i < plan.tiles.size(); ++i) tile_order.emplace(plan.tiles[i], i);
  for (std::size_t i = plan.subtree_tile_count; i < plan.tiles.size(); ++i) {
    const Tile& tile = plan.tiles[i];
    const std::optional<Tile> parent = tileParent(tile, 1, tree_.n);
    const auto it = parent ? tile_order.find(*parent) : tile_order.end();
    if (it == tile_order.end()) {
      return {{}, "bad math in tileHashReader: lost parent of " + tile.path()};
    }
    const HashResult h =
        hashFromTile(*parent, data[it->second], storedHashIndex(parent->l * parent->h, tile.n));
    if (!h.ok()) return {{}, "bad math in tileHashReader: lost hash of " + tile.path()};
    if (h.hash != tileHash(data[i])) return {{}, "downloaded inconsistent tile"};
  }

  HashesResult result;
  result.hashes.reserve(plan.indexes.size());
  for (std::size_t i = 0; i < plan.indexes.size(); ++i) {
    const std::size_t j = plan.index_tile[i];
    const HashResult h = hashFromTile(plan.tiles[j], data[j], plan.indexes[i]);
    if (!h.ok()) return {{}, "bad math in tileHashReader: lost hash: " + h.error};
    result.hashes.push_back(h.hash);
  }
  return result;
}

HashesResult TileHashReader::readHashes(std::span<const std::int64_t> indexes) const {
  const Plan p = plan(indexes);
  if (!p.ok()) return {{}, p.error};
  std::vector<std::string> data;
  data.reserve(p.tiles.size());
  for (const Tile& tile : p.tiles) {
    TileDataResult fetched = fetch_ ? fetch_(tile) : TileDataResult{{}, "no tile fetcher"};
    if (!fetched.ok()) return {{}, fetched.error};
    data.push_back(std::move(fetched.data));
  }
  return complete(p, data);
}

HashReader TileHashReader::hashReader() const {
  return [this](std::span<const std::int64_t> indexes) { return readHashes(indexes); };
}

CheckResult checkOlderTree(const TileHashReader& reader, const Tree& older) {
  if (older.n < 0 || older.n > reader.tree().n) {
    return {"tree of size " + std::to_string(older.n) + " is larger than tree of size " +
            std::to_string(reader.tree().n)};
  }
  const HashResult h = treeHash(older.n, reader.hashReader());
  if (!h.ok()) {
    return {"checking tree#" + std::to_string(older.n) + " against tree#" +
            std::to_string(reader.tree().n) + ": " + h.error};
  }
  if (h.hash != older.hash) {
    return {"go.sum database server misbehavior detected: tree#" + std::to_string(older.n) +
            " is not a prefix of tree#" + std::to_string(reader.tree().n)};
  }
  return {};
}

}  // namespace gomodprobe::sumdb
