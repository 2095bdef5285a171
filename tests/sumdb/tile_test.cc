#include <gtest/gtest.h>

#include <set>
#include <string>
#include <vector>

#include "sumdb/tlog.h"
#include "sumdb_test_util.h"

namespace gomodprobe::sumdb {
namespace {

using testing::FileTileServer;
using testing::HashStorage;
using testing::loadRecords;
using testing::loadVectors;
using testing::readDataFile;
using testing::splitLines;
using testing::TlogVectors;

TEST(TilePathTest, MatchesXModTilePaths) {
  // x/mod sumdb/tlog/tlog_test.go tilePaths.
  struct Case {
    std::string path;
    std::optional<Tile> tile;
  };
  const std::vector<Case> cases = {
      {"tile/4/0/001", Tile{4, 0, 1, 16}},
      {"tile/4/0/001.p/5", Tile{4, 0, 1, 5}},
      {"tile/3/5/x123/x456/078", Tile{3, 5, 123456078, 8}},
      {"tile/3/5/x123/x456/078.p/2", Tile{3, 5, 123456078, 2}},
      {"tile/1/0/x003/x057/500", Tile{1, 0, 3057500, 2}},
      {"tile/3/5/123/456/078", std::nullopt},
      {"tile/3/-1/123/456/078", std::nullopt},
      {"tile/1/data/x003/x057/500", Tile{1, -1, 3057500, 2}},
      // More: the sumdb's own shapes and non-canonical spellings.
      {"tile/8/0/x001/x234/067.p/5", Tile{8, 0, 1234067, 5}},
      {"tile/8/1/000.p/1", Tile{8, 1, 0, 1}},
      {"tile/8/data/000", Tile{8, -1, 0, 256}},
      {"tile/8/0/000.p/256", std::nullopt},
      {"tile/8/0/000.p/0", std::nullopt},
      {"tile/8/0/01", std::nullopt},
      {"tile/8/0/x000/001", std::nullopt},
      {"tile/8/00/001", std::nullopt},
      {"tile/31/0/001", std::nullopt},
      {"tile/0/0/001", std::nullopt},
      {"tile/8/0", std::nullopt},
      {"tiles/8/0/001", std::nullopt},
      {"tile/8/0/001/", std::nullopt},
      {"tile/8/0/+01", std::nullopt},
      {"tile/8/0/x999/x999/x999/x999/x999/x999/x999/999", std::nullopt},
  };
  for (const Case& c : cases) {
    if (c.tile) {
      EXPECT_EQ(c.tile->path(), c.path);
    }
    EXPECT_EQ(parseTilePath(c.path), c.tile) << c.path;
  }
}

TEST(TileIndexTest, TileForIndexAndHashFromTile) {
  // Record 5 at height 8: the bottom tile, width 6; the level-8 hash of records 0-255: the
  // first hash of the level-1 tile.
  EXPECT_EQ(tileForIndex(8, storedHashIndex(0, 5)), (Tile{8, 0, 0, 6}));
  EXPECT_EQ(tileForIndex(8, storedHashIndex(2, 1)), (Tile{8, 0, 0, 8}));
  EXPECT_EQ(tileForIndex(8, storedHashIndex(8, 0)), (Tile{8, 1, 0, 1}));
  EXPECT_EQ(tileForIndex(8, storedHashIndex(0, 300)), (Tile{8, 0, 1, 45}));
  EXPECT_FALSE(tileForIndex(0, 1).has_value());
  EXPECT_FALSE(tileForIndex(8, -1).has_value());

  HashStorage storage;
  for (const std::string& record : loadRecords()) storage.add(record);
  const std::string full = readDataFile("tlog300/tile/8/0/000");
  ASSERT_EQ(full.size(), 256U * kHashSize);
  for (int level = 0; level <= 8; ++level) {
    for (std::int64_t n = 0; n < (std::int64_t{256} >> level); n += 7) {
      const std::int64_t x = storedHashIndex(level, n);
      const Tile tile = level == 8 ? Tile{8, 1, 0, 1} : Tile{8, 0, 0, 256};
      const std::string data = level == 8 ? readDataFile("tlog300/tile/8/1/000.p/1") : full;
      const HashResult h = hashFromTile(tile, data, x);
      ASSERT_TRUE(h.ok()) << h.error;
      EXPECT_EQ(h.hash, storage.hashes()[static_cast<std::size_t>(x)]) << level << " " << n;
    }
  }
  // Wrong tile, too little data, out-of-width index.
  EXPECT_FALSE(hashFromTile(Tile{8, 0, 1, 44}, full, storedHashIndex(0, 5)).ok());
  EXPECT_FALSE(hashFromTile(Tile{8, 0, 0, 256}, full.substr(0, 100), 0).ok());
  EXPECT_FALSE(hashFromTile(Tile{8, 0, 0, 6}, full, storedHashIndex(0, 6)).ok());
  EXPECT_FALSE(hashFromTile(Tile{8, -1, 0, 256}, full, 0).ok());
}

TEST(TileDataTest, ReproducesTheTilesGoServes) {
  HashStorage storage;
  for (const std::string& record : loadRecords()) storage.add(record);
  const std::vector<std::string> paths = splitLines(readDataFile("tlog300/tiles.txt"));
  ASSERT_EQ(paths.size(), 4U);
  for (const std::string& path : paths) {
    const std::optional<Tile> tile = parseTilePath(path);
    ASSERT_TRUE(tile.has_value()) << path;
    const TileDataResult data = readTileData(*tile, storage.reader());
    ASSERT_TRUE(data.ok()) << data.error;
    EXPECT_EQ(data.data, readDataFile("tlog300/" + path)) << path;
  }
}

class TileHashReader300Test : public ::testing::Test {
 protected:
  void SetUp() override {
    for (const std::string& record : loadRecords()) storage_.add(record);
    vectors_ = loadVectors();
    tree_ = {300, vectors_.tree_hashes.at(300)};
  }
  HashStorage storage_;
  TlogVectors vectors_;
  Tree tree_;
  FileTileServer server_;
};

TEST_F(TileHashReader300Test, ServesEveryStoredHashOfTheTree) {
  const TileHashReader reader(tree_, kDefaultTileHeight, server_.fetcher());
  std::vector<std::int64_t> all;
  for (std::int64_t i = 0; i < storedHashIndex(0, 300); ++i) all.push_back(i);
  const HashesResult hashes = reader.readHashes(all);
  ASSERT_TRUE(hashes.ok()) << hashes.error;
  for (std::size_t i = 0; i < all.size(); ++i) EXPECT_EQ(hashes.hashes[i], storage_.hashes()[i]);
  // Three tiles: tile/8/1/000.p/1 and tile/8/0/001.p/44 (subtree hashes), tile/8/0/000.
  EXPECT_EQ(server_.fetches(), 3);
  const std::array<std::int64_t, 1> beyond{storedHashIndex(0, 300)};
  EXPECT_EQ(reader.readHashes(beyond).error, "indexes not in tree");
}

TEST_F(TileHashReader300Test, PlanListsSubtreeTilesFirst) {
  const TileHashReader reader(tree_, kDefaultTileHeight, server_.fetcher());
  const std::array<std::int64_t, 2> indexes{storedHashIndex(0, 5), storedHashIndex(0, 260)};
  const TileHashReader::Plan plan = reader.plan(indexes);
  ASSERT_TRUE(plan.ok()) << plan.error;
  std::vector<std::string> paths;
  for (const Tile& tile : plan.tiles) paths.push_back(tile.path());
  EXPECT_EQ(paths,
            (std::vector<std::string>{"tile/8/1/000.p/1", "tile/8/0/001.p/44", "tile/8/0/000"}));
  EXPECT_EQ(plan.subtree_indexes.size(), 4U);  // 256 + 32 + 8 + 4 records
  EXPECT_EQ(plan.subtree_tile_count, 2U);
}

TEST_F(TileHashReader300Test, TreeHashesAndProofsFromTilesMatchGo) {
  const TileHashReader reader(tree_, kDefaultTileHeight, server_.fetcher());
  for (const auto& [n, hash] : vectors_.tree_hashes) {
    const HashResult h = treeHash(n, reader.hashReader());
    ASSERT_TRUE(h.ok()) << h.error;
    EXPECT_EQ(h.hash, hash) << n;
  }
  for (const auto& v : vectors_.inclusion) {
    if (v.t != 300) continue;
    const ProofResult p = proveRecord(v.t, v.n, reader.hashReader());
    ASSERT_TRUE(p.ok()) << p.error;
    EXPECT_EQ(p.proof, v.proof);
    EXPECT_TRUE(checkRecord(p.proof, 300, tree_.hash, v.n, vectors_.record_hashes.at(v.n)).ok());
  }
  for (const auto& v : vectors_.consistency) {
    if (v.t != 300) continue;
    const ProofResult p = proveTree(v.t, v.n, reader.hashReader());
    ASSERT_TRUE(p.ok()) << p.error;
    EXPECT_EQ(p.proof, v.proof);
    EXPECT_TRUE(checkTree(p.proof, 300, tree_.hash, v.n, vectors_.tree_hashes.at(v.n)).ok());
  }
}

TEST_F(TileHashReader300Test, OlderTreesAreCheckedAgainstNewerTiles) {
  const TileHashReader reader(tree_, kDefaultTileHeight, server_.fetcher());
  for (const auto& [n, hash] : vectors_.tree_hashes) {
    EXPECT_TRUE(checkOlderTree(reader, Tree{n, hash}).ok()) << n;
    Hash forked = hash;
    forked[5] ^= 0x20U;
    EXPECT_FALSE(checkOlderTree(reader, Tree{n, forked}).ok()) << n;
  }
  EXPECT_FALSE(checkOlderTree(reader, Tree{301, tree_.hash}).ok());

  // A smaller tree's reader is served partial tiles cut from the wider ones.
  const TileHashReader reader100(Tree{100, vectors_.tree_hashes.at(100)}, kDefaultTileHeight,
                                 server_.fetcher());
  for (const auto& [n, hash] : vectors_.tree_hashes) {
    if (n <= 100) {
      EXPECT_TRUE(checkOlderTree(reader100, Tree{n, hash}).ok()) << n;
    }
  }
  EXPECT_EQ(readDataFile("tlog300/tile/8/0/000.p/100"),
            readDataFile("tlog300/tile/8/0/000").substr(0, 100 * kHashSize));
}

TEST_F(TileHashReader300Test, WrongSignedTreeHashRejectsEveryRead) {
  Tree wrong = tree_;
  wrong.hash[0] ^= 0x01U;
  const TileHashReader reader(wrong, kDefaultTileHeight, server_.fetcher());
  const std::array<std::int64_t, 1> index{storedHashIndex(0, 290)};
  EXPECT_EQ(reader.readHashes(index).error, "downloaded inconsistent tile");
}

// A fetcher serving the real tiles except for one flipped bit at `byte` of tile `path`.
TileFetcher flipBit(FileTileServer& server, std::string path, std::size_t byte) {
  return [&server, path = std::move(path), byte](const Tile& tile) {
    TileDataResult result = server.fetch(tile);
    if (result.ok() && tile.path() == path && byte < result.data.size()) {
      result.data[byte] = static_cast<char>(result.data[byte] ^ 0x01);
    }
    return result;
  };
}

TEST_F(TileHashReader300Test, AFlippedBitInAnyFetchedTileIsDetected) {
  for (const std::string path : {"tile/8/0/000", "tile/8/0/001.p/44", "tile/8/1/000.p/1"}) {
    const std::size_t size = path == "tile/8/0/000" ? 256 : path == "tile/8/0/001.p/44" ? 44 : 1;
    for (std::size_t byte = 0; byte < size * kHashSize; byte += 97) {
      const TileHashReader reader(tree_, kDefaultTileHeight, flipBit(server_, path, byte));
      // tile/8/0/000 is only fetched for records below 256; the other two for every read.
      for (const std::int64_t record : {0, 5, 255, 256, 299}) {
        if (path == "tile/8/0/000" && record >= 256) continue;
        const std::array<std::int64_t, 1> index{storedHashIndex(0, record)};
        const HashesResult result = reader.readHashes(index);
        EXPECT_EQ(result.error, "downloaded inconsistent tile") << path << " byte " << byte;
      }
    }
  }
}

TEST_F(TileHashReader300Test, TileNotCheckedByOldXModIsVerified) {
  // x/mod v0.7.0 checks tiles[len(stx):] only: with 300 records the 4 subtree hashes live in 2
  // tiles, so x/mod's loop `for i := len(stx); ...` skipped tiles[2] = tile/8/0/000 and served a
  // zeroed record hash from it without error (checked against x/mod v0.7.0). It must be rejected.
  const TileFetcher zero_first_hash = [this](const Tile& tile) {
    TileDataResult result = server_.fetch(tile);
    if (tile.path() == "tile/8/0/000") std::fill_n(result.data.begin(), kHashSize, '\0');
    return result;
  };
  const TileHashReader reader(tree_, kDefaultTileHeight, zero_first_hash);
  const std::array<std::int64_t, 1> index{0};
  EXPECT_EQ(reader.readHashes(index).error, "downloaded inconsistent tile");
  EXPECT_FALSE(proveRecord(300, 0, reader.hashReader()).ok());
  // The tree hash itself only needs the subtree-hash tiles, which are intact.
  EXPECT_TRUE(treeHash(300, reader.hashReader()).ok());
}

TEST_F(TileHashReader300Test, FetchErrorsAndWrongLengthsAreErrors) {
  const TileHashReader failing(tree_, kDefaultTileHeight, [](const Tile& tile) {
    return TileDataResult{{}, "404 " + tile.path()};
  });
  const std::array<std::int64_t, 1> index{storedHashIndex(0, 3)};
  EXPECT_EQ(failing.readHashes(index).error, "404 tile/8/1/000.p/1");
  const TileHashReader truncating(tree_, kDefaultTileHeight, [this](const Tile& tile) {
    TileDataResult result = server_.fetch(tile);
    result.data.pop_back();
    return result;
  });
  EXPECT_NE(truncating.readHashes(index).error.find("TileReader returned bad result slice"),
            std::string::npos);
  const TileHashReader reader(tree_, kDefaultTileHeight, server_.fetcher());
  const TileHashReader::Plan plan = reader.plan(index);
  EXPECT_FALSE(reader.complete(plan, {}).ok());
}

// Port of x/mod's TestTileHashReader: height 2, every tree size up to 100, every stored hash,
// and every single zeroed hash must be detected.
TEST(TileHashReaderTest, EveryHashOfEverySmallTreeAndEveryTampering) {
  constexpr int kHeight = 2;
  HashStorage storage;
  const auto serve = [&storage](const Tile& tile) { return readTileData(tile, storage.reader()); };
  for (int size = 1; size <= 100; ++size) {
    storage.add("leaf " + std::to_string(size - 1));
    const Tree tree = storage.tree();
    const TileHashReader reader(tree, kHeight, serve);
    std::vector<std::int64_t> all;
    for (std::int64_t i = 0; i < storedHashIndex(0, size); ++i) all.push_back(i);
    const HashesResult hashes = reader.readHashes(all);
    ASSERT_TRUE(hashes.ok()) << size << ": " << hashes.error;
    ASSERT_EQ(hashes.hashes.size(), all.size());
    for (std::size_t i = 0; i < all.size(); ++i) {
      ASSERT_EQ(hashes.hashes[i], storage.hashes()[i]) << size << " " << i;
    }
    for (const std::int64_t tampered : all) {
      // Zero the bottom-row hashes the stored hash `tampered` is computed from.
      const Tile target = tileForIndex(kHeight, tampered).value();
      const StoredHashPosition pos = splitStoredHashIndex(tampered).value();
      const int level_in_tile = pos.level - target.l * kHeight;
      const std::int64_t first = (pos.n << level_in_tile) - (target.n << kHeight);
      const std::int64_t count = std::int64_t{1} << level_in_tile;
      const TileHashReader bad(tree, kHeight, [&](const Tile& tile) {
        TileDataResult result = serve(tile);
        if (tile.l == target.l && tile.n == target.n) {
          for (std::int64_t i = first; i < first + count; ++i) {
            const auto at = static_cast<std::size_t>(i) * kHashSize;
            if (at + kHashSize <= result.data.size()) {
              std::fill_n(result.data.begin() + static_cast<std::ptrdiff_t>(at), kHashSize, '\0');
            }
          }
        }
        return result;
      });
      const std::array<std::int64_t, 1> one{tampered};
      EXPECT_FALSE(bad.readHashes(one).ok()) << size << " tampered " << tampered;
      EXPECT_FALSE(bad.readHashes(all).ok()) << size << " tampered " << tampered;
    }
  }
}

}  // namespace
}  // namespace gomodprobe::sumdb
