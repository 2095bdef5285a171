#pragma once

// The "h1:" directory hash of go.sum, following golang.org/x/mod/sumdb/dirhash/hash.go (Hash1).

#include <array>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace gomodprobe::goproxy {

/// A SHA-256 digest (32 bytes).
using Sha256Digest = std::array<std::uint8_t, 32>;

/// Incremental SHA-256 over an OpenSSL EVP_MD_CTX (RAII; move-only). Feed bytes with update()
/// and take the digest once with final(); the object can then be reused (final() resets it).
class Sha256Stream {
 public:
  Sha256Stream();
  ~Sha256Stream();
  Sha256Stream(const Sha256Stream&) = delete;
  Sha256Stream& operator=(const Sha256Stream&) = delete;
  Sha256Stream(Sha256Stream&& other) noexcept;
  Sha256Stream& operator=(Sha256Stream&& other) noexcept;

  /// Hashes `data` (any number of bytes, any number of calls).
  void update(std::string_view data);
  /// Returns the digest of everything fed since construction or the last final(), and resets.
  [[nodiscard]] Sha256Digest final();

  /// SHA-256 of `data` in one call.
  [[nodiscard]] static Sha256Digest digest(std::string_view data);

 private:
  struct Ctx;
  std::unique_ptr<Ctx> ctx_;
};

/// Lower-case hex of a digest (64 characters), as Go's "%x".
[[nodiscard]] std::string hexDigest(const Sha256Digest& digest);

/// Streaming dirhash.Hash1: add each file's name and the SHA-256 of its contents, in any order;
/// finish() returns "h1:" + base64(SHA-256 of the lines "<hex sha256>  <name>\n" sorted by name
/// bytewise). For a module zip the names carry the "module@version/" prefix, exactly as the zip
/// entries do (dirhash.HashZip). Hash1 rejects names containing '\n'; so does addFile.
class Hash1Builder {
 public:
  /// Records one file. Returns the error (Go's "dirhash: filenames with newlines are not
  /// supported") and remembers it, so that finish() fails too.
  [[nodiscard]] std::optional<std::string> addFile(std::string name, const Sha256Digest& sha256);

  /// The "h1:..." hash of the files added so far, or std::nullopt if an addFile() failed.
  /// An empty builder yields the hash of no lines, as Hash1 over an empty list does.
  [[nodiscard]] std::optional<std::string> finish() const;

 private:
  std::vector<std::pair<std::string, Sha256Digest>> files_;
  bool failed_ = false;
};

/// The "<module> <version>/go.mod h1:..." hash of go.sum: Hash1 over the single file "go.mod" with
/// the given contents (the bytes served at $GOPROXY/<module>/@v/<version>.mod).
[[nodiscard]] std::string goModHash(std::string_view go_mod_contents);

/// Standard base64 with padding (encoding/base64.StdEncoding), as used in "h1:" hashes.
[[nodiscard]] std::string base64Encode(const std::uint8_t* data, std::size_t size);

}  // namespace gomodprobe::goproxy
