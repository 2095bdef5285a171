#include "goproxy/dirhash.h"

#include <openssl/evp.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

namespace gomodprobe::goproxy {

namespace {

constexpr std::string_view kHexDigits = "0123456789abcdef";
constexpr std::string_view kBase64Alphabet =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

struct EvpCtxDeleter {
  void operator()(EVP_MD_CTX* ctx) const { EVP_MD_CTX_free(ctx); }
};

// Starts a SHA-256 computation on `md` (which may be null after a failed allocation).
void initSha256(EVP_MD_CTX* md) {
  if (md == nullptr || EVP_DigestInit_ex(md, EVP_sha256(), nullptr) != 1) std::abort();
}

}  // namespace

// EVP calls fail only on allocation failure or a broken OpenSSL: environment errors, not data
// errors, so they abort rather than return a wrong digest.
struct Sha256Stream::Ctx {
  std::unique_ptr<EVP_MD_CTX, EvpCtxDeleter> md{EVP_MD_CTX_new()};

  Ctx() { initSha256(md.get()); }
};

Sha256Stream::Sha256Stream() : ctx_(std::make_unique<Ctx>()) {}

Sha256Stream::~Sha256Stream() = default;

Sha256Stream::Sha256Stream(Sha256Stream&& other) noexcept = default;

Sha256Stream& Sha256Stream::operator=(Sha256Stream&& other) noexcept = default;

void Sha256Stream::update(std::string_view data) {
  if (!ctx_) ctx_ = std::make_unique<Ctx>();  // A moved-from stream starts afresh.
  if (!data.empty() && EVP_DigestUpdate(ctx_->md.get(), data.data(), data.size()) != 1) {
    std::abort();
  }
}

Sha256Digest Sha256Stream::final() {
  if (!ctx_) ctx_ = std::make_unique<Ctx>();
  Sha256Digest out{};
  unsigned int len = 0;
  if (EVP_DigestFinal_ex(ctx_->md.get(), out.data(), &len) != 1 || len != out.size()) {
    std::abort();
  }
  initSha256(ctx_->md.get());
  return out;
}

Sha256Digest Sha256Stream::digest(std::string_view data) {
  Sha256Stream s;
  s.update(data);
  return s.final();
}

std::string hexDigest(const Sha256Digest& digest) {
  std::string out;
  out.reserve(digest.size() * 2);
  for (const std::uint8_t b : digest) {
    out.push_back(kHexDigits[b >> 4U]);
    out.push_back(kHexDigits[b & 0xFU]);
  }
  return out;
}

std::string base64Encode(const std::uint8_t* data, std::size_t size) {
  std::string out;
  out.reserve((size + 2) / 3 * 4);
  std::size_t i = 0;
  for (; i + 3 <= size; i += 3) {
    const std::uint32_t v = (std::uint32_t{data[i]} << 16U) | (std::uint32_t{data[i + 1]} << 8U) |
                            std::uint32_t{data[i + 2]};
    out.push_back(kBase64Alphabet[(v >> 18U) & 0x3FU]);
    out.push_back(kBase64Alphabet[(v >> 12U) & 0x3FU]);
    out.push_back(kBase64Alphabet[(v >> 6U) & 0x3FU]);
    out.push_back(kBase64Alphabet[v & 0x3FU]);
  }
  if (const std::size_t left = size - i; left > 0) {
    std::uint32_t v = std::uint32_t{data[i]} << 16U;
    if (left == 2) v |= std::uint32_t{data[i + 1]} << 8U;
    out.push_back(kBase64Alphabet[(v >> 18U) & 0x3FU]);
    out.push_back(kBase64Alphabet[(v >> 12U) & 0x3FU]);
    out.push_back(left == 2 ? kBase64Alphabet[(v >> 6U) & 0x3FU] : '=');
    out.push_back('=');
  }
  return out;
}

std::optional<std::string> Hash1Builder::addFile(std::string name, const Sha256Digest& sha256) {
  if (name.find('\n') != std::string::npos) {
    failed_ = true;
    return "dirhash: filenames with newlines are not supported";
  }
  files_.emplace_back(std::move(name), sha256);
  return std::nullopt;
}

std::optional<std::string> Hash1Builder::finish() const {
  if (failed_) return std::nullopt;
  // Hash1 sorts the names with sort.Strings (bytewise). Sorting pointers keeps finish() const
  // and leaves equal names in insertion order (Go would hash a duplicate name twice too).
  std::vector<const std::pair<std::string, Sha256Digest>*> sorted;
  sorted.reserve(files_.size());
  for (const auto& f : files_) sorted.push_back(&f);
  std::stable_sort(sorted.begin(), sorted.end(),
                   [](const auto* a, const auto* b) { return a->first < b->first; });
  Sha256Stream summary;
  for (const auto* f : sorted) {
    summary.update(hexDigest(f->second));
    summary.update("  ");
    summary.update(f->first);
    summary.update("\n");
  }
  const Sha256Digest sum = summary.final();
  return "h1:" + base64Encode(sum.data(), sum.size());
}

std::string goModHash(std::string_view go_mod_contents) {
  Hash1Builder builder;
  // "go.mod" has no newline, so neither call can fail.
  (void)builder.addFile("go.mod", Sha256Stream::digest(go_mod_contents));
  return builder.finish().value_or("");
}

}  // namespace gomodprobe::goproxy
