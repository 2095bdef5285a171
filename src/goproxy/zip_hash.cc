#include "goproxy/zip_hash.h"

#include <isa-l/crc.h>
#include <isa-l/igzip_lib.h>
#include <minizip/unzip.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <cerrno>
#include <cstring>
#include <exception>
#include <memory>
#include <mutex>
#include <optional>
#include <system_error>
#include <thread>
#include <utility>
#include <vector>

#include "goproxy/dirhash.h"
#include "goproxy/zip_check.h"

namespace gomodprobe::goproxy {

namespace {

constexpr std::size_t kBlock = std::size_t{64} * 1024;
/// Zips with fewer uncompressed bytes than this are hashed on the calling thread alone: a
/// thread and a second reader cost more than they save.
constexpr std::uint64_t kParallelMinBytes = std::uint64_t{4} << 20U;
constexpr std::uint32_t kLocalHeaderSignature = 0x04034b50U;
constexpr std::uint32_t kDataDescriptorSignature = 0x08074b50U;
constexpr std::size_t kLocalHeaderSize = 30;
constexpr std::uint16_t kFlagDataDescriptor = 0x8;
constexpr std::uint16_t kFlagEncrypted = 0x1;
constexpr std::uint64_t kEocdSize = 22;
constexpr int kMethodStore = 0;
constexpr int kMethodDeflate = 8;

std::uint32_t le32(const unsigned char* p) {
  return static_cast<std::uint32_t>(p[0]) | static_cast<std::uint32_t>(p[1]) << 8U |
         static_cast<std::uint32_t>(p[2]) << 16U | static_cast<std::uint32_t>(p[3]) << 24U;
}

std::string hex32(std::uint32_t v) {
  std::array<char, 11> s{};
  std::snprintf(s.data(), s.size(), "0x%08x", v);
  return s.data();
}

/// Reads exactly `size` bytes at `offset` (fewer only at end of file). -1 on an I/O error.
ssize_t preadFully(int fd, void* out, std::size_t size, std::uint64_t offset) {
  std::size_t done = 0;
  while (done < size) {
    const ssize_t n =
        pread(fd, static_cast<char*>(out) + done, size - done, static_cast<off_t>(offset + done));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return -1;
    if (n == 0) break;
    done += static_cast<std::size_t>(n);
  }
  return static_cast<ssize_t>(done);
}

/// minizip's file API over a file descriptor, reading with pread() (so that readers on several
/// threads share the descriptor but not a file offset) through a cache of two 64 KiB windows:
/// minizip parses headers a few bytes per call, and moving to an entry reads its central
/// directory record and then its local header, far apart. The entry hasher reads local headers,
/// small entries' data and data descriptors through the same cache (readAt), so one window
/// settles on the central directory and the other on the data: a run of small entries costs a
/// pread or two instead of four per entry.
class PreadStream {
 public:
  PreadStream(int fd, std::uint64_t size) : fd_(fd), size_(size) {}

  /// Reads `size` bytes at `offset` into `out` (fewer only at end of file); -1 on an I/O error.
  /// Reads of up to kCachedRead bytes go through the cache; larger ones straight to pread.
  ssize_t readAt(std::uint64_t offset, void* out, std::size_t size) {
    if (size > kCachedRead) return preadFully(fd_, out, size, offset);
    auto* dst = static_cast<unsigned char*>(out);
    std::size_t done = 0;
    while (done < size) {
      const auto n = copyCached(offset + done, dst + done, size - done);
      if (!n) return -1;
      if (*n == 0) break;
      done += *n;
    }
    return static_cast<ssize_t>(done);
  }

