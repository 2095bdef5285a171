#include "sumdb/crypto.h"

#include <openssl/evp.h>

#include <memory>

namespace gomodprobe::sumdb {
namespace {

struct EvpMdCtxDeleter {
  void operator()(EVP_MD_CTX* ctx) const noexcept { EVP_MD_CTX_free(ctx); }
};
struct EvpPkeyDeleter {
  void operator()(EVP_PKEY* key) const noexcept { EVP_PKEY_free(key); }
};
using EvpMdCtx = std::unique_ptr<EVP_MD_CTX, EvpMdCtxDeleter>;
using EvpPkey = std::unique_ptr<EVP_PKEY, EvpPkeyDeleter>;

const unsigned char* bytes(std::string_view text) {
  return reinterpret_cast<const unsigned char*>(text.data());
}

}  // namespace

Sha256Digest sha256(std::initializer_list<std::string_view> parts) {
  Sha256Digest digest{};
  const EvpMdCtx ctx(EVP_MD_CTX_new());
  if (!ctx || EVP_DigestInit_ex(ctx.get(), EVP_sha256(), nullptr) != 1) return Sha256Digest{};
  for (const std::string_view part : parts) {
    if (EVP_DigestUpdate(ctx.get(), part.data(), part.size()) != 1) return Sha256Digest{};
  }
  unsigned int size = 0;
  if (EVP_DigestFinal_ex(ctx.get(), digest.data(), &size) != 1 || size != digest.size()) {
    return Sha256Digest{};
  }
  return digest;
}

bool ed25519Verify(std::span<const std::uint8_t, kEd25519PublicKeySize> public_key,
                   std::string_view message, std::string_view signature) {
  if (signature.size() != kEd25519SignatureSize) return false;
  const EvpPkey key(
      EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, nullptr, public_key.data(), public_key.size()));
  if (!key) return false;
  const EvpMdCtx ctx(EVP_MD_CTX_new());
  if (!ctx) return false;
  // Ed25519 is a one-shot ("pure") scheme: no digest, EVP_DigestVerify over the whole message.
  if (EVP_DigestVerifyInit(ctx.get(), nullptr, nullptr, nullptr, key.get()) != 1) return false;
  return EVP_DigestVerify(ctx.get(), bytes(signature), signature.size(), bytes(message),
                          message.size()) == 1;
}

}  // namespace gomodprobe::sumdb
