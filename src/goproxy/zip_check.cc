#include "goproxy/zip_check.h"

#include <cstddef>
#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include "goproxy/module_path.h"
#include "goproxy/unicode_util.h"

namespace gomodprobe::goproxy {
namespace {

// path.Base (Go src/path/path.go).
std::string_view basePath(std::string_view path) {
  if (path.empty()) return ".";
  while (path.size() > 1 && path.back() == '/') path.remove_suffix(1);
  if (const std::size_t slash = path.rfind('/'); slash != std::string_view::npos) {
    path.remove_prefix(slash + 1);
  }
  if (path.empty()) return "/";
  return path;
}

// path.Dir (Go src/path/path.go): Clean of everything up to the last '/'.
std::string dirPath(std::string_view path) {
  const std::size_t slash = path.rfind('/');
  return cleanPath(slash == std::string_view::npos ? std::string_view{}
                                                   : path.substr(0, slash + 1));
}

}  // namespace

std::string cleanPath(std::string_view path) {
  if (path.empty()) return ".";
  const bool rooted = path.front() == '/';
  const std::size_t n = path.size();
  std::string out;
  out.reserve(n);
  std::size_t r = 0;
  std::size_t dotdot = 0;  // index in out where ".." must stop backtracking
  if (rooted) {
    out.push_back('/');
    r = 1;
    dotdot = 1;
  }
  while (r < n) {
    if (path[r] == '/' || (path[r] == '.' && (r + 1 == n || path[r + 1] == '/'))) {
      ++r;  // empty or . element
    } else if (path[r] == '.' && path[r + 1] == '.' && (r + 2 == n || path[r + 2] == '/')) {
      r += 2;  // .. element: remove to last '/'
      if (out.size() > dotdot) {
        std::size_t w = out.size() - 1;
        while (w > dotdot && out[w] != '/') --w;
        out.resize(w);
      } else if (!rooted) {
        if (!out.empty()) out.push_back('/');
        out += "..";
        dotdot = out.size();
      }
    } else {
      if ((rooted && out.size() != 1) || (!rooted && !out.empty())) out.push_back('/');
      for (; r < n && path[r] != '/'; ++r) out.push_back(path[r]);
    }
  }
  if (out.empty()) return ".";
  return out;
}

std::optional<std::string> checkZipFileSize(std::uint64_t zip_size) {
  if (zip_size > kMaxZipFile) {
    return "module zip file is too large (" + std::to_string(zip_size) + " bytes; limit is " +
           std::to_string(kMaxZipFile) + " bytes)";
  }
  return std::nullopt;
}

ZipChecker::ZipChecker(std::string_view module_path, std::string_view version)
    : prefix_(std::string(module_path) + "@" + std::string(version) + "/"),
      module_error_(checkModuleVersion(module_path, version)) {}

std::optional<std::string> ZipChecker::addEntry(std::string_view name,
                                                std::uint64_t uncompressed_size) {
  if (module_error_) return module_error_;
  std::optional<std::string> err = checkEntry(name, uncompressed_size);
  if (err) {
    invalid_.push_back(std::string(name) + ": " + *err);
  } else if (name.size() > prefix_.size() && !name.ends_with('/')) {
    valid_.emplace_back(name);
  }
  return err;
}

std::optional<std::string> ZipChecker::checkEntry(std::string_view full_name,
                                                  std::uint64_t uncompressed_size) {
  if (!full_name.starts_with(prefix_)) {
    return "path does not have prefix " + goQuote(prefix_);
  }
  std::string_view name = full_name.substr(prefix_.size());
  if (name.empty()) return std::nullopt;
  const bool is_dir = name.ends_with('/');
  if (is_dir) name.remove_suffix(1);
  if (cleanPath(name) != name) return "file path is not clean";
  if (auto err = checkFilePath(name)) return err;
  if (auto err = checkCollision(name, is_dir)) return err;
  if (is_dir) return std::nullopt;
  if (const std::string_view base = basePath(name); equalFold(base, "go.mod")) {
    if (base != name) return "go.mod file not in module root directory";
    if (name != "go.mod") return "go.mod files must have lowercase names";
  }
  // Go converts the size to int64, so sizes above INT64_MAX count as negative: too large.
  const bool representable =
      uncompressed_size <= std::uint64_t{std::numeric_limits<std::int64_t>::max()};
  if (representable && kMaxZipFile - size_ >= uncompressed_size) {
    size_ += uncompressed_size;
  } else if (!size_error_) {
    size_error_ = "total uncompressed size of module contents too large (max size is " +
                  std::to_string(kMaxZipFile) + " bytes)";
  }
  if (name == "go.mod" && uncompressed_size > kMaxGoMod) {
    return "go.mod file too large (max size is " + std::to_string(kMaxGoMod) + " bytes)";
  }
  if (name == "LICENSE" && uncompressed_size > kMaxLicense) {
    return "LICENSE file too large (max size is " + std::to_string(kMaxLicense) + " bytes)";
  }
  return std::nullopt;
}

std::optional<std::string> ZipChecker::checkCollision(std::string_view path, bool is_dir) {
  // collisionChecker.check, iterative over the parent directories.
  std::string current(path);
  bool current_is_dir = is_dir;
  while (true) {
    std::string fold = strToFold(current);
    if (const auto it = collisions_.find(fold); it != collisions_.end()) {
      const PathInfo& other = it->second;
      if (current != other.path) {
        return "case-insensitive file name collision: " + goQuote(other.path) + " and " +
               goQuote(current);
      }
      if (current_is_dir != other.is_dir) {
        return "entry " + goQuote(current) + " is both a file and a directory";
      }
      if (!current_is_dir) return "multiple entries for file " + goQuote(current);
    } else {
      collisions_.emplace(std::move(fold), PathInfo{current, current_is_dir});
    }
    std::string parent = dirPath(current);
    if (parent == ".") return std::nullopt;
    current = std::move(parent);
    current_is_dir = true;
  }
}

std::optional<std::string> ZipChecker::finish() const {
  if (module_error_) return module_error_;
  if (size_error_) return size_error_;
  if (invalid_.empty()) return std::nullopt;
  std::string out;
  for (const std::string& e : invalid_) {
    if (!out.empty()) out.push_back('\n');
    out += e;
  }
  return out;
}

}  // namespace gomodprobe::goproxy
