#include "goproxy/zip_hash.h"

#include <archive.h>
#include <archive_entry.h>
#include <gtest/gtest.h>

#include <cstdio>
#include <memory>
#include <ostream>
#include <string>
#include <utility>
#include <vector>

#include "goproxy/dirhash.h"
#include "goproxy/goproxy_test_data.h"

namespace gomodprobe::goproxy {
namespace {

struct FileCloser {
  void operator()(std::FILE* f) const noexcept { std::fclose(f); }
};
using File = std::unique_ptr<std::FILE, FileCloser>;

/// A zip written by libarchive (deflate, or store) into an anonymous temp file. libarchive
/// streams: every entry has a signed data descriptor, as in Go's zips.
File makeZip(const std::vector<std::pair<std::string, std::string>>& files,
             const char* compression = "deflate") {
  File out(std::tmpfile());
  archive* a = archive_write_new();
  archive_write_set_format_zip(a);
  archive_write_set_options(a, (std::string("zip:compression=") + compression).c_str());
  archive_write_open_FILE(a, out.get());
  for (const auto& [name, data] : files) {
    archive_entry* e = archive_entry_new();
    archive_entry_set_pathname(e, name.c_str());
    archive_entry_set_size(e, static_cast<la_int64_t>(data.size()));
    archive_entry_set_filetype(e, AE_IFREG);
    archive_entry_set_perm(e, 0644);
    archive_write_header(a, e);
    archive_write_data(a, data.data(), data.size());
    archive_entry_free(e);
  }
  archive_write_close(a);
  archive_write_free(a);
  std::fflush(out.get());
  return out;
}

std::string expectedHash(const std::vector<std::pair<std::string, std::string>>& files) {
  Hash1Builder builder;
  for (const auto& [name, data] : files) {
    EXPECT_FALSE(builder.addFile(name, Sha256Stream::digest(data)).has_value());
  }
  return builder.finish().value_or("");
}

TEST(ZipHashTest, HashesAValidModuleZipLikeHashZip) {
  const std::vector<std::pair<std::string, std::string>> files = {
      {"example.com/m@v1.0.0/go.mod", "module example.com/m\n"},
      {"example.com/m@v1.0.0/m.go", "package m\n\nfunc F() {}\n"},
      {"example.com/m@v1.0.0/sub/LICENSE", std::string(100000, 'x')},
  };
  File zip = makeZip(files);
  const auto result = hashModuleZip(zip.get(), "example.com/m", "v1.0.0");
  ASSERT_TRUE(result.ok) << result.error;
  EXPECT_EQ(result.hash, expectedHash(files));
  EXPECT_EQ(result.files, 3U);
  std::uint64_t total = 0;
  for (const auto& file : files) total += file.second.size();
  EXPECT_EQ(result.bytes, total);
}

TEST(ZipHashTest, OneChangedByteChangesTheHash) {
  File a = makeZip({{"example.com/m@v1.0.0/go.mod", "module example.com/m\n"}});
  File b = makeZip({{"example.com/m@v1.0.0/go.mod", "module example.com/n\n"}});
  const auto ha = hashModuleZip(a.get(), "example.com/m", "v1.0.0");
  const auto hb = hashModuleZip(b.get(), "example.com/m", "v1.0.0");
  ASSERT_TRUE(ha.ok && hb.ok);
  EXPECT_NE(ha.hash, hb.hash);
}

TEST(ZipHashTest, RejectsEntriesOutsideTheModulePrefix) {
  File zip = makeZip({{"example.com/m@v1.0.0/go.mod", "module example.com/m\n"},
                      {"example.com/other@v1.0.0/x.go", "package x\n"}});
  const auto result = hashModuleZip(zip.get(), "example.com/m", "v1.0.0");
  EXPECT_FALSE(result.ok);
  EXPECT_NE(result.error.find("example.com/other@v1.0.0/x.go"), std::string::npos) << result.error;
}

TEST(ZipHashTest, RejectsCaseFoldCollisions) {
  File zip = makeZip({{"example.com/m@v1.0.0/README", "a"}, {"example.com/m@v1.0.0/readme", "b"}});
  const auto result = hashModuleZip(zip.get(), "example.com/m", "v1.0.0");
  EXPECT_FALSE(result.ok);
  EXPECT_NE(result.error.find("case-insensitive"), std::string::npos) << result.error;
}

TEST(ZipHashTest, RejectsSomethingThatIsNotAZip) {
  File f(std::tmpfile());
  std::fputs("<html>502 Bad Gateway</html>", f.get());
  const auto result = hashModuleZip(f.get(), "example.com/m", "v1.0.0");
  EXPECT_FALSE(result.ok);
  EXPECT_FALSE(result.error.empty());
}

TEST(ZipHashTest, RejectsAnEntryThatInflatesPastItsDeclaredSize) {
  // A 4 MiB entry whose central-directory and local sizes are patched down to 16 bytes: the
  // bomb's headers lie, the deflate stream does not.
  const std::string payload(4 << 20, '\0');
  File zip = makeZip({{"example.com/m@v1.0.0/bomb", payload}});
  std::fseek(zip.get(), 0, SEEK_END);
  std::vector<unsigned char> bytes(static_cast<std::size_t>(std::ftell(zip.get())));
  std::rewind(zip.get());
  ASSERT_EQ(std::fread(bytes.data(), 1, bytes.size(), zip.get()), bytes.size());
  int patched = 0;
  const auto u32 = [&](std::size_t at) {
    return static_cast<std::uint32_t>(bytes[at] | bytes[at + 1] << 8 | bytes[at + 2] << 16 |
                                      static_cast<std::uint32_t>(bytes[at + 3]) << 24);
  };
  for (std::size_t i = 0; i + 46 <= bytes.size(); ++i) {
    // Central directory header: uncompressed size at +24.
    if (u32(i) == 0x02014b50U && u32(i + 24) == payload.size()) {
      bytes[i + 24] = 16;
      bytes[i + 25] = bytes[i + 26] = bytes[i + 27] = 0;
      ++patched;
    }
    // Data descriptor (libarchive streams): uncompressed size at +12.
    if (u32(i) == 0x08074b50U && u32(i + 12) == payload.size()) {
      bytes[i + 12] = 16;
      bytes[i + 13] = bytes[i + 14] = bytes[i + 15] = 0;
      ++patched;
    }
  }
  ASSERT_GE(patched, 1);
  File bomb(std::tmpfile());
  std::fwrite(bytes.data(), 1, bytes.size(), bomb.get());
  const auto result = hashModuleZip(bomb.get(), "example.com/m", "v1.0.0");
  EXPECT_FALSE(result.ok);
  EXPECT_LT(result.bytes, payload.size());
  EXPECT_FALSE(result.error.empty());
}

// Found by fuzzing (tests/fuzz/fuzz_zip): a mangled central directory on which libarchive fails
// without setting an error string; building the message from its NULL crashed the probe (when the
// zip hashing used libarchive). Still invalid, with a message.
TEST(ZipHashTest, MalformedZipWithoutLibarchiveMessageIsInvalid) {
  const File zip(
      std::fopen((test_data::kGoproxyDataDir + "/fuzz_zip_no_error_string.zip").c_str(), "rb"));
  ASSERT_NE(zip, nullptr);
  const ZipHashResult result = hashModuleZip(zip.get(), "example.com/m", "v1.0.0");
  EXPECT_FALSE(result.ok);
  EXPECT_FALSE(result.error.empty());
}

std::vector<unsigned char> bytesOf(std::FILE* f) {
  std::fseek(f, 0, SEEK_END);
  std::vector<unsigned char> bytes(static_cast<std::size_t>(std::ftell(f)));
  std::rewind(f);
  EXPECT_EQ(std::fread(bytes.data(), 1, bytes.size(), f), bytes.size());
  return bytes;
}

File fileOf(const std::vector<unsigned char>& bytes) {
  File f(std::tmpfile());
  std::fwrite(bytes.data(), 1, bytes.size(), f.get());
  std::fflush(f.get());
  return f;
}

std::uint32_t le32At(const std::vector<unsigned char>& b, std::size_t at) {
  return static_cast<std::uint32_t>(b[at] | b[at + 1] << 8 | b[at + 2] << 16 |
                                    static_cast<std::uint32_t>(b[at + 3]) << 24);
}

/// Offsets of every record with `signature` (local 0x04034b50, central 0x02014b50, data
/// descriptor 0x08074b50).
std::vector<std::size_t> records(const std::vector<unsigned char>& b, std::uint32_t signature) {
  std::vector<std::size_t> at;
  for (std::size_t i = 0; i + 4 <= b.size(); ++i) {
    if (le32At(b, i) == signature) at.push_back(i);
  }
  return at;
}

/// Many files (some compressible, some not) totalling more than the single-thread threshold.
std::vector<std::pair<std::string, std::string>> manyFiles() {
  std::vector<std::pair<std::string, std::string>> files;
  files.emplace_back("example.com/m@v1.0.0/go.mod", "module example.com/m\n");
  std::uint32_t x = 12345;
  for (int i = 0; i < 40; ++i) {
    std::string data(static_cast<std::size_t>(50000 + i * 7919), '\0');
    for (char& c : data) {
      x = x * 1103515245U + 12345U;
      c = static_cast<char>(i % 2 == 0 ? 'a' + (x >> 28U) : x >> 24U);
    }
    files.emplace_back("example.com/m@v1.0.0/f" + std::to_string(100 + i) + ".txt",
                       std::move(data));
  }
  return files;
}

TEST(ZipHashTest, OneThreadAndSeveralGiveTheSameHash) {
  const auto files = manyFiles();
  File zip = makeZip(files);
  const auto one = hashModuleZip(zip.get(), "example.com/m", "v1.0.0", 1);
  const auto four = hashModuleZip(zip.get(), "example.com/m", "v1.0.0", 4);
  ASSERT_TRUE(one.ok) << one.error;
  ASSERT_TRUE(four.ok) << four.error;
  EXPECT_EQ(one.threads, 1U);
  EXPECT_EQ(four.threads, 4U);
  EXPECT_EQ(one.hash, expectedHash(files));
  EXPECT_EQ(four.hash, one.hash);
  EXPECT_EQ(four.bytes, one.bytes);
  EXPECT_EQ(four.files, files.size());
}

TEST(ZipHashTest, HashesStoredEntries) {
  const auto files = manyFiles();
  File zip = makeZip(files, "store");
  const auto bytes = bytesOf(zip.get());
  ASSERT_FALSE(records(bytes, 0x02014b50U).empty());
  EXPECT_EQ(bytes[records(bytes, 0x02014b50U)[0] + 10], 0) << "not stored";
  for (unsigned threads : {1U, 3U}) {
    const auto result = hashModuleZip(zip.get(), "example.com/m", "v1.0.0", threads);
    ASSERT_TRUE(result.ok) << result.error;
    EXPECT_EQ(result.hash, expectedHash(files));
  }
}

TEST(ZipHashTest, HashesUtf8NamesWhateverTheLocale) {
  const std::vector<std::pair<std::string, std::string>> files = {
      {"example.com/m@v1.0.0/go.mod", "module example.com/m\n"},
      {"example.com/m@v1.0.0/\xce\xb1.go", "package m\n"}};  // "α.go"
  File zip = makeZip(files);
  const auto result = hashModuleZip(zip.get(), "example.com/m", "v1.0.0");
  ASSERT_TRUE(result.ok) << result.error;
  EXPECT_EQ(result.hash, expectedHash(files));
}

TEST(ZipHashTest, HashesAnEmptyZipAsAnEmptyFileList) {
  const std::vector<unsigned char> eocd = {'P', 'K', 5, 6, 0, 0, 0, 0, 0, 0, 0,
                                           0,   0,   0, 0, 0, 0, 0, 0, 0, 0, 0};
  File zip = fileOf(eocd);
  const auto result = hashModuleZip(zip.get(), "example.com/m", "v1.0.0");
  ASSERT_TRUE(result.ok) << result.error;
  EXPECT_EQ(result.hash, Hash1Builder().finish().value_or(""));
  EXPECT_EQ(result.files, 0U);
  File nothing = fileOf({});
  EXPECT_FALSE(hashModuleZip(nothing.get(), "example.com/m", "v1.0.0").ok);
}

/// Sets the CRC-32 of entry `index` to `crc` in the central directory and its data descriptor,
/// so that the headers agree and only the data disagrees with them.
void setCrc(std::vector<unsigned char>& b, std::size_t index, std::uint32_t crc) {
  const auto put = [&](std::size_t at) {
    for (int i = 0; i < 4; ++i) b[at + i] = static_cast<unsigned char>(crc >> (8 * i));
  };
  put(records(b, 0x02014b50U).at(index) + 16);
  put(records(b, 0x08074b50U).at(index) + 4);
}

TEST(ZipHashTest, RejectsABadCrcWhenInflatingAndWhenStoring) {
  for (const char* compression : {"deflate", "store"}) {
    SCOPED_TRACE(compression);
    const auto files = manyFiles();
    File zip = makeZip(files, compression);
    auto bytes = bytesOf(zip.get());
    setCrc(bytes, 5, 0x12345678U);
    File bad = fileOf(bytes);
    for (unsigned threads : {1U, 4U}) {
      const auto result = hashModuleZip(bad.get(), "example.com/m", "v1.0.0", threads);
      EXPECT_FALSE(result.ok);
      EXPECT_NE(result.error.find(files[5].first + ": checksum error"), std::string::npos)
          << result.error;
    }
  }
}

/// One record of a valid zip changed so that it disagrees with the central directory.
struct DisagreementCase {
  const char* name;
  void (*corrupt)(std::vector<unsigned char>& bytes);
  const char* error;  // what the hash error must say
};

void PrintTo(const DisagreementCase& c, std::ostream* os) { *os << c.name; }

class ZipDisagreementTest : public ::testing::TestWithParam<DisagreementCase> {};

TEST_P(ZipDisagreementTest, RejectsARecordThatDisagreesWithTheDirectory) {
  const auto files = manyFiles();
  File zip = makeZip(files);
  auto bytes = bytesOf(zip.get());
  GetParam().corrupt(bytes);
  File bad = fileOf(bytes);
  const auto result = hashModuleZip(bad.get(), "example.com/m", "v1.0.0");
  EXPECT_FALSE(result.ok);
  EXPECT_NE(result.error.find(GetParam().error), std::string::npos) << result.error;
}

INSTANTIATE_TEST_SUITE_P(
    ZipHashTest, ZipDisagreementTest,
    ::testing::Values(DisagreementCase{"DataDescriptor",
                                       [](std::vector<unsigned char>& bytes) {
                                         bytes[records(bytes, 0x08074b50U).at(3) + 4] ^= 1U;
                                       },
                                       "data descriptor"},
                      DisagreementCase{"LocalHeader",
                                       [](std::vector<unsigned char>& bytes) {
                                         // The last character of entry 7's name in its local header
                                         // ("f107.txt" → "f107.txu").
                                         const std::size_t local =
                                             records(bytes, 0x04034b50U).at(7);
                                         const std::size_t name_length =
                                             bytes[local + 26] | bytes[local + 27] << 8;
                                         bytes[local + 30 + name_length - 1] ^= 1U;
                                       },
                                       "local header disagrees"}),
    [](const ::testing::TestParamInfo<DisagreementCase>& info) { return info.param.name; });

TEST(ZipHashTest, ReportsTheFirstBadEntryWhateverTheThreadCount) {
  const auto files = manyFiles();
  File zip = makeZip(files);
  auto bytes = bytesOf(zip.get());
  setCrc(bytes, 30, 1);
  setCrc(bytes, 9, 2);
  File bad = fileOf(bytes);
  for (unsigned threads : {1U, 2U, 4U}) {
    const auto result = hashModuleZip(bad.get(), "example.com/m", "v1.0.0", threads);
    EXPECT_FALSE(result.ok);
    EXPECT_EQ(result.error.find(files[9].first + ": checksum error"), 0U) << result.error;
  }
}

}  // namespace
}  // namespace gomodprobe::goproxy