  zlib_filefunc64_def functions() {
    zlib_filefunc64_def def{};
    def.zopen64_file = [](voidpf opaque, const void*, int) -> voidpf { return opaque; };
    def.zread_file = [](voidpf, voidpf stream, void* buf, uLong size) -> uLong {
      return static_cast<PreadStream*>(stream)->read(buf, size);
    };
    def.zwrite_file = [](voidpf, voidpf, const void*, uLong) -> uLong { return 0; };
    def.ztell64_file = [](voidpf, voidpf stream) -> ZPOS64_T {
      return static_cast<PreadStream*>(stream)->pos_;
    };
    def.zseek64_file = [](voidpf, voidpf stream, ZPOS64_T offset, int origin) -> long {
      return static_cast<PreadStream*>(stream)->seek(offset, origin);
    };
    def.zclose_file = [](voidpf, voidpf) -> int { return 0; };
    def.zerror_file = [](voidpf, voidpf stream) -> int {
      return static_cast<PreadStream*>(stream)->error_ ? 1 : 0;
    };
    def.opaque = this;
    return def;
  }

 private:
  struct Window {
    static constexpr std::size_t kSize = std::size_t{64} * 1024;
    std::unique_ptr<unsigned char[]> bytes;  // allocated (not zeroed) on first fill
    std::uint64_t at = 0;
    std::size_t len = 0;
    [[nodiscard]] bool holds(std::uint64_t pos) const { return pos >= at && pos < at + len; }
  };

  /// Copies up to `size` bytes at `pos` from the window holding `pos`, filling the least
  /// recently used window first when none does. 0 at end of file; nullopt on an I/O error.
  std::optional<std::size_t> copyCached(std::uint64_t pos, unsigned char* out, std::size_t size) {
    std::size_t w = windows_[0].holds(pos) ? 0 : windows_[1].holds(pos) ? 1 : kNoWindow;
    if (w == kNoWindow) {
      if (pos >= size_) return 0;
      w = 1 - last_used_;
      Window& fill = windows_[w];
      if (!fill.bytes) fill.bytes = std::make_unique_for_overwrite<unsigned char[]>(Window::kSize);
      const ssize_t n = preadFully(fd_, fill.bytes.get(), Window::kSize, pos);
      if (n < 0) return std::nullopt;
      fill.at = pos;
      fill.len = static_cast<std::size_t>(n);
      if (n == 0) return 0;
    }
    last_used_ = w;
    const Window& from = windows_[w];
    const auto n =
        static_cast<std::size_t>(std::min<std::uint64_t>(size, from.at + from.len - pos));
    std::memcpy(out, from.bytes.get() + (pos - from.at), n);
    return n;
  }

  uLong read(void* out, uLong size) {
    auto* dst = static_cast<unsigned char*>(out);
    uLong done = 0;
    while (done < size) {
      const auto n = copyCached(pos_, dst + done, size - done);
      if (!n || *n == 0) {
        error_ = !n;
        break;
      }
      done += *n;
      pos_ += *n;
    }
    return done;
  }

  long seek(ZPOS64_T offset, int origin) {
    std::uint64_t base = 0;
    if (origin == ZLIB_FILEFUNC_SEEK_CUR) base = pos_;
    if (origin == ZLIB_FILEFUNC_SEEK_END) base = size_;
    const std::uint64_t at = base + offset;
    if (at > size_) return -1;
    pos_ = at;
    return 0;
  }

  static constexpr std::size_t kCachedRead = std::size_t{16} * 1024;
  static constexpr std::size_t kNoWindow = 2;
  int fd_;
  std::uint64_t size_;
  std::uint64_t pos_ = 0;
  std::array<Window, 2> windows_{};
  std::size_t last_used_ = 0;
  bool error_ = false;
};

struct UnzClose {
  void operator()(void* uf) const noexcept { unzClose(uf); }
};

/// One minizip reader over the spooled zip (one per thread).
class Reader {
 public:
  Reader(int fd, std::uint64_t size) : stream_(std::make_unique<PreadStream>(fd, size)) {
    zlib_filefunc64_def def = stream_->functions();
    zip_.reset(unzOpen2_64("", &def));
  }
  [[nodiscard]] bool ok() const { return zip_ != nullptr; }
  [[nodiscard]] unzFile get() const { return zip_.get(); }
  [[nodiscard]] PreadStream& stream() const { return *stream_; }

