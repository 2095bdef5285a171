#pragma once

#include <cstdint>
#include <cstdio>
#include <optional>
#include <string>
#include <string_view>

namespace gomodprobe::goproxy {

/// The result of hashing a module zip.
struct ZipHashResult {
  bool ok = false;
  std::string hash;         ///< "h1:…" (dirhash.HashZip with Hash1) when ok
  std::string error;        ///< why the zip is invalid (zip.CheckZip's wording where it applies)
  std::uint64_t files = 0;  ///< entries hashed
  std::uint64_t bytes = 0;  ///< uncompressed bytes read
  unsigned threads = 0;     ///< threads that hashed entries (1 for an empty or small zip)
};

/// The most threads hashModuleZip uses by default (each reads and inflates its own entries).
inline constexpr unsigned kMaxZipHashThreads = 4;

/// Checks and hashes a module zip (the bytes of $GOPROXY/<module>/@v/<version>.zip) spooled to
/// `zip_file` (read from offset 0 with pread; any seekable stdio file, e.g. std::tmpfile()).
///
/// Follows x/mod zip.CheckZip for the rules (names under "<module>@<version>/", clean paths, no
/// case-fold collisions, zip ≤ 500 MiB, files ≤ 500 MiB in total, go.mod and LICENSE ≤ 16 MiB),
/// all checked on the central directory (read with minizip) before any byte is decompressed,
/// and x/mod sumdb/dirhash.HashZip for the hash. Names are the stored bytes (no charset
/// conversion, as Go's archive/zip). Also invalid: a compression method other than store or
/// deflate, encryption, and a local header that disagrees with the central directory (its
/// signature, method or name; a CRC-32 or size it fills in, 0 meaning "in the data descriptor").
/// While reading, as archive/zip's checksumReader: an entry that inflates past its declared size
/// (a zip bomb lying in its headers; reading stops within 64 KiB of the declared size), one that
/// ends short of it, a truncated or corrupt deflate stream, a CRC-32 that differs from the
/// central directory's (not checked when that is 0 and there is no data descriptor, as in Go),
/// and a data descriptor whose CRC-32 differs from it.
///
/// Memory stays flat: entries are streamed (pread, 64 KiB blocks) through ISA-L inflate (which
/// also computes the CRC-32) and OpenSSL SHA-256. Entries are hashed on `threads` threads (0: the
/// default, min(hardware concurrency, kMaxZipHashThreads); zips under 4 MiB use one), each with
/// its own minizip reader; the result, including which error is reported when several entries
/// are invalid (the first in central-directory order), does not depend on the thread count.
/// Never throws.
[[nodiscard]] ZipHashResult hashModuleZip(std::FILE* zip_file, std::string_view module_path,
                                          std::string_view version, unsigned threads = 0);

}  // namespace gomodprobe::goproxy
