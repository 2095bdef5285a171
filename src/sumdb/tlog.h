#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <tuple>
#include <vector>

// Transparent-log primitives of the Go checksum database, ported from golang.org/x/mod
// sumdb/tlog (tlog.go, tile.go, note.go) and RFC 6962 §2.1. Pure computation: tile bytes come
// from a caller-supplied fetcher, so the probe decides how and when to download them.
//
// Sizes and indexes are int64 as in Go. Functions taking a tree size reject sizes above
// kMaxTreeSize (Go would overflow there; real logs are many orders of magnitude smaller).

namespace gomodprobe::sumdb {

inline constexpr std::size_t kHashSize = 32;
/// A record or tree-node hash (tlog.Hash): SHA-256.
using Hash = std::array<std::uint8_t, kHashSize>;

/// The tile height used by sum.golang.org and by the go command (sumdb.Client tileHeight).
inline constexpr int kDefaultTileHeight = 8;
/// Largest tree size accepted by the tree, proof and tile functions (2^48 records).
inline constexpr std::int64_t kMaxTreeSize = std::int64_t{1} << 48;

/// RFC 6962 §2.1 leaf hash: SHA-256(0x00 || data) (tlog.RecordHash).
[[nodiscard]] Hash recordHash(std::string_view data);
/// RFC 6962 §2.1 interior node hash: SHA-256(0x01 || left || right) (tlog.NodeHash).
[[nodiscard]] Hash nodeHash(const Hash& left, const Hash& right);
/// Standard base64 of the hash (tlog.Hash.String).
[[nodiscard]] std::string formatHash(const Hash& hash);
/// tlog.ParseHash: standard base64 of exactly 32 bytes.
[[nodiscard]] std::optional<Hash> parseHash(std::string_view text);

/// tlog.StoredHashIndex: position in the append-only hash storage of the hash at `level`
/// (0 = record hashes) numbered `n` within that level. Preconditions: level >= 0, n >= 0 and a
/// result that fits in int64 (arithmetic wraps like Go's otherwise).
[[nodiscard]] std::int64_t storedHashIndex(int level, std::int64_t n);

struct StoredHashPosition {
  int level = 0;
  std::int64_t n = 0;
  friend bool operator==(const StoredHashPosition&, const StoredHashPosition&) = default;
};
/// tlog.SplitStoredHashIndex, the inverse of storedHashIndex. nullopt for a negative index or
/// one beyond the storage of a kMaxTreeSize tree.
[[nodiscard]] std::optional<StoredHashPosition> splitStoredHashIndex(std::int64_t index);

/// tlog.StoredHashCount: how many hashes are stored for a tree of n records.
[[nodiscard]] std::int64_t storedHashCount(std::int64_t n);

/// Hashes (or why they could not be had) for a list of stored-hash indexes.
struct HashesResult {
  std::vector<Hash> hashes;
  std::string error;
  [[nodiscard]] bool ok() const { return error.empty(); }
};
/// tlog.HashReader: returns the stored hashes at `indexes`, in order, or an error.
using HashReader = std::function<HashesResult(std::span<const std::int64_t> indexes)>;

struct HashResult {
  Hash hash{};
  std::string error;
  [[nodiscard]] bool ok() const { return error.empty(); }
};

/// tlog.StoredHashesForRecordHash: the hashes to append to storage when adding record n with
/// record hash `record_hash` (reads the hashes it needs from `reader`). For test trees.
[[nodiscard]] HashesResult storedHashesForRecordHash(std::int64_t n, const Hash& record_hash,
                                                     const HashReader& reader);

/// tlog.TreeHash: the root hash of the tree of n records, from the stored hashes of its
/// complete subtrees (one ReadHashes call). n == 0 gives the all-zero hash like Go.
[[nodiscard]] HashResult treeHash(std::int64_t n, const HashReader& reader);

/// A proof: the sibling hashes from the bottom up (tlog.RecordProof / tlog.TreeProof).
using Proof = std::vector<Hash>;
struct ProofResult {
  Proof proof;
  std::string error;
  [[nodiscard]] bool ok() const { return error.empty(); }
};
/// Outcome of a proof check; error is empty when the proof verified.
struct CheckResult {
  std::string error;
  [[nodiscard]] bool ok() const { return error.empty(); }
};

/// tlog.ProveRecord: proof that record n is in the tree of t records (RFC 6962 §2.1.1 audit
/// path). Requires 0 <= n < t.
[[nodiscard]] ProofResult proveRecord(std::int64_t t, std::int64_t n, const HashReader& reader);
/// tlog.CheckRecord: verifies that record n with hash `record_hash` is in the tree of t records
/// whose root is `tree_hash`.
[[nodiscard]] CheckResult checkRecord(const Proof& proof, std::int64_t tree_size,
                                      const Hash& tree_hash, std::int64_t record_index,
                                      const Hash& record_hash);

/// tlog.ProveTree: proof that the tree of n records is a prefix of the tree of t records
/// (RFC 6962 §2.1.2 consistency proof). Requires 1 <= n <= t.
[[nodiscard]] ProofResult proveTree(std::int64_t t, std::int64_t n, const HashReader& reader);
/// tlog.CheckTree: verifies that the tree (old_size, old_hash) is a prefix of
/// (new_size, new_hash).
[[nodiscard]] CheckResult checkTree(const Proof& proof, std::int64_t new_size, const Hash& new_hash,
                                    std::int64_t old_size, const Hash& old_hash);

/// A signed tree head's content (tlog.Tree).
struct Tree {
  std::int64_t n = 0;
  Hash hash{};
  friend bool operator==(const Tree&, const Tree&) = default;
};
/// tlog.FormatTree: "go.sum database tree\n<N>\n<base64 hash>\n".
[[nodiscard]] std::string formatTree(const Tree& tree);
/// tlog.ParseTree: the text must start with "go.sum database tree\n" and have at least three
/// lines; line 2 is N in canonical decimal (>= 0), line 3 the base64 hash; anything after the
/// third line (the "extension", e.g. a timestamp) is ignored. At most 1e6 bytes.
[[nodiscard]] std::optional<Tree> parseTree(std::string_view text);

/// A tile of the hash storage (tlog.Tile): `h` = height (1..30), `l` = level in the tiling
/// (-1 = record data tile), `n` = number within the level, `w` = width (1..2^h; 2^h = full).
struct Tile {
  int h = 0;
  int l = 0;
  std::int64_t n = 0;
  std::int64_t w = 0;

