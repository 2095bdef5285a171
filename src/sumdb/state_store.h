#pragma once

#include <map>
#include <mutex>
#include <optional>
#include <string>

#include "sumdb/tlog.h"

namespace gomodprobe::sumdb {

/// The largest verified tree seen per checksum-database target, so that the next run (and a
/// restarted agent) can prove the database only grew (tlog consistency) and detect a rollback or
/// a fork. With a directory, each entry is kept in `<dir>/sumdb-<key>.json`
/// ({"n": size, "hash": base64}) and read back on first use; without one it lives in memory.
/// Thread-safe.
class StateStore {
 public:
  explicit StateStore(std::string directory = {});

  [[nodiscard]] std::optional<Tree> get(const std::string& key);
  /// Stores `tree` for `key`; returns false (and logs nothing) when the file cannot be written.
  bool put(const std::string& key, const Tree& tree);
  [[nodiscard]] const std::string& directory() const { return directory_; }

 private:
  [[nodiscard]] std::string fileFor(const std::string& key) const;

  std::string directory_;
  std::mutex mutex_;
  std::map<std::string, std::optional<Tree>> trees_;  // guarded by mutex_
};

}  // namespace gomodprobe::sumdb
