#include "goproxy/zip_hash.h"

#include <archive.h>
#include <archive_entry.h>
#include <sys/stat.h>
#include <unistd.h>

#include <array>
#include <clocale>
#include <memory>
#include <utility>
#include <vector>

#include "goproxy/dirhash.h"
#include "goproxy/zip_check.h"

namespace gomodprobe::goproxy {

namespace {

constexpr std::size_t kBlock = std::size_t{64} * 1024;

struct ArchiveDeleter {
  void operator()(archive* a) const noexcept { archive_read_free(a); }
};
using Archive = std::unique_ptr<archive, ArchiveDeleter>;

/// A zip with no entries: just the 22-byte end-of-central-directory record ("PK\5\6", zero
/// entries, no comment), as zip.Create writes for a module without files.
bool isEmptyZip(int fd, off_t size) {
  constexpr off_t kEocdSize = 22;
  if (size != kEocdSize) return false;
  std::array<unsigned char, kEocdSize> eocd{};
  if (pread(fd, eocd.data(), eocd.size(), 0) != kEocdSize) return false;
  const bool signature = eocd[0] == 'P' && eocd[1] == 'K' && eocd[2] == 5 && eocd[3] == 6;
  const bool no_entries = eocd[8] == 0 && eocd[9] == 0 && eocd[10] == 0 && eocd[11] == 0;
  return signature && no_entries;
}

/// libarchive's message for the last error; archive_error_string returns NULL when the failing
/// call set none (found by fuzzing: a malformed central directory).
std::string archiveError(archive* a) {
  const char* message = archive_error_string(a);
  return message != nullptr ? message : "unknown libarchive error";
}

/// The entry's name as stored (UTF-8), independent of the process locale.
std::string entryName(archive_entry* entry) {
  if (const char* utf8 = archive_entry_pathname_utf8(entry)) return utf8;
  const char* name = archive_entry_pathname(entry);
  return name != nullptr ? name : "";
}

/// Switches the calling thread (only) to a UTF-8 locale while libarchive runs: it converts entry
/// names to the locale's charset, and under the C locale it refuses non-ASCII names that Go's
/// zips store as UTF-8 (e.g. "α.go").
class Utf8ThreadLocale {
 public:
  Utf8ThreadLocale() : locale_(newlocale(LC_CTYPE_MASK, "C.UTF-8", nullptr)) {
    if (locale_ != nullptr) previous_ = uselocale(locale_);
  }
  ~Utf8ThreadLocale() {
    if (locale_ == nullptr) return;
    uselocale(previous_);
    freelocale(locale_);
  }
  Utf8ThreadLocale(const Utf8ThreadLocale&) = delete;
  Utf8ThreadLocale& operator=(const Utf8ThreadLocale&) = delete;