  /// tlog.Tile.Path: "tile/H/L/NNN[.p/W]" with N as 3-digit groups, all but the last prefixed
  /// by "x" (e.g. "tile/8/0/x001/x234/067.p/5"); L = "data" for level -1.
  [[nodiscard]] std::string path() const;
  friend bool operator==(const Tile&, const Tile&) = default;
  /// Lexicographic on (h, l, n, w), for ordered containers.
  friend bool operator<(const Tile& a, const Tile& b) {
    return std::tie(a.h, a.l, a.n, a.w) < std::tie(b.h, b.l, b.n, b.w);
  }
};

/// tlog.ParseTilePath: the inverse of Tile::path; only canonical paths are accepted.
[[nodiscard]] std::optional<Tile> parseTilePath(std::string_view path);

/// tlog.TileForIndex: the smallest tile of height h holding the stored hash `index` (its width
/// covers exactly the data needed for that hash). nullopt if h is not in 1..30 or the index is
/// out of range.
[[nodiscard]] std::optional<Tile> tileForIndex(int h, std::int64_t index);

/// tlog.HashFromTile: the stored hash `index` computed from the bytes of `tile` (a
/// concatenation of tile.w hashes of level tile.l*tile.h; hashes of higher levels inside the
/// tile are recomputed from them).
[[nodiscard]] HashResult hashFromTile(const Tile& tile, std::string_view data, std::int64_t index);

/// tlog.ReadTileData: the bytes of `tile` built from stored hashes (what a server serves).
struct TileDataResult {
  std::string data;
  std::string error;
  [[nodiscard]] bool ok() const { return error.empty(); }
};
[[nodiscard]] TileDataResult readTileData(const Tile& tile, const HashReader& reader);

/// Fetches the raw bytes of one tile, e.g. GET <sumdb>/<tile.path()>. The result must be exactly
/// tile.w * 32 bytes; a fetcher that falls back to the full tile when the partial one is gone
/// (as sumdb.Client does) must cut it to that length (see tilePrefix).
using TileFetcher = std::function<TileDataResult(const Tile& tile)>;

/// The first tile.w hashes of the bytes of a wider version of the same tile (what
/// sumdb.Client.readTile does with a full tile when a partial one is requested). Empty if
/// `data` is too short.
[[nodiscard]] std::string_view tilePrefix(const Tile& tile, std::string_view data);

/// tlog.TileHashReader: a HashReader that serves stored hashes of the tree `tree` out of tiles
/// and authenticates every tile it uses against the tree hash before returning anything: the
/// tiles holding the tree's complete-subtree hashes must hash to tree.hash, and every other tile
/// must hash to the entry its parent tile holds for it.
///
/// One deliberate difference from x/mod v0.7.0 (as packaged by Debian): its ReadHashes checks
/// only tiles[len(stx):] against their parents, where len(stx) counts subtree hashes rather than
/// distinct tiles, so up to two fetched tiles can go unchecked (reproduced with a Go program
/// against that release: a zeroed record hash in tile/8/0/000 was returned without error; see
/// TileNotCheckedByOldXModIsVerified). Here every tile after the subtree-hash tiles is verified
/// against its parent.
///
/// For async callers the work is split: plan() says which tiles to fetch, complete() verifies
/// the fetched bytes and extracts the hashes. readHashes() does both with the fetcher.
class TileHashReader {
 public:
  TileHashReader(Tree tree, int height, TileFetcher fetch);