 private:
  std::unique_ptr<PreadStream> stream_;  // declared first: outlives zip_
  std::unique_ptr<void, UnzClose> zip_;
};

/// What the central directory says about one entry.
struct Entry {
  std::string name;
  std::uint64_t size = 0;       // uncompressed
  std::uint64_t comp_size = 0;  // compressed
  std::uint32_t crc = 0;
  int method = 0;
  std::uint16_t flags = 0;
  unz64_file_pos position{};  // of its central directory record, for unzGoToFilePos64
};

/// The lowest-index entry error seen by any thread (so that every thread count reports the
/// error a sequential pass would), and whether an entry at `index` still needs hashing.
class FirstError {
 public:
  explicit FirstError(std::size_t entries) : index_(entries + 1) {}

  void record(std::size_t index, std::string error) {
    const std::lock_guard lock(mutex_);
    if (index < index_.load()) {
      index_ = index;
      error_ = std::move(error);
    }
  }
  [[nodiscard]] bool worthHashing(std::size_t index) const { return index < index_.load(); }
  [[nodiscard]] std::optional<std::string> error() const {
    const std::lock_guard lock(mutex_);
    if (error_.empty()) return std::nullopt;
    return error_;
  }

 private:
  mutable std::mutex mutex_;
  std::atomic<std::size_t> index_;
  std::string error_;
};

/// One hashing thread's reader, buffers and state: locates an entry's data through minizip
/// (which checks its local header), reads the raw data with pread, inflates it with ISA-L
/// (computing the CRC-32) and hashes it with SHA-256.
class EntryHasher {
 public:
  explicit EntryHasher(Reader& reader) : reader_(reader) {}

  /// Hashes `entry` into `digest`; returns the error text (without the name) on failure.
  std::optional<std::string> hash(const Entry& entry, Sha256Digest& digest, std::uint64_t& bytes) {
    std::uint64_t data_start = 0;
    if (auto error = locateData(entry, data_start)) return error;
    data_at_ = data_start;
    data_end_ = data_start + entry.comp_size;
    bytes = 0;
    std::optional<std::string> error =
        entry.method == kMethodDeflate ? inflate(entry, bytes) : copyStored(entry, bytes);
    if (error) return error;
    if (bytes != entry.size) {
      return std::to_string(bytes) + " bytes, declared " + std::to_string(entry.size);
    }
    // archive/zip's checksumReader: with a data descriptor the CRC-32 is always checked (and
    // the descriptor's must agree); without one, only when the directory's is not 0.
    const bool descriptor = (entry.flags & kFlagDataDescriptor) != 0;
    if ((descriptor || entry.crc != 0) && crc_ != entry.crc) {
      return "checksum error: CRC-32 " + hex32(crc_) + ", central directory " + hex32(entry.crc);
    }
    if (descriptor) {
      if (auto dd = checkDataDescriptor(entry)) return dd;
    }
    digest = sha_.final();
    return std::nullopt;
  }

 private:
  /// minizip's unzOpenCurrentFile (raw) checks the local header against the central directory
  /// (signature, method, name length, and CRC-32 and sizes unless a data descriptor carries
  /// them) and finds the data. On top, as libarchive did: the local name must be the central
  /// one, and a CRC-32 or size the local header does fill in must agree even with a descriptor.
  std::optional<std::string> locateData(const Entry& entry, std::uint64_t& data_start) {
    unzFile uf = reader_.get();
    unz64_file_pos position = entry.position;
    if (unzGoToFilePos64(uf, &position) != UNZ_OK) {
      return std::string("cannot find its central directory record");
    }
    int method = 0;
    int level = 0;
    const int rc = unzOpenCurrentFile2(uf, &method, &level, /*raw=*/1);
    if (rc != UNZ_OK) {
      return std::string(rc == UNZ_BADZIPFILE ? "local header disagrees with the central directory"
                                              : "cannot read its local header");
    }
    data_start = unzGetCurrentFileZStreamPos64(uf);
    const int local_extra = unzGetLocalExtrafield(uf, nullptr, 0);
    unzCloseCurrentFile(uf);
    const std::uint64_t header_size = kLocalHeaderSize + entry.name.size();
    if (local_extra < 0 || data_start < header_size + static_cast<std::uint64_t>(local_extra)) {
      return std::string("cannot read its local header");
    }
    const std::uint64_t header_at =
        data_start - header_size - static_cast<std::uint64_t>(local_extra);
    header_.resize(header_size);
    if (reader_.stream().readAt(header_at, header_.data(), header_.size()) !=
        static_cast<ssize_t>(header_.size())) {
      return std::string("cannot read its local header");
    }
    const unsigned char* h = header_.data();
    const auto agrees = [](std::uint32_t local, std::uint64_t central) {
      return local == 0 || local == 0xffffffffU || local == central;
    };
    if (le32(h) != kLocalHeaderSignature || !agrees(le32(h + 14), entry.crc) ||
        !agrees(le32(h + 18), entry.comp_size) || !agrees(le32(h + 22), entry.size) ||
        std::memcmp(h + kLocalHeaderSize, entry.name.data(), entry.name.size()) != 0) {
      return std::string("local header disagrees with the central directory");
    }
    return std::nullopt;
  }

