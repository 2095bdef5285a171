#include "sumdb/tlog.h"

#include <gtest/gtest.h>

#include <initializer_list>
#include <string>
#include <vector>

#include "sumdb_test_util.h"

namespace gomodprobe::sumdb {
namespace {

using testing::HashStorage;
using testing::hexHash;
using testing::loadRecords;
using testing::loadVectors;
using testing::TlogVectors;

std::string bytesOf(std::initializer_list<int> values) {
  std::string out;
  for (const int v : values) out.push_back(static_cast<char>(v));
  return out;
}

// RFC 6962 test leaves (certificate-transparency merkle_tree_test vectors).
std::vector<std::string> rfc6962Leaves() {
  return {"",
          bytesOf({0x00}),
          bytesOf({0x10}),
          bytesOf({0x20, 0x21}),
          bytesOf({0x30, 0x31}),
          bytesOf({0x40, 0x41, 0x42, 0x43}),
          bytesOf({0x50, 0x51, 0x52, 0x53, 0x54, 0x55, 0x56, 0x57}),
          bytesOf({0x60, 0x61, 0x62, 0x63, 0x64, 0x65, 0x66, 0x67, 0x68, 0x69, 0x6a, 0x6b, 0x6c,
                   0x6d, 0x6e, 0x6f})};
}

HashStorage rfc6962Tree(std::size_t n) {
  HashStorage storage;
  const std::vector<std::string> leaves = rfc6962Leaves();
  for (std::size_t i = 0; i < n; ++i) storage.add(leaves[i]);
  return storage;
}

TEST(TlogHashTest, Rfc6962LeafAndNodeHashes) {
  // MTH of one empty leaf = SHA-256(0x00).
  EXPECT_EQ(recordHash(""),
            hexHash("6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d"));
  EXPECT_EQ(nodeHash(recordHash(""), recordHash(std::string("\x00", 1))),
            hexHash("fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125"));
}

TEST(TlogHashTest, Rfc6962TreeHashes) {
  const std::vector<std::string> roots = {
      "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
      "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
      "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
      "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
      "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
      "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
      "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
      "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328"};
  for (std::size_t n = 1; n <= roots.size(); ++n) {
    EXPECT_EQ(rfc6962Tree(n).tree().hash, hexHash(roots[n - 1])) << n;
  }
  // tlog.TreeHash(0) is the zero hash (RFC 6962's MTH({}) = SHA-256() is never used by Go).
  EXPECT_EQ(treeHash(0, rfc6962Tree(0).reader()).hash, Hash{});
}

TEST(TlogHashTest, Rfc6962AuditPathsAndConsistencyProofs) {
  const HashStorage tree8 = rfc6962Tree(8);
  const std::vector<Hash> path0 = {
      hexHash("96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7"),
      hexHash("5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e"),
      hexHash("6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4")};
  EXPECT_EQ(proveRecord(8, 0, tree8.reader()).proof, path0);
  const std::vector<Hash> path5 = {
      hexHash("bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b"),
      hexHash("ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0"),
      hexHash("d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7")};
  EXPECT_EQ(proveRecord(8, 5, tree8.reader()).proof, path5);
  EXPECT_TRUE(checkRecord(path5, 8, tree8.tree().hash, 5, recordHash(rfc6962Leaves()[5])).ok());
  const std::vector<Hash> proof_6_8 = {
      hexHash("0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a"),
      hexHash("ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0"),
      hexHash("d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7")};
  EXPECT_EQ(proveTree(8, 6, tree8.reader()).proof, proof_6_8);
  EXPECT_TRUE(checkTree(proof_6_8, 8, tree8.tree().hash, 6, rfc6962Tree(6).tree().hash).ok());
  const std::vector<Hash> proof_2_5 = {
      hexHash("5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e"),
      hexHash("bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b")};
  EXPECT_EQ(proveTree(5, 2, rfc6962Tree(5).reader()).proof, proof_2_5);
}

TEST(TlogIndexTest, SplitStoredHashIndexInvertsStoredHashIndex) {
  for (int l = 0; l < 10; ++l) {
    for (std::int64_t n = 0; n < 100; ++n) {
      const std::int64_t x = storedHashIndex(l, n);
      const auto split = splitStoredHashIndex(x);
      ASSERT_TRUE(split.has_value());
      EXPECT_EQ(*split, (StoredHashPosition{l, n})) << x;
    }
  }
  EXPECT_FALSE(splitStoredHashIndex(-1).has_value());
  EXPECT_EQ(storedHashIndex(0, 0), 0);
  EXPECT_EQ(storedHashIndex(0, 1), 1);
  EXPECT_EQ(storedHashIndex(1, 0), 2);
  EXPECT_EQ(storedHashIndex(0, 2), 3);
  EXPECT_EQ(storedHashCount(0), 0);
  EXPECT_EQ(storedHashCount(1), 1);
  EXPECT_EQ(storedHashCount(2), 3);
  EXPECT_EQ(storedHashCount(4), 7);
}

TEST(TlogTreeNoteTest, FormatAndParseTree) {
  // x/mod tlog/note_test.go.
  const std::string in =
      "go.sum database tree\n123456789012\nTszzRgjTG6xce+z2AG31kAXYKBgQVtCSCE40HmuwBb0=\n";
  const Tree tree{123456789012, recordHash("hello world")};
  EXPECT_EQ(formatTree(tree), in);
  EXPECT_EQ(parseTree(in), tree);
  for (const std::string& good : {in + "JOE", in + "JOE\n", in + "2024-01-01T00:00:00Z\n"}) {
    EXPECT_EQ(parseTree(good), tree) << good;
  }
  const std::vector<std::string> bad = {
      "not-" + in,
      "go.sum database tree\n0xabcdef\nTszzRgjTG6xce+z2AG31kAXYKBgQVtCSCE40HmuwBb0=\n",
      "go.sum database tree\n123456789012\nTszzRgjTG6xce+z2AG31kAXYKBgQVtCSCE40HmuwBTOOBIG=\n",
      "go.sum database tree\n0123\nTszzRgjTG6xce+z2AG31kAXYKBgQVtCSCE40HmuwBb0=\n",
      "go.sum database tree\n+123\nTszzRgjTG6xce+z2AG31kAXYKBgQVtCSCE40HmuwBb0=\n",
      "go.sum database tree\n-1\nTszzRgjTG6xce+z2AG31kAXYKBgQVtCSCE40HmuwBb0=\n",
      "go.sum database tree\n123456789012\nTszzRgjTG6xce+z2AG31kAXYKBgQVtCSCE40HmuwBb0=",
      "Go.sum database tree\n123456789012\nTszzRgjTG6xce+z2AG31kAXYKBgQVtCSCE40HmuwBb0=\n",
  };
  for (const std::string& b : bad) EXPECT_FALSE(parseTree(b).has_value()) << b;
}

// The 300-record log generated with x/mod tlog (tests/data/sumdb/gen_vectors.go.txt).
class Tlog300Test : public ::testing::Test {
 protected:
  void SetUp() override {
    records_ = loadRecords();
    vectors_ = loadVectors();
    ASSERT_EQ(records_.size(), 300U);
    for (const std::string& record : records_) storage_.add(record);
  }
  std::vector<std::string> records_;
  TlogVectors vectors_;
  HashStorage storage_;
};

TEST_F(Tlog300Test, RecordAndTreeHashesMatchGo) {
  ASSERT_EQ(vectors_.record_hashes.size(), 300U);
  for (const auto& [id, hash] : vectors_.record_hashes) {
    EXPECT_EQ(recordHash(records_[static_cast<std::size_t>(id)]), hash) << id;
  }
  EXPECT_EQ(vectors_.stored_count_size, 300);
  EXPECT_EQ(storedHashCount(300), vectors_.stored_count);
  EXPECT_EQ(static_cast<std::int64_t>(storage_.hashes().size()), vectors_.stored_count);
  ASSERT_FALSE(vectors_.tree_hashes.empty());
  for (const auto& [n, hash] : vectors_.tree_hashes) {
    const HashResult computed = treeHash(n, storage_.reader());
    ASSERT_TRUE(computed.ok()) << computed.error;
    EXPECT_EQ(computed.hash, hash) << n;
  }
}

TEST_F(Tlog300Test, InclusionProofsMatchGoAndVerify) {
  ASSERT_FALSE(vectors_.inclusion.empty());
  for (const auto& v : vectors_.inclusion) {
    const ProofResult proof = proveRecord(v.t, v.n, storage_.reader());
    ASSERT_TRUE(proof.ok()) << proof.error;
    EXPECT_EQ(proof.proof, v.proof) << v.t << " " << v.n;
    const Hash& tree_hash = vectors_.tree_hashes.at(v.t);
    const Hash& leaf = vectors_.record_hashes.at(v.n);
    EXPECT_TRUE(checkRecord(v.proof, v.t, tree_hash, v.n, leaf).ok()) << v.t << " " << v.n;
  }
}

TEST_F(Tlog300Test, InclusionCheckRejectsAnyFlippedBit) {
  for (const auto& v : vectors_.inclusion) {
    const Hash& tree_hash = vectors_.tree_hashes.at(v.t);
    const Hash& leaf = vectors_.record_hashes.at(v.n);
    for (std::size_t i = 0; i < v.proof.size(); ++i) {
      Proof bad = v.proof;
      bad[i][i % kHashSize] ^= 0x80U;
      EXPECT_FALSE(checkRecord(bad, v.t, tree_hash, v.n, leaf).ok());
    }
    Hash bad_leaf = leaf;
    bad_leaf[7] ^= 0x01U;
    EXPECT_FALSE(checkRecord(v.proof, v.t, tree_hash, v.n, bad_leaf).ok());
    Hash bad_tree = tree_hash;
    bad_tree[31] ^= 0x01U;
    EXPECT_EQ(checkRecord(v.proof, v.t, bad_tree, v.n, leaf).error, "invalid transparency proof");
    Proof longer = v.proof;
    longer.push_back(leaf);
    EXPECT_FALSE(checkRecord(longer, v.t, tree_hash, v.n, leaf).ok());
    if (!v.proof.empty()) {
      EXPECT_FALSE(
          checkRecord(Proof(v.proof.begin(), v.proof.end() - 1), v.t, tree_hash, v.n, leaf).ok());
    }
  }
  EXPECT_FALSE(checkRecord({}, 300, vectors_.tree_hashes.at(300), 300, Hash{}).ok());
  EXPECT_FALSE(checkRecord({}, 300, vectors_.tree_hashes.at(300), -1, Hash{}).ok());
}

TEST_F(Tlog300Test, ConsistencyProofsMatchGoAndVerify) {
  ASSERT_FALSE(vectors_.consistency.empty());
  for (const auto& v : vectors_.consistency) {
    const ProofResult proof = proveTree(v.t, v.n, storage_.reader());
    ASSERT_TRUE(proof.ok()) << proof.error;
    EXPECT_EQ(proof.proof, v.proof) << v.t << " " << v.n;
    const Hash new_hash = treeHash(v.t, storage_.reader()).hash;
    const Hash old_hash = treeHash(v.n, storage_.reader()).hash;
    EXPECT_TRUE(checkTree(v.proof, v.t, new_hash, v.n, old_hash).ok()) << v.t << " " << v.n;
    for (std::size_t i = 0; i < v.proof.size(); ++i) {
      Proof bad = v.proof;
      bad[i][3] ^= 0x04U;
      EXPECT_FALSE(checkTree(bad, v.t, new_hash, v.n, old_hash).ok()) << v.t << " " << v.n;
    }
    Hash bad_old = old_hash;
    bad_old[0] ^= 0x01U;
    EXPECT_FALSE(checkTree(v.proof, v.t, new_hash, v.n, bad_old).ok());
    Hash bad_new = new_hash;
    bad_new[0] ^= 0x01U;
    EXPECT_FALSE(checkTree(v.proof, v.t, bad_new, v.n, old_hash).ok());
  }
  EXPECT_FALSE(checkTree({}, 300, vectors_.tree_hashes.at(300), 0, Hash{}).ok());
  EXPECT_FALSE(proveTree(100, 300, storage_.reader()).ok());
  EXPECT_FALSE(proveRecord(300, 300, storage_.reader()).ok());
}

TEST(TlogReaderTest, ReaderErrorsAndShortAnswersAreReported) {
  const HashReader failing = [](std::span<const std::int64_t>) { return HashesResult{{}, "boom"}; };
  EXPECT_EQ(treeHash(5, failing).error, "boom");
  const HashReader short_reader = [](std::span<const std::int64_t>) { return HashesResult{}; };
  EXPECT_EQ(treeHash(5, short_reader).error, "tlog: ReadHashes(2 indexes) = 0 hashes");
  EXPECT_FALSE(proveRecord(5, 1, short_reader).ok());
  EXPECT_FALSE(proveTree(5, 3, short_reader).ok());
  EXPECT_FALSE(treeHash(-1, short_reader).ok());
  EXPECT_FALSE(treeHash(kMaxTreeSize + 1, short_reader).ok());
}

}  // namespace
}  // namespace gomodprobe::sumdb