  /// Which tiles a readHashes(indexes) needs, in the order complete() expects their data.
  struct Plan {
    std::vector<Tile> tiles;
    std::vector<std::int64_t> indexes;
    std::vector<std::int64_t> subtree_indexes;  ///< stx: the tree's complete-subtree hashes
    std::vector<std::size_t> subtree_tile;      ///< tile (position in tiles) of each stx hash
    std::size_t subtree_tile_count = 0;         ///< tiles[0, count) hold the stx hashes
    std::vector<std::size_t> index_tile;        ///< tile of each requested index
    std::string error;
    [[nodiscard]] bool ok() const { return error.empty(); }
  };
  [[nodiscard]] Plan plan(std::span<const std::int64_t> indexes) const;
  /// Verifies `data` (one entry per plan.tiles, in order) and returns the requested hashes.
  [[nodiscard]] HashesResult complete(const Plan& plan, std::span<const std::string> data) const;

  /// plan + fetch every tile + complete (tlog.tileHashReader.ReadHashes).
  [[nodiscard]] HashesResult readHashes(std::span<const std::int64_t> indexes) const;
  /// This reader as a HashReader for treeHash/proveRecord/proveTree. Keeps a pointer to *this.
  [[nodiscard]] HashReader hashReader() const;

  [[nodiscard]] const Tree& tree() const { return tree_; }
  [[nodiscard]] int height() const { return height_; }

 private:
  Tree tree_;
  int height_;
  TileFetcher fetch_;
};

/// sumdb.Client.checkTrees: the tree `older` is a prefix of the tree `newer` that `reader` serves
/// (the hash of the first older.n records, recomputed from newer's authenticated tiles, must be
/// older.hash). older.n must be <= the reader's tree size.
[[nodiscard]] CheckResult checkOlderTree(const TileHashReader& reader, const Tree& older);

}  // namespace gomodprobe::sumdb
