#include "sumdb/lookup.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "sumdb/note.h"
#include "sumdb_test_util.h"

namespace gomodprobe::sumdb {
namespace {

using testing::FileTileServer;
using testing::loadRecords;
using testing::readDataFile;
using testing::splitLines;

TEST(SumdbRecordTest, ParseRecordLikeXMod) {
  // x/mod tlog/note_test.go TestParseRecord.
  const LookupParseResult parsed =
      parseLookupResponse("123456789012\nhello, world\n\njunk on end\x01\xff");
  ASSERT_TRUE(parsed.ok()) << parsed.error;
  EXPECT_EQ(parsed.record->id, 123456789012);
  EXPECT_EQ(parsed.record->text, "hello, world\n");
  EXPECT_EQ(parsed.record->signed_note, "junk on end\x01\xff");
  const LookupParseResult empty_rest = parseLookupResponse("123456789012\nhello, world\n\n");
  ASSERT_TRUE(empty_rest.ok());
  EXPECT_EQ(empty_rest.record->signed_note, "");
  for (const std::string bad :
       {"not-123456789012\nhello, world\n\n", "123\nhello\x01world\n\n", "123\nhello\xffworld\n\n",
        "123\nhello world\n", "0x123\nhello world\n\n", "123", "\nhello\n\n"}) {
    const LookupParseResult result = parseLookupResponse(bad);
    EXPECT_FALSE(result.ok()) << bad;
    EXPECT_EQ(result.error, "malformed record data");
  }
}

TEST(SumdbRecordTest, FormatRecordLikeXMod) {
  EXPECT_EQ(formatRecord(123456789012, "hello, world\n"), "123456789012\nhello, world\n\n");
  for (const std::string bad : {"", "hello\nworld", "hello\n\nworld\n", "hello\x01world\n"}) {
    EXPECT_FALSE(formatRecord(1, bad).has_value()) << bad;
  }
}

TEST(SumdbRecordTest, MatchingGoSumLinesSelectsByPathAndVersion) {
  const std::string text =
      "example.com/m v1.0.0 h1:aaa=\n"
      "example.com/m v1.0.0/go.mod h1:bbb=\n"
      "example.com/mx v1.0.0 h1:ccc=\n";
  EXPECT_EQ(matchingGoSumLines(text, "example.com/m", "v1.0.0"),
            std::vector<std::string>{"example.com/m v1.0.0 h1:aaa="});
  EXPECT_EQ(matchingGoSumLines(text, "example.com/m", "v1.0.0/go.mod"),
            std::vector<std::string>{"example.com/m v1.0.0/go.mod h1:bbb="});
  EXPECT_TRUE(matchingGoSumLines(text, "example.com/m", "v1.0.1").empty());
}

// The /lookup response for record 257 served by x/mod's sumdb.Server over the 300-record log.
class SumdbLookupTest : public ::testing::Test {
 protected:
  void SetUp() override {
    body_ = readDataFile("tlog300/lookup_257.txt");
    ASSERT_FALSE(body_.empty());
    const std::string key = splitLines(readDataFile("note_keys.txt")).at(0);
    verifiers_.push_back(Verifier::parse(key).verifier.value());
  }
  std::string body_;
  std::vector<Verifier> verifiers_;
  FileTileServer server_;
};

TEST_F(SumdbLookupTest, ParsesOpensAndAuthenticatesTheRecord) {
  const LookupParseResult parsed = parseLookupResponse(body_);
  ASSERT_TRUE(parsed.ok()) << parsed.error;
  EXPECT_EQ(parsed.record->id, 257);
  EXPECT_EQ(parsed.record->text, loadRecords().at(257));
  EXPECT_EQ(parsed.record->signed_note, readDataFile("tlog300/latest.note"));

  const OpenNoteResult note = openNote(parsed.record->signed_note, verifiers_);
  ASSERT_TRUE(note.ok()) << note.error;
  const std::optional<Tree> tree = parseTree(note.note->text);
  ASSERT_TRUE(tree.has_value());
  EXPECT_EQ(tree->n, 300);

  const TileHashReader reader(*tree, kDefaultTileHeight, server_.fetcher());
  const CheckResult check = checkRecordWithTiles(reader, parsed.record->id, parsed.record->text);
  EXPECT_TRUE(check.ok()) << check.error;
  EXPECT_EQ(matchingGoSumLines(parsed.record->text, "example.com/mod257", "v1.5.0").size(), 1U);
  EXPECT_EQ(matchingGoSumLines(parsed.record->text, "example.com/mod257", "v1.5.0/go.mod").size(),
            1U);
}

TEST_F(SumdbLookupTest, AlteredRecordOrWrongIdIsNotAuthenticated) {
  const LookupParseResult parsed = parseLookupResponse(body_);
  ASSERT_TRUE(parsed.ok());
  const Tree tree = parseTree(openNote(parsed.record->signed_note, verifiers_).note->text).value();
  const TileHashReader reader(tree, kDefaultTileHeight, server_.fetcher());

  std::string altered = parsed.record->text;
  altered[altered.find("h1:") + 3] ^= 0x01;
  EXPECT_EQ(checkRecordWithTiles(reader, 257, altered).error,
            "cannot authenticate record data in server response");
  EXPECT_FALSE(checkRecordWithTiles(reader, 256, parsed.record->text).ok());
  EXPECT_EQ(checkRecordWithTiles(reader, 300, parsed.record->text).error,
            "cannot validate record 300 in tree of size 300");
  EXPECT_FALSE(checkRecordWithTiles(reader, -1, parsed.record->text).ok());
}

TEST_F(SumdbLookupTest, TamperedTreeNoteIsABadSignature) {
  std::string body = body_;
  const std::size_t size_at = body.find("\n300\n");
  ASSERT_NE(size_at, std::string::npos);
  body.replace(size_at, 5, "\n301\n");
  const LookupParseResult parsed = parseLookupResponse(body);
  ASSERT_TRUE(parsed.ok());
  EXPECT_EQ(openNote(parsed.record->signed_note, verifiers_).status, NoteStatus::BadSignature);
}

TEST_F(SumdbLookupTest, OlderSignedTreeIsAPrefixOfTheLatest) {
  const OpenNoteResult old_note = openNote(readDataFile("tlog300/tree100.note"), verifiers_);
  const OpenNoteResult new_note = openNote(readDataFile("tlog300/latest.note"), verifiers_);
  ASSERT_TRUE(old_note.ok() && new_note.ok());
  const Tree older = parseTree(old_note.note->text).value();
  const Tree newer = parseTree(new_note.note->text).value();
  ASSERT_EQ(older.n, 100);
  const TileHashReader reader(newer, kDefaultTileHeight, server_.fetcher());
  // As sumdb.Client.checkTrees does, and as an RFC 6962 consistency proof from the same tiles.
  EXPECT_TRUE(checkOlderTree(reader, older).ok());
  const ProofResult proof = proveTree(newer.n, older.n, reader.hashReader());
  ASSERT_TRUE(proof.ok()) << proof.error;
  EXPECT_TRUE(checkTree(proof.proof, newer.n, newer.hash, older.n, older.hash).ok());
}

}  // namespace
}  // namespace gomodprobe::sumdb
