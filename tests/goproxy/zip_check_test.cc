#include "goproxy/zip_check.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstdint>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include "goproxy/goproxy_test_data.h"

namespace gomodprobe::goproxy {
namespace {

using test_data::Archive;
using test_data::parseArchive;
using test_data::readDataFile;
using test_data::splitLines;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Optional;

constexpr std::string_view kPrefix = "example.com/m@v1.0.0/";

std::string entry(std::string_view name) { return std::string(kPrefix) + std::string(name); }

TEST(GoproxyZipCheckTest, AcceptsAWellFormedModule) {
  ZipChecker checker("example.com/m", "v1.0.0");
  EXPECT_EQ(checker.addEntry(entry(""), 0), std::nullopt);  // the bare prefix is skipped
  EXPECT_EQ(checker.addEntry(entry("go.mod"), 30), std::nullopt);
  EXPECT_EQ(checker.addEntry(entry("LICENSE"), 1000), std::nullopt);
  EXPECT_EQ(checker.addEntry(entry("pkg/"), 0), std::nullopt);  // explicit directory
  EXPECT_EQ(checker.addEntry(entry("pkg/a.go"), 100), std::nullopt);
  EXPECT_EQ(checker.addEntry(entry("pkg/\xce\xb1 file.go"), 100), std::nullopt);  // "α file.go"
  EXPECT_EQ(checker.finish(), std::nullopt);
  EXPECT_THAT(checker.valid(), ElementsAre(entry("go.mod"), entry("LICENSE"), entry("pkg/a.go"),
                                           entry("pkg/\xce\xb1 file.go")));
  EXPECT_EQ(checker.totalSize(), 1230U);
}

TEST(GoproxyZipCheckTest, RejectsNamesOutsideThePrefix) {
  ZipChecker checker("example.com/m", "v1.0.0");
  EXPECT_THAT(checker.addEntry("example.com/m@v1.0.1/go.mod", 1),
              Optional(std::string("path does not have prefix \"example.com/m@v1.0.0/\"")));
  EXPECT_THAT(checker.addEntry("go.mod", 1), Optional(HasSubstr("does not have prefix")));
  EXPECT_THAT(checker.finish(),
              Optional(std::string("example.com/m@v1.0.1/go.mod: path does not have prefix "
                                   "\"example.com/m@v1.0.0/\"\ngo.mod: path does not have prefix "
                                   "\"example.com/m@v1.0.0/\"")));
}

TEST(GoproxyZipCheckTest, RejectsUncleanAndInvalidPaths) {
  ZipChecker checker("example.com/m", "v1.0.0");
  EXPECT_THAT(checker.addEntry(entry("a/../b.go"), 1),
              Optional(std::string("file path is not clean")));
  EXPECT_THAT(checker.addEntry(entry("a//b.go"), 1),
              Optional(std::string("file path is not clean")));
  EXPECT_THAT(checker.addEntry(entry("../b.go"), 1),
              Optional(HasSubstr("invalid path element \"..\"")));
  EXPECT_THAT(checker.addEntry(entry("/b.go"), 1), Optional(HasSubstr("empty path element")));
  EXPECT_THAT(checker.addEntry(entry("a\\b.go"), 1), Optional(HasSubstr("invalid char '\\\\'")));
  EXPECT_THAT(checker.addEntry(entry("x\xff.go"), 1), Optional(HasSubstr("invalid UTF-8")));
  EXPECT_THAT(checker.addEntry(entry("aux.go"), 1), Optional(HasSubstr("disallowed")));
  EXPECT_TRUE(checker.valid().empty());
  EXPECT_TRUE(checker.finish().has_value());
}

TEST(GoproxyZipCheckTest, RejectsCaseFoldCollisionsAndDuplicates) {
  ZipChecker checker("example.com/m", "v1.0.0");
  EXPECT_EQ(checker.addEntry(entry("Dir/a.go"), 1), std::nullopt);
  EXPECT_THAT(checker.addEntry(entry("dir/b.go"), 1),
              Optional(std::string("case-insensitive file name collision: \"Dir\" and \"dir\"")));
  EXPECT_THAT(checker.addEntry(entry("Dir/a.go"), 1),
              Optional(std::string("multiple entries for file \"Dir/a.go\"")));
  EXPECT_THAT(checker.addEntry(entry("Dir"), 1),
              Optional(std::string("entry \"Dir\" is both a file and a directory")));
  // Unicode simple folding: the Kelvin sign folds with k, the long s with s.
  EXPECT_EQ(checker.addEntry(entry("k.go"), 1), std::nullopt);
  EXPECT_THAT(checker.addEntry(entry("\xe2\x84\xaa.go"), 1), Optional(HasSubstr("collision")));
  EXPECT_EQ(checker.addEntry(entry("s.go"), 1), std::nullopt);
  EXPECT_THAT(checker.addEntry(entry("\xc5\xbf.go"), 1), Optional(HasSubstr("collision")));
  EXPECT_EQ(checker.addEntry(entry("\xce\xa3.go"), 1), std::nullopt);                        // Σ
  EXPECT_THAT(checker.addEntry(entry("\xcf\x82.go"), 1), Optional(HasSubstr("collision")));  // ς
}

TEST(GoproxyZipCheckTest, RequiresLowerCaseGoModInTheRoot) {
  ZipChecker checker("example.com/m", "v1.0.0");
  EXPECT_THAT(checker.addEntry(entry("GO.MOD"), 1),
              Optional(std::string("go.mod files must have lowercase names")));
  EXPECT_THAT(checker.addEntry(entry("sub/go.mod"), 1),
              Optional(std::string("go.mod file not in module root directory")));
  EXPECT_EQ(checker.addEntry(entry("sub/go.mod.bak"), 1), std::nullopt);
}

TEST(GoproxyZipCheckTest, EnforcesFileSizeLimits) {
  ZipChecker checker("example.com/m", "v1.0.0");
  EXPECT_EQ(checker.addEntry(entry("go.mod"), kMaxGoMod), std::nullopt);
  EXPECT_EQ(checker.addEntry(entry("LICENSE"), kMaxLicense), std::nullopt);
  ZipChecker big("example.com/m", "v1.0.0");
  EXPECT_THAT(big.addEntry(entry("go.mod"), kMaxGoMod + 1),
              Optional(std::string("go.mod file too large (max size is 16777216 bytes)")));
  EXPECT_THAT(big.addEntry(entry("LICENSE"), kMaxLicense + 1),
              Optional(std::string("LICENSE file too large (max size is 16777216 bytes)")));
  EXPECT_EQ(big.addEntry(entry("sub/LICENSE"), kMaxLicense + 1), std::nullopt);  // only the root
}

TEST(GoproxyZipCheckTest, EnforcesTotalUncompressedSize) {
  ZipChecker exact("example.com/m", "v1.0.0");
  EXPECT_EQ(exact.addEntry(entry("a.bin"), kMaxZipFile - 1), std::nullopt);
  EXPECT_EQ(exact.addEntry(entry("b.bin"), 1), std::nullopt);
  EXPECT_EQ(exact.finish(), std::nullopt);
  EXPECT_EQ(exact.totalSize(), kMaxZipFile);

  ZipChecker over("example.com/m", "v1.0.0");
  EXPECT_EQ(over.addEntry(entry("a.bin"), kMaxZipFile), std::nullopt);
  EXPECT_EQ(over.addEntry(entry("b.bin"), 1), std::nullopt);  // not an entry error
  EXPECT_THAT(over.finish(), Optional(std::string("total uncompressed size of module contents too "
                                                  "large (max size is 524288000 bytes)")));

  ZipChecker huge("example.com/m", "v1.0.0");
  EXPECT_EQ(huge.addEntry(entry("a.bin"), UINT64_MAX), std::nullopt);
  EXPECT_THAT(huge.finish(), Optional(HasSubstr("too large")));

  EXPECT_EQ(checkZipFileSize(kMaxZipFile), std::nullopt);
  EXPECT_THAT(checkZipFileSize(kMaxZipFile + 1),
              Optional(std::string("module zip file is too large (524288001 bytes; limit is "
                                   "524288000 bytes)")));
}

TEST(GoproxyZipCheckTest, RejectsInvalidModuleVersions) {
  ZipChecker checker("example.com/m", "v1.0");
  EXPECT_THAT(checker.addEntry("example.com/m@v1.0/go.mod", 1),
              Optional(std::string("version \"v1.0\" is not canonical (should be \"v1.0.0\")")));
  EXPECT_THAT(checker.finish(), Optional(HasSubstr("not canonical")));
  ZipChecker major("example.com/m/v2", "v1.0.0");
  EXPECT_THAT(major.finish(), Optional(HasSubstr("should be v2, not v1")));
}

TEST(GoproxyZipCheckTest, MatchesGoCheckZipOnTestdataModules) {
  int archives = 0;
  std::string archive_name;
  std::string module_path;
  std::string version;
  for (const std::string& line : splitLines(readDataFile("hash_vectors.txt"))) {
    if (line.starts_with("archive ")) {
      std::istringstream in(line);
      std::string kind;
      std::string module_word;
      in >> kind >> archive_name >> module_word >> module_path >> version;
      continue;
    }
    if (!line.starts_with("check ")) continue;
    SCOPED_TRACE(archive_name);
    ++archives;
    std::string want = line.substr(std::string_view("check ").size());
    std::optional<std::string> want_error;
    if (want.starts_with("error ")) {
      std::string text = want.substr(std::string_view("error ").size());
      for (std::size_t pos = 0; (pos = text.find("\\n", pos)) != std::string::npos;) {
        text.replace(pos, 2, "\n");
      }
      want_error = text;
    } else {
      ASSERT_EQ(want, "ok");
    }
    const Archive archive = parseArchive(readDataFile(archive_name));
    ZipChecker checker(module_path, version);
    for (const auto& file : archive.files) {
      if (file.name == ".mod" || file.name == ".info") continue;
      (void)checker.addEntry(module_path + "@" + version + "/" + file.name, file.data.size());
    }
    EXPECT_EQ(checker.finish(), want_error);
  }
  EXPECT_EQ(archives, 10);
}

}  // namespace
}  // namespace gomodprobe::goproxy
