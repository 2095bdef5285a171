#include "config/secret_file.h"

#include <array>
#include <cerrno>
#include <cstdio>
#include <memory>
#include <system_error>

namespace gomodprobe::config {

namespace {

constexpr std::size_t kMaxSecretFile = 1 << 20;

bool readAll(const std::string& path, std::string& out, std::string* error) {
  errno = 0;
  std::unique_ptr<std::FILE, int (*)(std::FILE*)> file(std::fopen(path.c_str(), "rb"),
                                                       &std::fclose);
  if (!file) {
    if (error != nullptr)
      *error = "cannot read " + path + ": " + std::generic_category().message(errno);
    return false;
  }
  std::array<char, 4096> buffer{};
  for (;;) {
    const std::size_t n = std::fread(buffer.data(), 1, buffer.size(), file.get());
    out.append(buffer.data(), n);
    if (out.size() > kMaxSecretFile) {
      if (error != nullptr) *error = path + " is larger than 1 MiB";
      return false;
    }
    if (n < buffer.size()) break;
  }
  if (std::ferror(file.get()) != 0) {
    if (error != nullptr) {
      *error =
          "cannot read " + path + ": " + std::generic_category().message(errno != 0 ? errno : EIO);
    }
    return false;
  }
  return true;
}

}  // namespace

std::optional<std::string> readSecretFile(const std::string& path, std::string* error) {
  std::string contents;
  if (!readAll(path, contents, error)) return std::nullopt;
  const auto newline = contents.find('\n');
  if (newline != std::string::npos) contents.resize(newline);
  if (!contents.empty() && contents.back() == '\r') contents.pop_back();
  if (contents.empty()) {
    if (error != nullptr) *error = path + " is empty (the secret is its first line)";
    return std::nullopt;
  }
  return contents;
}

bool checkReadable(const std::string& path, std::string* error) {
  std::string contents;
  return readAll(path, contents, error);
}

}  // namespace gomodprobe::config
