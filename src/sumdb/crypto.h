#pragma once

#include <array>
#include <cstdint>
#include <initializer_list>
#include <span>
#include <string_view>

namespace gomodprobe::sumdb {

inline constexpr std::size_t kSha256Size = 32;
inline constexpr std::size_t kEd25519PublicKeySize = 32;
inline constexpr std::size_t kEd25519SignatureSize = 64;

using Sha256Digest = std::array<std::uint8_t, kSha256Size>;

/// SHA-256 (FIPS 180-4) of the concatenation of `parts`, via OpenSSL EVP. OpenSSL failures
/// (allocation) cannot be reported by Go's sha256 either; they yield an all-zero digest, which
/// never verifies against anything.
[[nodiscard]] Sha256Digest sha256(std::initializer_list<std::string_view> parts);

/// Ed25519 verification (RFC 8032 §5.1.7) like Go's ed25519.Verify: false unless `signature` is
/// 64 bytes and valid for `message` under the 32-byte `public_key`.
[[nodiscard]] bool ed25519Verify(std::span<const std::uint8_t, kEd25519PublicKeySize> public_key,
                                 std::string_view message, std::string_view signature);

}  // namespace gomodprobe::sumdb
