#pragma once

// Module zip name and size rules, following checkZip and collisionChecker in
// golang.org/x/mod/zip/zip.go (x/mod as shipped for Go 1.19). Only the central directory (entry
// names and declared uncompressed sizes) is needed, so entries can be checked as they stream in.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace gomodprobe::goproxy {

/// zip.MaxZipFile: limit on a module zip file and on the total uncompressed size of its files,
/// in bytes (500 MiB).
inline constexpr std::uint64_t kMaxZipFile = std::uint64_t{500} << 20U;
/// zip.MaxGoMod: limit on the go.mod file in a module zip, in bytes (16 MiB).
inline constexpr std::uint64_t kMaxGoMod = std::uint64_t{16} << 20U;
/// zip.MaxLICENSE: limit on the LICENSE file in a module zip, in bytes (16 MiB).
inline constexpr std::uint64_t kMaxLicense = std::uint64_t{16} << 20U;

/// path.Clean (Go src/path/path.go): the shortest lexically equivalent slash path.
[[nodiscard]] std::string cleanPath(std::string_view path);

/// checkZip's test of the zip file's own size (bytes). Returns the error text or std::nullopt.
[[nodiscard]] std::optional<std::string> checkZipFileSize(std::uint64_t zip_size);

/// Checks the entries of one module zip as checkZip does, one entry at a time:
///  - the module path and version must be valid and the version canonical (module.Check);
///  - every name starts with "<module>@<version>/" (the bare prefix itself is skipped; a trailing
///    '/' marks a directory);
///  - the rest is a clean path (path.Clean) and a valid module.CheckFilePath path;
///  - no two names are equal under Unicode simple case folding (strings.EqualFold), no file is
///    listed twice, and no name is both a file and a directory (parents count as directories);
///  - a file named go.mod in any case must be exactly "go.mod" in the module root;
///  - files total at most kMaxZipFile bytes uncompressed, go.mod at most kMaxGoMod, LICENSE at
///    most kMaxLicense.
/// Error texts are Go's, with the %q quoting caveat of goQuote (unicode_util.h).
class ZipChecker {
 public:
  ZipChecker(std::string_view module_path, std::string_view version);

  /// Checks one central-directory entry. Returns why the entry is invalid (Go's FileError.Err
  /// text), or std::nullopt when it is valid or skipped. A total-size overflow is not an entry
  /// error: it is reported by finish(). When the module path or version is invalid, every entry
  /// gets that error.
  [[nodiscard]] std::optional<std::string> addEntry(std::string_view name,
                                                    std::uint64_t uncompressed_size);

  /// The verdict on the whole zip, as CheckedFiles.Err(): the module error, else the size error,
  /// else every invalid entry as "<full name>: <error>" joined by '\n'; std::nullopt if valid.
  [[nodiscard]] std::optional<std::string> finish() const;

  /// Full names of the entries found valid so far (CheckedFiles.Valid).
  [[nodiscard]] const std::vector<std::string>& valid() const { return valid_; }
  /// Total uncompressed bytes of the valid-size files counted so far.
  [[nodiscard]] std::uint64_t totalSize() const { return size_; }

 private:
  struct PathInfo {
    std::string path;
    bool is_dir = false;
  };

  std::optional<std::string> checkEntry(std::string_view name, std::uint64_t uncompressed_size);
  std::optional<std::string> checkCollision(std::string_view path, bool is_dir);

  std::string prefix_;
  std::optional<std::string> module_error_;
  std::unordered_map<std::string, PathInfo> collisions_;  // keyed by strToFold(path)
  std::uint64_t size_ = 0;
  std::optional<std::string> size_error_;
  std::vector<std::string> invalid_;
  std::vector<std::string> valid_;
};

}  // namespace gomodprobe::goproxy
