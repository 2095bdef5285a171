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
};

/// Checks and hashes a module zip (the bytes of $GOPROXY/<module>/@v/<version>.zip) spooled to
/// `zip_file` (read from offset 0; any seekable stdio file, e.g. std::tmpfile()).
///
/// Follows x/mod zip.CheckZip for the rules (names under "<module>@<version>/", clean paths, no
/// case-fold collisions, zip ≤ 500 MiB, files ≤ 500 MiB in total, go.mod and LICENSE ≤ 16 MiB),
/// all checked on the central directory before any byte is decompressed, and x/mod
/// sumdb/dirhash.HashZip for the hash. Memory stays flat: each entry is streamed through SHA-256
/// in 64 KiB blocks. An entry that inflates to more than its declared size (a zip bomb lying in
/// its headers) is invalid. Reads with libarchive's seekable zip reader. Never throws.
[[nodiscard]] ZipHashResult hashModuleZip(std::FILE* zip_file, std::string_view module_path,
                                          std::string_view version);

}  // namespace gomodprobe::goproxy
