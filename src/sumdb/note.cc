#include "sumdb/note.h"

#include <algorithm>
#include <cstdio>
#include <set>
#include <utility>

#include "goproxy/unicode_util.h"
#include "sumdb/encoding.h"

namespace gomodprobe::sumdb {
namespace {

constexpr std::string_view kSigSplit = "\n\n";
constexpr std::string_view kSigPrefix = "\xE2\x80\x94 ";  // U+2014 EM DASH, space

// note.chop: the text before and after the first `sep` (all of it and "" without one).
std::pair<std::string_view, std::string_view> chop(std::string_view text, char sep) {
  const std::size_t i = text.find(sep);
  if (i == std::string_view::npos) return {text, {}};
  return {text.substr(0, i), text.substr(i + 1)};
}

std::optional<std::uint32_t> parseHex32(std::string_view text) {
  if (text.size() != 8) return std::nullopt;
  std::uint32_t value = 0;
  for (const char c : text) {
    std::uint32_t digit = 0;
    if (c >= '0' && c <= '9') {
      digit = static_cast<std::uint32_t>(c - '0');
    } else if (c >= 'a' && c <= 'f') {
      digit = static_cast<std::uint32_t>(c - 'a' + 10);
    } else if (c >= 'A' && c <= 'F') {
      digit = static_cast<std::uint32_t>(c - 'A' + 10);
    } else {
      return std::nullopt;
    }
    value = (value << 4U) | digit;
  }
  return value;
}

std::uint32_t bigEndian32(std::string_view bytes) {
  std::uint32_t value = 0;
  for (std::size_t i = 0; i < 4; ++i) {
    value = (value << 8U) | static_cast<std::uint8_t>(bytes[i]);
  }
  return value;
}

std::string keyLabel(std::string_view name, std::uint32_t hash) {
  std::array<char, 9> hex{};
  (void)std::snprintf(hex.data(), hex.size(), "%08x", hash);
  return std::string(name) + "+" + hex.data();
}

OpenNoteResult failure(NoteStatus status, std::string error) {
  OpenNoteResult result;
  result.status = status;
  result.error = std::move(error);
  return result;
}

OpenNoteResult malformed() { return failure(NoteStatus::Malformed, "malformed note"); }

}  // namespace

std::uint32_t computeKeyHash(std::string_view name, std::string_view key) {
  const Sha256Digest digest = sha256({name, "\n", key});
  return (std::uint32_t{digest[0]} << 24U) | (std::uint32_t{digest[1]} << 16U) |
         (std::uint32_t{digest[2]} << 8U) | std::uint32_t{digest[3]};
}

bool isValidSignerName(std::string_view name) {
  if (name.empty() || !isValidUtf8(name)) return false;
  while (!name.empty()) {
    const DecodedRune r = decodeRune(name);
    if (r.rune == U'+' || goproxy::isSpace(r.rune)) return false;
    name.remove_prefix(r.size);
  }
  return true;
}

Verifier::Verifier(std::string name, std::uint32_t key_hash,
                   const std::array<std::uint8_t, kEd25519PublicKeySize>& public_key)
    : name_(std::move(name)), key_hash_(key_hash), public_key_(public_key) {}

VerifierParseResult Verifier::parse(std::string_view vkey) {
  const auto [name, rest] = chop(vkey, '+');
  const auto [hash16, key64] = chop(rest, '+');
  const std::optional<std::uint32_t> hash = parseHex32(hash16);
  const std::optional<std::string> key = base64Decode(key64);
  if (!hash || !key || !isValidSignerName(name) || key->empty()) {
    return {std::nullopt, "malformed verifier id"};
  }
  if (*hash != computeKeyHash(name, *key)) return {std::nullopt, "invalid verifier hash"};
  if (static_cast<std::uint8_t>(key->front()) != kAlgEd25519) {
    return {std::nullopt, "unknown verifier algorithm"};
  }
  if (key->size() != 1 + kEd25519PublicKeySize) return {std::nullopt, "malformed verifier id"};
  std::array<std::uint8_t, kEd25519PublicKeySize> public_key{};
  std::copy(key->begin() + 1, key->end(), public_key.begin());
  return {Verifier(std::string(name), *hash, public_key), {}};
}

bool Verifier::verify(std::string_view message, std::string_view signature) const {
  return ed25519Verify(public_key_, message, signature);
}

OpenNoteResult openNote(std::string_view msg, const std::vector<Verifier>& known) {
  // Valid UTF-8 without control characters other than '\n'.
  for (std::string_view rest = msg; !rest.empty();) {
    const DecodedRune r = decodeRune(rest);
    if ((r.rune < 0x20 && r.rune != U'\n') || (r.rune == kRuneError && r.size == 1)) {
      return malformed();
    }
    rest.remove_prefix(r.size);
  }

  const std::size_t split = msg.rfind(kSigSplit);
  if (split == std::string_view::npos) return malformed();
  const std::string_view text = msg.substr(0, split + 1);
  std::string_view sigs = msg.substr(split + 2);
  if (sigs.empty() || sigs.back() != '\n') return malformed();

  SignedNote note;
  note.text = std::string(text);
  std::set<std::pair<std::string, std::uint32_t>> seen;
  std::set<std::string, std::less<>> seen_unverified;
  std::size_t num_sig = 0;
  while (!sigs.empty()) {
    const std::size_t eol = sigs.find('\n');  // present: sigs ends in '\n'
    std::string_view line = sigs.substr(0, eol);
    sigs.remove_prefix(eol + 1);

    if (!line.starts_with(kSigPrefix)) return malformed();
    line.remove_prefix(kSigPrefix.size());
    const auto [name, b64] = chop(line, ' ');
    const std::optional<std::string> sig = base64Decode(b64);
    if (!sig || !isValidSignerName(name) || b64.empty() || sig->size() < 5) return malformed();
    const std::uint32_t hash = bigEndian32(*sig);
    if (++num_sig > kMaxNoteSignatures) return malformed();

    const Verifier* verifier = nullptr;
    std::size_t matches = 0;
    for (const Verifier& candidate : known) {
      if (candidate.name() == name && candidate.keyHash() == hash) {
        verifier = &candidate;
        ++matches;
      }
    }
    Signature signature{std::string(name), hash, std::string(b64), sig->substr(4)};
    if (matches == 0) {
      if (seen_unverified.insert(std::string(line)).second) {
        note.unverified_signatures.push_back(std::move(signature));
      }
      continue;
    }
    if (matches > 1) {
      return failure(NoteStatus::AmbiguousKey, "ambiguous key " + keyLabel(name, hash));
    }
    if (!seen.emplace(std::string(name), hash).second) continue;
    if (!verifier->verify(text, signature.signature)) {
      return failure(NoteStatus::BadSignature, "invalid signature for key " + keyLabel(name, hash));
    }
    note.signatures.push_back(std::move(signature));
  }

  if (note.signatures.empty()) {
    OpenNoteResult result = failure(NoteStatus::Unverified, "note has no verifiable signatures");
    result.unverified_signatures = std::move(note.unverified_signatures);
    return result;
  }
  OpenNoteResult result;
  result.status = NoteStatus::Ok;
  result.unverified_signatures = note.unverified_signatures;
  result.note = std::move(note);
  return result;
}

std::string_view toString(NoteStatus status) {
  switch (status) {
    case NoteStatus::Ok:
      return "ok";
    case NoteStatus::Malformed:
      return "malformed";
    case NoteStatus::Unverified:
      return "unverified";
    case NoteStatus::BadSignature:
      return "bad_signature";
    case NoteStatus::AmbiguousKey:
      return "ambiguous_key";
  }
  return "unknown";
}

}  // namespace gomodprobe::sumdb
