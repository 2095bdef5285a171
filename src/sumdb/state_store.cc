#include "sumdb/state_store.h"

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "sumdb/encoding.h"

namespace gomodprobe::sumdb {

StateStore::StateStore(std::string directory) : directory_(std::move(directory)) {}

std::string StateStore::fileFor(const std::string& key) const {
  std::string safe;
  for (const char c : key) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '-' || c == '_' || c == '.';
    safe += ok ? c : '_';
  }
  return directory_ + "/sumdb-" + safe + ".json";
}

std::optional<Tree> StateStore::get(const std::string& key) {
  std::lock_guard lock(mutex_);
  if (auto it = trees_.find(key); it != trees_.end()) return it->second;
  std::optional<Tree> tree;
  if (!directory_.empty()) {
    std::ifstream in(fileFor(key));
    std::stringstream text;
    text << in.rdbuf();
    const auto json = nlohmann::json::parse(text.str(), nullptr, /*allow_exceptions=*/false);
    if (!json.is_discarded() && json.is_object() && json.contains("n") &&
        json["n"].is_number_integer() && json.contains("hash") && json["hash"].is_string()) {
      if (auto hash = parseHash(json["hash"].get<std::string>())) {
        tree = Tree{json["n"].get<std::int64_t>(), *hash};
      }
    }
  }
  trees_[key] = tree;
  return tree;
}

bool StateStore::put(const std::string& key, const Tree& tree) {
  std::lock_guard lock(mutex_);
  trees_[key] = tree;
  if (directory_.empty()) return true;
  std::error_code ec;
  std::filesystem::create_directories(directory_, ec);
  const std::string path = fileFor(key);
  const std::string tmp = path + ".tmp";
  {
    std::ofstream out(tmp, std::ios::trunc);
    out << nlohmann::json{{"n", tree.n}, {"hash", formatHash(tree.hash)}}.dump() << "\n";
    if (!out) return false;
  }
  return std::rename(tmp.c_str(), path.c_str()) == 0;  // atomic replace
}

}  // namespace gomodprobe::sumdb
