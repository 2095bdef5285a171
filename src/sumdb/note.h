#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "sumdb/crypto.h"

namespace gomodprobe::sumdb {

/// Algorithm byte of an Ed25519 verifier key (x/mod sumdb/note: algEd25519).
inline constexpr std::uint8_t kAlgEd25519 = 0x01;
/// note.Open rejects notes with more than this many signature lines.
inline constexpr std::size_t kMaxNoteSignatures = 100;

/// Key hash as in x/mod sumdb/note keyHash: the first four bytes, big-endian, of
/// SHA-256(name || "\n" || key), where `key` is the algorithm byte followed by the public key.
[[nodiscard]] std::uint32_t computeKeyHash(std::string_view name, std::string_view key);

/// A server name as note.isValidName accepts it: non-empty UTF-8 without '+' or Unicode spaces.
[[nodiscard]] bool isValidSignerName(std::string_view name);

/// A note verifier key ("vkey") such as the checksum database's
/// `sum.golang.org+033de0ae+Ac4zctda0e5eza+HJyk9SxEdh+s3Ux18htTTAD8OuAn8`, parsed and checked as
/// x/mod sumdb/note.NewVerifier does: `name+hash+base64(alg || key)`, split at the first two '+'
/// (the base64 may contain '+'), hash = 8 hex digits equal to computeKeyHash(name, alg || key),
/// alg = 0x01 (Ed25519) with a 32-byte public key.
struct VerifierParseResult;
class Verifier {
 public:
  [[nodiscard]] static VerifierParseResult parse(std::string_view vkey);

  [[nodiscard]] const std::string& name() const { return name_; }
  [[nodiscard]] std::uint32_t keyHash() const { return key_hash_; }
  [[nodiscard]] const std::array<std::uint8_t, kEd25519PublicKeySize>& publicKey() const {
    return public_key_;
  }
  /// Ed25519 verification of `signature` (64 bytes, without the 4-byte key hash) over `message`.
  [[nodiscard]] bool verify(std::string_view message, std::string_view signature) const;

 private:
  Verifier(std::string name, std::uint32_t key_hash,
           const std::array<std::uint8_t, kEd25519PublicKeySize>& public_key);

  std::string name_;
  std::uint32_t key_hash_ = 0;
  std::array<std::uint8_t, kEd25519PublicKeySize> public_key_{};
};

struct VerifierParseResult {
  std::optional<Verifier> verifier;
  std::string error;  ///< "malformed verifier id", "invalid verifier hash", ... (note.go)
  [[nodiscard]] bool ok() const { return verifier.has_value(); }
};

/// One signature line `— name base64(keyhash || sig)` of a note (note.Signature, plus the
/// decoded signature bytes).
struct Signature {
  std::string name;
  std::uint32_t hash = 0;  ///< key hash: the first 4 bytes of the decoded base64, big-endian
  std::string base64;      ///< as it appeared in the note, key hash included
  std::string signature;   ///< decoded bytes after the key hash
};

/// A note whose text was verified by at least one known key (note.Note).
struct SignedNote {
  std::string text;                              ///< the signed text, ending in "\n"
  std::vector<Signature> signatures;             ///< verified, in order, duplicates removed
  std::vector<Signature> unverified_signatures;  ///< by unknown keys, duplicates removed
};

/// How note.Open failed; each value corresponds to one of its error types.
enum class NoteStatus {
  Ok,
  Malformed,     ///< errMalformedNote: bad UTF-8, control characters, bad signature block, >100
  Unverified,    ///< UnverifiedNoteError: no signature by a known key
  BadSignature,  ///< InvalidSignatureError: a known key (name and hash match) did not verify
  AmbiguousKey,  ///< ambiguousVerifierError: two known verifiers share the signer's name+hash
};

struct OpenNoteResult {
  NoteStatus status = NoteStatus::Malformed;
  std::string error;               ///< note.go's message; empty when Ok
  std::optional<SignedNote> note;  ///< set only when status == Ok
  /// Signatures by unknown keys (also for Unverified, like UnverifiedNoteError.Note).
  std::vector<Signature> unverified_signatures;

  [[nodiscard]] bool ok() const { return status == NoteStatus::Ok; }
};

/// Opens and verifies a signed note exactly as x/mod sumdb/note.Open:
/// the message must be valid UTF-8 with no control characters other than '\n'; the text ends
/// at the last "\n\n" (the text keeps its final '\n'); each following line, all '\n'-terminated,
/// is "— <name> <base64>" (U+2014 EM DASH, space), with the base64 decoding to at least 5
/// bytes (4-byte big-endian key hash, then the signature); at most 100 lines. Signatures by keys
/// not in `known` are skipped; a known key whose signature fails makes the whole note fail;
/// at least one known key must verify.
[[nodiscard]] OpenNoteResult openNote(std::string_view msg, const std::vector<Verifier>& known);

[[nodiscard]] std::string_view toString(NoteStatus status);

}  // namespace gomodprobe::sumdb
