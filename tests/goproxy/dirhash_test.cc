#include "goproxy/dirhash.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <optional>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "goproxy/goproxy_test_data.h"

namespace gomodprobe::goproxy {
namespace {

using test_data::Archive;
using test_data::parseArchive;
using test_data::readDataFile;
using test_data::splitLines;
using ::testing::Optional;

// The known go.sum entry "rsc.io/quote v1.5.2/go.mod h1:LzX7...".
constexpr std::string_view kQuoteGoMod =
    "module \"rsc.io/quote\"\n\nrequire \"rsc.io/sampler\" v1.3.0\n";

TEST(DirhashTest, GoModHashMatchesGoSumOfRscIoQuote) {
  EXPECT_EQ(goModHash(kQuoteGoMod), "h1:LzX7hefJvL54yjefDEDHNONDjII0t9xZLPXsUe+TKr0=");
}

TEST(DirhashTest, Sha256StreamMatchesKnownDigestsInAnyChunking) {
  EXPECT_EQ(hexDigest(Sha256Stream::digest("")),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(hexDigest(Sha256Stream::digest("abc")),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  Sha256Stream s;
  s.update("a");
  s.update("");
  s.update("bc");
  EXPECT_EQ(hexDigest(s.final()),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  // final() resets the stream.
  EXPECT_EQ(hexDigest(s.final()),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  Sha256Stream moved = std::move(s);
  moved.update("abc");
  EXPECT_EQ(hexDigest(moved.final()),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

TEST(DirhashTest, Base64MatchesStdEncoding) {
  const std::string abc = "abcd";
  const auto* bytes = reinterpret_cast<const std::uint8_t*>(abc.data());
  EXPECT_EQ(base64Encode(bytes, 0), "");
  EXPECT_EQ(base64Encode(bytes, 1), "YQ==");
  EXPECT_EQ(base64Encode(bytes, 2), "YWI=");
  EXPECT_EQ(base64Encode(bytes, 3), "YWJj");
  EXPECT_EQ(base64Encode(bytes, 4), "YWJjZA==");
}

TEST(DirhashTest, Hash1IsOrderIndependentAndSortsBytewise) {
  // The summary that Hash1 hashes, built by hand: lines sorted by name ('Z' < 'a' < 'é').
  const Sha256Digest one = Sha256Stream::digest("one");
  const Sha256Digest two = Sha256Stream::digest("two");
  const Sha256Digest three = Sha256Stream::digest("three");
  const std::string summary =
      hexDigest(two) + "  Z\n" + hexDigest(one) + "  a/b\n" + hexDigest(three) + "  \xc3\xa9\n";
  const Sha256Digest sum = Sha256Stream::digest(summary);
  const std::string want = "h1:" + base64Encode(sum.data(), sum.size());

  Hash1Builder forward;
  EXPECT_EQ(forward.addFile("a/b", one), std::nullopt);
  EXPECT_EQ(forward.addFile("Z", two), std::nullopt);
  EXPECT_EQ(forward.addFile("\xc3\xa9", three), std::nullopt);
  Hash1Builder backward;
  EXPECT_EQ(backward.addFile("\xc3\xa9", three), std::nullopt);
  EXPECT_EQ(backward.addFile("Z", two), std::nullopt);
  EXPECT_EQ(backward.addFile("a/b", one), std::nullopt);
  EXPECT_THAT(forward.finish(), Optional(want));
  EXPECT_THAT(backward.finish(), Optional(want));
}

TEST(DirhashTest, Hash1RejectsNewlinesInNames) {
  Hash1Builder builder;
  EXPECT_EQ(builder.addFile("ok", Sha256Stream::digest("x")), std::nullopt);
  EXPECT_THAT(builder.addFile("bad\nname", Sha256Stream::digest("x")),
              Optional(std::string("dirhash: filenames with newlines are not supported")));
  EXPECT_EQ(builder.finish(), std::nullopt);
}

TEST(DirhashTest, EmptyGoModHashIsTheLegacyConstant) {
  // cmd/go/internal/modfetch/fetch.go: emptyGoModHash.
  EXPECT_EQ(goModHash(""), "h1:G7mAYYxgmS0lVkHyy2hEOLQCFB0DlQFTMLWggykrydY=");
}

// One archive's expectations from hash_vectors.txt.
struct HashVector {
  std::string archive;
  std::string module_path;
  std::string version;
  std::string go_mod_hash;
  std::string zip_hash;
};

std::vector<HashVector> hashVectors() {
  std::vector<HashVector> out;
  for (const std::string& line : splitLines(readDataFile("hash_vectors.txt"))) {
    if (line.empty() || line.front() == '#') continue;
    std::istringstream in(line);
    std::string kind;
    in >> kind;
    if (kind == "archive") {
      HashVector v;
      std::string module_word;
      in >> v.archive >> module_word >> v.module_path >> v.version;
      out.push_back(std::move(v));
    } else if (kind == "gomod" && !out.empty()) {
      in >> out.back().go_mod_hash;
    } else if (kind == "zip" && !out.empty()) {
      in >> out.back().zip_hash;
    }
  }
  return out;
}

TEST(DirhashTest, MatchesGoDirhashOnTestdataModules) {
  const std::vector<HashVector> vectors = hashVectors();
  ASSERT_EQ(vectors.size(), 10U);
  for (const HashVector& v : vectors) {
    SCOPED_TRACE(v.archive);
    const Archive archive = parseArchive(readDataFile(v.archive));
    ASSERT_FALSE(archive.files.empty());
    Hash1Builder zip;
    bool saw_mod = false;
    for (const auto& file : archive.files) {
      if (file.name == ".mod") {
        EXPECT_EQ(goModHash(file.data), v.go_mod_hash);
        saw_mod = true;
        continue;
      }
      if (file.name == ".info") continue;
      // Stream the contents in small pieces, as a zip reader would.
      Sha256Stream sha;
      for (std::size_t i = 0; i < file.data.size(); i += 7) sha.update(file.data.substr(i, 7));
      EXPECT_EQ(zip.addFile(v.module_path + "@" + v.version + "/" + file.name, sha.final()),
                std::nullopt);
    }
    EXPECT_TRUE(saw_mod);
    EXPECT_THAT(zip.finish(), Optional(v.zip_hash));
  }
}

}  // namespace
}  // namespace gomodprobe::goproxy