  /// The next block of raw entry data (empty at its end); nullopt when the file ends first.
  std::optional<std::size_t> readRaw() {
    const auto want =
        static_cast<std::size_t>(std::min<std::uint64_t>(kBlock, data_end_ - data_at_));
    if (want == 0) return 0;
    const ssize_t n = reader_.stream().readAt(data_at_, in_.get(), want);
    if (n != static_cast<ssize_t>(want)) return std::nullopt;
    data_at_ += want;
    return want;
  }

  static std::string bomb(const Entry& entry) {
    return "inflates past its declared size of " + std::to_string(entry.size) + " bytes";
  }

  std::optional<std::string> copyStored(const Entry& entry, std::uint64_t& bytes) {
    crc_ = 0;
    for (;;) {
      const auto n = readRaw();
      if (!n) return std::string("unexpected end of the zip file in its data");
      if (*n == 0) return std::nullopt;
      bytes += *n;
      if (bytes > entry.size) return bomb(entry);
      crc_ = crc32_gzip_refl(crc_, in_.get(), *n);
      sha_.update(std::string_view(reinterpret_cast<const char*>(in_.get()), *n));
    }
  }

  std::optional<std::string> inflate(const Entry& entry, std::uint64_t& bytes) {
    isal_inflate_init(state_.get());
    state_->crc_flag = ISAL_GZIP_NO_HDR;
    bool input_done = false;
    for (;;) {
      if (state_->avail_in == 0 && !input_done) {
        const auto n = readRaw();
        if (!n) return std::string("unexpected end of the zip file in its data");
        input_done = *n == 0;
        state_->next_in = in_.get();
        state_->avail_in = static_cast<std::uint32_t>(*n);
      }
      state_->next_out = out_.get();
      state_->avail_out = static_cast<std::uint32_t>(kBlock);
      if (isal_inflate(state_.get()) < 0) return std::string("cannot decompress: corrupt deflate");
      const std::size_t produced = kBlock - state_->avail_out;
      bytes += produced;
      if (bytes > entry.size) return bomb(entry);
      sha_.update(std::string_view(reinterpret_cast<const char*>(out_.get()), produced));
      if (state_->block_state == ISAL_BLOCK_FINISH) break;
      if (input_done && state_->avail_in == 0 && produced == 0) {
        return std::string("cannot decompress: truncated deflate data");
      }
    }
    crc_ = state_->crc;
    return std::nullopt;
  }

  /// archive/zip's readDataDescriptor: after the compressed data, an optional signature and the
  /// CRC-32, which must be the central directory's (the sizes that follow are ignored).
  [[nodiscard]] std::optional<std::string> checkDataDescriptor(const Entry& entry) const {
    std::array<unsigned char, 8> dd{};
    const ssize_t n = reader_.stream().readAt(data_end_, dd.data(), dd.size());
    std::size_t at = 0;
    if (n >= 4 && le32(dd.data()) == kDataDescriptorSignature) at = 4;
    if (n < 0 || static_cast<std::size_t>(n) < at + 4) {
      return std::string("unexpected end of the zip file in its data descriptor");
    }
    if (le32(dd.data() + at) != entry.crc) {
      return "checksum error: data descriptor CRC-32 " + hex32(le32(dd.data() + at)) +
             ", central directory " + hex32(entry.crc);
    }
    return std::nullopt;
  }

