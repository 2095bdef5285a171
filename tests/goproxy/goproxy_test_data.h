#pragma once

// Readers for the Go-generated vectors and module archives in tests/data/goproxy.

#include <cstddef>
#include <fstream>
#include <sstream>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace gomodprobe::goproxy::test_data {

inline const std::string kGoproxyDataDir = std::string(GOMODPROBE_TEST_DATA_DIR) + "/goproxy";

/// The whole file, or "" if it cannot be read (tests then fail on their expectations).
inline std::string readDataFile(const std::string& name) {
  std::ifstream in(kGoproxyDataDir + "/" + name, std::ios::binary);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

/// The lines of `text` without their '\n'.
inline std::vector<std::string> splitLines(std::string_view text) {
  std::vector<std::string> lines;
  while (!text.empty()) {
    const std::size_t nl = text.find('\n');
    lines.emplace_back(text.substr(0, nl));
    if (nl == std::string_view::npos) break;
    text.remove_prefix(nl + 1);
  }
  return lines;
}

/// One file of a txtar archive.
struct ArchiveFile {
  std::string name;
  std::string data;
};

/// A txtar archive (the format of Go's cmd/go/testdata/mod): a comment, then files introduced by
/// "-- name --" lines; each file's data gets a final newline if it lacks one. Same rules as the
/// generator gen_hash_vectors.go.txt.
struct Archive {
  std::string comment;
  std::vector<ArchiveFile> files;
};

inline Archive parseArchive(std::string_view text) {
  Archive archive;
  ArchiveFile* current = nullptr;
  while (!text.empty()) {
    const std::size_t nl = text.find('\n');
    const std::size_t len = nl == std::string_view::npos ? text.size() : nl + 1;
    const std::string_view line = text.substr(0, len);
    text.remove_prefix(len);
    std::string_view bare = line;
    if (bare.ends_with('\n')) bare.remove_suffix(1);
    if (bare.size() >= 6 && bare.starts_with("-- ") && bare.ends_with(" --")) {
      std::string_view name = bare.substr(3, bare.size() - 6);
      while (!name.empty() && name.front() == ' ') name.remove_prefix(1);
      while (!name.empty() && name.back() == ' ') name.remove_suffix(1);
      archive.files.push_back({std::string(name), {}});
      current = &archive.files.back();
      continue;
    }
    if (current == nullptr) {
      archive.comment += line;
    } else {
      current->data += line;
    }
  }
  for (ArchiveFile& f : archive.files) {
    if (!f.data.empty() && f.data.back() != '\n') f.data.push_back('\n');
  }
  return archive;
}

/// Decodes the %XX escapes of module_vectors.txt.
inline std::string percentDecode(std::string_view s) {
  std::string out;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%' && i + 2 < s.size()) {
      out.push_back(static_cast<char>(std::stoi(std::string(s.substr(i + 1, 2)), nullptr, 16)));
      i += 2;
    } else {
      out.push_back(s[i]);
    }
  }
  return out;
}

/// The decoded tab-separated fields of a module_vectors.txt line.
inline std::vector<std::string> vectorFields(std::string_view line) {
  std::vector<std::string> fields;
  while (true) {
    const std::size_t tab = line.find('\t');
    fields.push_back(percentDecode(line.substr(0, tab)));
    if (tab == std::string_view::npos) break;
    line.remove_prefix(tab + 1);
  }
  return fields;
}

/// The lines of module_vectors.txt of one kind, as decoded fields without the kind.
inline std::vector<std::vector<std::string>> moduleVectors(std::string_view kind) {
  std::vector<std::vector<std::string>> out;
  for (const std::string& line : splitLines(readDataFile("module_vectors.txt"))) {
    if (line.empty() || line.front() == '#') continue;
    std::vector<std::string> fields = vectorFields(line);
    if (fields.front() != kind) continue;
    fields.erase(fields.begin());
    out.push_back(std::move(fields));
  }
  return out;
}

}  // namespace gomodprobe::goproxy::test_data