 private:
  locale_t locale_;
  locale_t previous_ = nullptr;
};

/// Only ARCHIVE_OK: libarchive reports a central directory and a local header that disagree
/// (e.g. on the uncompressed size, as a zip bomb's do) as ARCHIVE_WARN. Names no longer warn:
/// they are read under Utf8ThreadLocale.
bool headerOk(int rc) { return rc == ARCHIVE_OK; }

ZipHashResult invalid(std::string error) {
  ZipHashResult result;
  result.error = std::move(error);
  return result;
}

}  // namespace

ZipHashResult hashModuleZip(std::FILE* zip_file, std::string_view module_path,
                            std::string_view version) {
  if (zip_file == nullptr) return invalid("no zip file");
  const Utf8ThreadLocale utf8;
  std::fflush(zip_file);
  const int fd = fileno(zip_file);
  struct stat st {};
  if (fd < 0 || fstat(fd, &st) != 0) return invalid("cannot stat the spooled zip");
  if (auto error = checkZipFileSize(static_cast<std::uint64_t>(st.st_size))) {
    return invalid(*error);
  }
  if (lseek(fd, 0, SEEK_SET) != 0) return invalid("cannot rewind the spooled zip");
  if (isEmptyZip(fd, st.st_size)) {
    // libarchive cannot open a zip with no entries; Go's HashZip hashes the empty file list.
    ZipHashResult empty;
    empty.ok = true;
    empty.hash = Hash1Builder().finish().value_or("");
    return empty;
  }

  // Pass 1: the central directory only — names and declared sizes, no decompression.
  ZipChecker checker(module_path, version);
  // Names and sizes as the central directory declares them: pass 2 holds every entry to these
  // (local headers and data descriptors can say otherwise; Go's zip.Reader trusts the directory).
  std::vector<std::pair<std::string, std::uint64_t>> declared_sizes;
  {
    Archive a(archive_read_new());
    if (!a) return invalid("libarchive: out of memory");
    archive_read_support_format_zip_seekable(a.get());
    if (archive_read_open_fd(a.get(), fd, kBlock) != ARCHIVE_OK) {
      return invalid(std::string("not a zip file: ") + archiveError(a.get()));
    }
    archive_entry* entry = nullptr;
    int rc = ARCHIVE_OK;
    while (headerOk(rc = archive_read_next_header(a.get(), &entry))) {
      const std::string name = entryName(entry);
      if (name.empty()) return invalid("zip entry without a name");
      const la_int64_t size = archive_entry_size_is_set(entry) != 0 ? archive_entry_size(entry) : 0;
      const auto bytes = static_cast<std::uint64_t>(std::max<la_int64_t>(0, size));
      (void)checker.addEntry(name, bytes);
      declared_sizes.emplace_back(name, bytes);
    }
    if (rc != ARCHIVE_EOF) {
      return invalid(std::string("malformed zip: ") + archiveError(a.get()));
    }
    if (auto error = checker.finish()) return invalid(*error);
  }

  // Pass 2: stream every entry through SHA-256.
  if (lseek(fd, 0, SEEK_SET) != 0) return invalid("cannot rewind the spooled zip");
  Archive a(archive_read_new());
  if (!a) return invalid("libarchive: out of memory");
  archive_read_support_format_zip_seekable(a.get());
  if (archive_read_open_fd(a.get(), fd, kBlock) != ARCHIVE_OK) {
    return invalid(std::string("not a zip file: ") + archiveError(a.get()));
  }
  ZipHashResult result;
  Hash1Builder hash1;
  Sha256Stream sha;
  std::array<char, kBlock> buffer{};
  archive_entry* entry = nullptr;
  int rc = ARCHIVE_OK;
  while (headerOk(rc = archive_read_next_header(a.get(), &entry))) {
    const std::string name = entryName(entry);
    if (result.files >= declared_sizes.size() || declared_sizes[result.files].first != name) {
      return invalid(name + ": not listed in the central directory at this position");
    }
    const std::uint64_t declared = declared_sizes[result.files].second;
    std::uint64_t read_total = 0;
    for (;;) {
      const la_ssize_t n = archive_read_data(a.get(), buffer.data(), buffer.size());
      if (n < 0) {
        return invalid(name + ": cannot decompress: " + archiveError(a.get()));
      }
      if (n == 0) break;
      read_total += static_cast<std::uint64_t>(n);
      if (read_total > declared) {
        return invalid(name + ": inflates past its declared size of " + std::to_string(declared) +
                       " bytes");
      }
      sha.update(std::string_view(buffer.data(), static_cast<std::size_t>(n)));
    }
    if (read_total != declared) {
      return invalid(name + ": " + std::to_string(read_total) + " bytes, declared " +
                     std::to_string(declared));
    }
    if (auto error = hash1.addFile(name, sha.final())) return invalid(*error);
    result.bytes += read_total;
    ++result.files;
  }
  if (rc != ARCHIVE_EOF) {
    return invalid(std::string("malformed zip: ") + archiveError(a.get()));
  }
  auto h1 = hash1.finish();
  if (!h1) return invalid("cannot compute the h1 hash");
  result.ok = true;
  result.hash = std::move(*h1);
  return result;
}

}  // namespace gomodprobe::goproxy
