#include "goproxy/zip_hash.h"

#include <archive.h>
#include <archive_entry.h>
#include <gtest/gtest.h>

#include <cstdio>
#include <memory>
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

/// A zip written by libarchive (deflate) into an anonymous temp file.
File makeZip(const std::vector<std::pair<std::string, std::string>>& files) {
  File out(std::tmpfile());
  archive* a = archive_write_new();
  archive_write_set_format_zip(a);
  archive_write_set_options(a, "zip:compression=deflate");
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
// without setting an error string; building the message from its NULL crashed the probe.
TEST(ZipHashTest, MalformedZipWithoutLibarchiveMessageIsInvalid) {
  const File zip(
      std::fopen((test_data::kGoproxyDataDir + "/fuzz_zip_no_error_string.zip").c_str(), "rb"));
  ASSERT_NE(zip, nullptr);
  const ZipHashResult result = hashModuleZip(zip.get(), "example.com/m", "v1.0.0");
  EXPECT_FALSE(result.ok);
  EXPECT_EQ(result.error.rfind("malformed zip: ", 0), 0U) << result.error;
}

}  // namespace
}  // namespace gomodprobe::goproxy