  Reader& reader_;
  std::uint64_t data_at_ = 0;
  std::uint64_t data_end_ = 0;
  std::vector<unsigned char> header_;
  // Not zeroed: isal_inflate_init sets what inflate reads, and the buffers are written before
  // they are read (zeroing ~200 KiB per zip dominated small zips under the fuzzer).
  std::unique_ptr<inflate_state> state_ = std::make_unique_for_overwrite<inflate_state>();
  std::unique_ptr<std::uint8_t[]> in_ = std::make_unique_for_overwrite<std::uint8_t[]>(kBlock);
  std::unique_ptr<std::uint8_t[]> out_ = std::make_unique_for_overwrite<std::uint8_t[]>(kBlock);
  std::uint32_t crc_ = 0;
  Sha256Stream sha_;
};

/// A zip with no entries: just the 22-byte end-of-central-directory record ("PK\5\6", zero
/// entries, no comment), as zip.Create writes for a module without files. minizip cannot open
/// it (it never looks for the record at offset 0).
bool isEmptyZip(int fd, std::uint64_t size) {
  if (size != kEocdSize) return false;
  std::array<unsigned char, kEocdSize> eocd{};
  if (preadFully(fd, eocd.data(), eocd.size(), 0) != static_cast<ssize_t>(kEocdSize)) return false;
  const bool signature = eocd[0] == 'P' && eocd[1] == 'K' && eocd[2] == 5 && eocd[3] == 6;
  const bool no_entries = eocd[8] == 0 && eocd[9] == 0 && eocd[10] == 0 && eocd[11] == 0;
  return signature && no_entries;
}

/// Reads the central directory: every entry's name (the stored bytes) and what the data must be.
std::optional<std::string> readDirectory(unzFile uf, std::vector<Entry>& entries) {
  unz_global_info64 global{};
  if (unzGetGlobalInfo64(uf, &global) != UNZ_OK) return std::string("no central directory");
  if (global.number_entry == 0) return std::nullopt;
  constexpr std::size_t kNameMax = std::size_t{1} << 16U;
  const auto name = std::make_unique_for_overwrite<char[]>(kNameMax);
  int rc = unzGoToFirstFile(uf);
  while (rc == UNZ_OK) {
    unz_file_info64 info{};
    if (unzGetCurrentFileInfo64(uf, &info, name.get(), kNameMax, nullptr, 0, nullptr, 0) !=
        UNZ_OK) {
      return std::string("bad central directory record");
    }
    Entry entry;
    entry.name.assign(name.get(), std::min<std::size_t>(info.size_filename, kNameMax));
    entry.size = info.uncompressed_size;
    entry.comp_size = info.compressed_size;
    entry.crc = static_cast<std::uint32_t>(info.crc);
    entry.method = static_cast<int>(info.compression_method);
    entry.flags = static_cast<std::uint16_t>(info.flag);
    if (unzGetFilePos64(uf, &entry.position) != UNZ_OK) {
      return std::string("bad central directory record");
    }
    entries.push_back(std::move(entry));
    rc = unzGoToNextFile(uf);
  }
  if (rc != UNZ_END_OF_LIST_OF_FILE) return std::string("bad central directory record");
  return std::nullopt;
}

ZipHashResult invalid(std::string error) {
  ZipHashResult result;
  result.error = std::move(error);
  return result;
}

unsigned threadCount(unsigned requested, std::size_t entries, std::uint64_t total_bytes) {
  unsigned n = requested;
  if (n == 0) n = std::clamp(std::thread::hardware_concurrency(), 1U, kMaxZipHashThreads);
  if (total_bytes < kParallelMinBytes) n = 1;
  return static_cast<unsigned>(std::max<std::size_t>(1, std::min<std::size_t>(n, entries)));
}

}  // namespace

ZipHashResult hashModuleZip(std::FILE* zip_file, std::string_view module_path,
                            std::string_view version, unsigned threads) {
  if (zip_file == nullptr) return invalid("no zip file");
  std::fflush(zip_file);
  const int fd = fileno(zip_file);
  struct stat st {};
  if (fd < 0 || fstat(fd, &st) != 0) return invalid("cannot stat the spooled zip");
  const auto zip_size = static_cast<std::uint64_t>(st.st_size);
  if (auto error = checkZipFileSize(zip_size)) return invalid(*error);
  // libzip opens a 0-byte file as an empty archive; archive/zip (and so the go command) wants
  // at least an end-of-central-directory record.
  if (zip_size < kEocdSize) return invalid("not a zip file: too short");

  if (isEmptyZip(fd, zip_size)) {
    // Go's HashZip hashes the empty file list.
    ZipHashResult empty;
    empty.ok = true;
    empty.hash = Hash1Builder().finish().value_or("");
    empty.threads = 1;
    return empty;
  }
  try {
    // The central directory: names, sizes and the module rules, before any data is read.
    Reader first(fd, zip_size);
    if (!first.ok()) return invalid("not a zip file: no readable end of central directory");
    std::vector<Entry> entries;
    if (auto error = readDirectory(first.get(), entries))
      return invalid("malformed zip: " + *error);
    ZipChecker checker(module_path, version);
    std::uint64_t total_bytes = 0;
    for (const Entry& entry : entries) {
      if (entry.name.empty()) return invalid("zip entry without a name");
      (void)checker.addEntry(entry.name, entry.size);
      total_bytes += entry.size;
    }
    if (auto error = checker.finish()) return invalid(*error);
    for (const Entry& entry : entries) {
      if ((entry.flags & kFlagEncrypted) != 0) return invalid(entry.name + ": encrypted");
      if (entry.method != kMethodStore && entry.method != kMethodDeflate) {
        return invalid(entry.name + ": unsupported compression method " +
                       std::to_string(entry.method));
      }
    }

    // Hash the entries: each thread, with its own reader, takes the next entry not yet taken.
    std::vector<Sha256Digest> digests(entries.size());
    std::vector<std::uint64_t> sizes(entries.size());
    FirstError first_error(entries.size());
    std::atomic<std::size_t> next{0};
    const auto work = [&](Reader& reader) noexcept {
      std::size_t i = 0;
      try {
        EntryHasher hasher(reader);
        for (i = next++; i < entries.size() && first_error.worthHashing(i); i = next++) {
          if (auto error = hasher.hash(entries[i], digests[i], sizes[i])) {
            first_error.record(i, entries[i].name + ": " + *error);
          }
        }
      } catch (const std::exception& e) {
        first_error.record(std::min(i, entries.size()),
                           std::string("cannot hash the zip: ") + e.what());
      }
    };
    const unsigned wanted = threadCount(threads, entries.size(), total_bytes);
    std::vector<std::unique_ptr<Reader>> readers;
    std::vector<std::thread> pool;
    for (unsigned t = 1; t < wanted; ++t) {
      auto reader = std::make_unique<Reader>(fd, zip_size);
      if (!reader->ok()) break;  // fewer threads then; the first reader hashes the rest
      try {
        pool.emplace_back(work, std::ref(*reader));
      } catch (const std::system_error&) {
        break;
      }
      readers.push_back(std::move(reader));
    }
    work(first);
    for (std::thread& t : pool) t.join();
    if (auto error = first_error.error()) return invalid(*error);

    ZipHashResult result;
    Hash1Builder hash1;
    for (std::size_t i = 0; i < entries.size(); ++i) {
      if (auto error = hash1.addFile(entries[i].name, digests[i])) return invalid(*error);
      result.bytes += sizes[i];
    }
    auto h1 = hash1.finish();
    if (!h1) return invalid("cannot compute the h1 hash");
    result.ok = true;
    result.hash = std::move(*h1);
    result.files = entries.size();
    result.threads = static_cast<unsigned>(pool.size()) + 1;
    return result;
  } catch (const std::exception& e) {
    return invalid(std::string("cannot hash the zip: ") + e.what());
  }
}

}  // namespace gomodprobe::goproxy
