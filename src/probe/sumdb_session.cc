#include "probe/sumdb_session.h"

#include <algorithm>
#include <set>
#include <utility>

#include "goproxy/module_path.h"
#include "sumdb/lookup.h"

namespace gomodprobe::probe {

namespace {

constexpr int kTileHeight = 8;
constexpr int kMaxRounds = 24;
constexpr std::uint64_t kMaxNoteBytes = 1 << 20;
constexpr std::uint64_t kMaxTileBytes = (1U << kTileHeight) * sumdb::kHashSize;

FailureReason failedFetchReason(const net::FetchResponse& r) {
  return r.status_code == 404 || r.status_code == 410 ? FailureReason::NotFound : r.reason;
}

}  // namespace

SumdbSession::SumdbSession(std::string base, sumdb::Verifier verifier, FetchFn fetch,
                           RequestFn request, std::shared_ptr<sumdb::StateStore> state,
                           std::string state_key)
    : base_(std::move(base)),
      verifier_(std::move(verifier)),
      fetch_(std::move(fetch)),
      request_(std::move(request)),
      state_(std::move(state)),
      state_key_(std::move(state_key)) {}

std::optional<sumdb::Tree> SumdbSession::openTree(const std::string& note, FailureReason& reason,
                                                  std::string& detail) {
  const auto opened = sumdb::openNote(note, {verifier_});
  if (!opened.ok()) {
    reason = opened.status == sumdb::NoteStatus::Malformed ? FailureReason::Protocol
                                                           : FailureReason::SumdbSignature;
    detail = "signed tree head: " + opened.error;
    return std::nullopt;
  }
  auto tree = sumdb::parseTree(opened.note->text);
  if (!tree) {
    reason = FailureReason::Protocol;
    detail = "signed tree head: not a tree note";
    return std::nullopt;
  }
  check_.signature_valid = true;
  check_.tree_size = std::max(check_.tree_size, tree->n);
  trees_.push_back(*tree);
  return tree;
}

void SumdbSession::fetchLatest(Done done) {
  net::FetchRequest request = request_(base_ + "/latest");
  request.follow_redirects = true;
  request.max_body_bytes = kMaxNoteBytes;
  auto self = shared_from_this();
  fetch_(std::move(request), [self, done = std::move(done)](const net::FetchResponse& r) {
    if (!r.ok) {
      done(failedFetchReason(r), "latest: " + r.detail);
      return;
    }
    FailureReason reason = FailureReason::None;
    std::string detail;
    if (!self->openTree(r.body, reason, detail)) {
      done(reason, "latest: " + detail);
      return;
    }
    done(FailureReason::None, {});
  });
}

void SumdbSession::lookup(const std::string& module, const std::string& version, LookupDone done) {
  const auto path = goproxy::escapePath(module);
  const auto ver = goproxy::escapeVersion(version);
  if (!path || !ver) {
    done(FailureReason::Protocol, "invalid module " + module + "@" + version, {});
    return;
  }
  net::FetchRequest request = request_(base_ + "/lookup/" + *path + "@" + *ver);
  request.follow_redirects = true;
  request.max_body_bytes = kMaxNoteBytes;
  auto self = shared_from_this();
  fetch_(std::move(request), [self, done = std::move(done)](const net::FetchResponse& r) {
    if (!r.ok) {
      done(failedFetchReason(r), "lookup: " + r.detail, {});
      return;
    }
    const auto parsed = sumdb::parseLookupResponse(r.body);
    if (!parsed.ok()) {
      done(FailureReason::Protocol, "lookup: " + parsed.error, {});
      return;
    }
    FailureReason reason = FailureReason::None;
    std::string detail;
    if (!self->openTree(parsed.record->signed_note, reason, detail)) {
      done(reason, "lookup: " + detail, {});
      return;
    }
    Lookup found{parsed.record->id, parsed.record->text};
    self->lookups_.push_back(found);
    done(FailureReason::None, {}, std::move(found));
  });
}

void SumdbSession::verify(Done done) {
  if (trees_.empty()) {
    done(FailureReason::Protocol, "no signed tree head");
    return;
  }
  // Two heads of the same size must be the same head.
  for (const auto& a : trees_) {
    for (const auto& b : trees_) {
      if (a.n == b.n && a.hash != b.hash) {
        check_.consistency_verified = false;
        done(FailureReason::SumdbInconsistent,
             "two different signed trees of size " + std::to_string(a.n) + " (fork)");
        return;
      }
    }
  }
  round(0, std::move(done));
}

void SumdbSession::round(int attempt, Done done) {
  const sumdb::Tree newest =
      *std::max_element(trees_.begin(), trees_.end(),
                        [](const sumdb::Tree& a, const sumdb::Tree& b) { return a.n < b.n; });
  const std::optional<sumdb::Tree> stored = state_ ? state_->get(state_key_) : std::nullopt;

  std::vector<sumdb::Tile> missing;
  auto fetcher = [this, &missing](const sumdb::Tile& tile) -> sumdb::TileDataResult {
    if (auto it = tiles_.find(tile.path()); it != tiles_.end()) return {it->second, {}};
    if (std::find(missing.begin(), missing.end(), tile) == missing.end()) missing.push_back(tile);
    // A placeholder lets the reader go on to list the rest of its plan; a round with missing
    // tiles never counts, it only gathers what to fetch.
    return {std::string(static_cast<std::size_t>(tile.w) * sumdb::kHashSize, '\0'), {}};
  };
  const sumdb::TileHashReader reader(newest, kTileHeight, fetcher);

  std::optional<std::string> inclusion_error;
  for (const auto& lookup : lookups_) {
    const auto checked = sumdb::checkRecordWithTiles(reader, lookup.id, lookup.text);
    if (!checked.ok() && !inclusion_error) {
      inclusion_error = "record " + std::to_string(lookup.id) + ": " + checked.error;
    }
  }
  std::optional<std::string> consistency_error;
  bool compared = false;
  for (const auto& tree : trees_) {
    if (tree == newest) continue;
    compared = true;
    const auto checked = sumdb::checkOlderTree(reader, tree);
    if (!checked.ok() && !consistency_error) {
      consistency_error = "tree " + std::to_string(tree.n) + " is not a prefix of tree " +
                          std::to_string(newest.n) + ": " + checked.error;
    }
  }
  const bool rollback = stored && stored->n > newest.n;
  if (stored && stored->n <= newest.n) {
    compared = true;
    const auto checked = sumdb::checkOlderTree(reader, *stored);
    if (!checked.ok() && !consistency_error) {
      consistency_error = "the tree of size " + std::to_string(stored->n) +
                          " seen before is not a prefix of tree " + std::to_string(newest.n) +
                          ": " + checked.error;
    }
  } else if (rollback) {
    // The database now serves a smaller tree: fine only if it is a prefix of the one seen
    // before (a stale mirror), which the tiles of the larger tree must prove.
    compared = true;
    const sumdb::TileHashReader older_reader(*stored, kTileHeight, fetcher);
    const auto checked = sumdb::checkOlderTree(older_reader, newest);
    if (!checked.ok() && !consistency_error) {
      consistency_error = "tree " + std::to_string(newest.n) + " is smaller than the tree " +
                          std::to_string(stored->n) +
                          " seen before and not its prefix: " + checked.error;
    }
  }

  if (!missing.empty()) {
    if (attempt >= kMaxRounds) {
      done(FailureReason::Protocol, "tiles: too many rounds");
      return;
    }
    auto self = shared_from_this();
    fetchTiles(missing, [self, attempt, rollback, done = std::move(done)](
                            FailureReason reason, const std::string& detail) mutable {
      if (reason != FailureReason::None) {
        // Tiles of the larger tree seen before are gone: the rollback cannot be proven benign.
        if (rollback && reason == FailureReason::NotFound) {
          self->check_.consistency_verified = false;
          done(FailureReason::SumdbInconsistent, "rollback: " + detail);
          return;
        }
        done(reason == FailureReason::NotFound ? FailureReason::Protocol : reason, detail);
        return;
      }
      self->round(attempt + 1, std::move(done));
    });
    return;
  }

  if (!lookups_.empty()) check_.inclusion_verified = !inclusion_error.has_value();
  if (compared) check_.consistency_verified = !consistency_error.has_value();
  if (consistency_error) {
    done(FailureReason::SumdbInconsistent, *consistency_error);
    return;
  }
  if (inclusion_error) {
    done(FailureReason::SumdbInclusion, *inclusion_error);
    return;
  }
  if (state_ && (!stored || newest.n >= stored->n)) state_->put(state_key_, newest);
  done(FailureReason::None, {});
}

void SumdbSession::fetchTiles(const std::vector<sumdb::Tile>& tiles,
                              std::function<void(FailureReason, std::string)> done) {
  struct Pending {
    std::size_t left = 0;
    FailureReason reason = FailureReason::None;
    std::string detail;
    std::function<void(FailureReason, std::string)> done;
  };
  auto pending = std::make_shared<Pending>();
  pending->left = tiles.size();
  pending->done = std::move(done);
  auto self = shared_from_this();
  auto finish_one = [pending](FailureReason reason, std::string detail) {
    if (reason != FailureReason::None && pending->reason == FailureReason::None) {
      pending->reason = reason;
      pending->detail = std::move(detail);
    }
    if (--pending->left == 0) pending->done(pending->reason, pending->detail);
  };
  for (const auto& tile : tiles) {
    auto store = [self, tile, finish_one](const net::FetchResponse& r, bool full) {
      const std::string_view data =
          full ? sumdb::tilePrefix(tile, r.body) : std::string_view(r.body);
      if (data.size() != static_cast<std::size_t>(tile.w) * sumdb::kHashSize) {
        finish_one(FailureReason::Protocol, "tile " + tile.path() + ": wrong size");
        return;
      }
      self->tiles_[tile.path()] = std::string(data);
      finish_one(FailureReason::None, {});
    };
    net::FetchRequest request = request_(base_ + "/" + tile.path());
    request.follow_redirects = true;
    request.max_body_bytes = kMaxTileBytes;
    fetch_(std::move(request), [self, tile, store, finish_one](const net::FetchResponse& r) {
      if (r.ok) {
        store(r, false);
        return;
      }
      const bool partial = tile.w < (1 << tile.h);
      if (!partial || (r.status_code != 404 && r.status_code != 410)) {
        finish_one(failedFetchReason(r), "tile " + tile.path() + ": " + r.detail);
        return;
      }
      sumdb::Tile full = tile;
      full.w = 1 << tile.h;
      net::FetchRequest again = self->request_(self->base_ + "/" + full.path());
      again.follow_redirects = true;
      again.max_body_bytes = kMaxTileBytes;
      self->fetch_(std::move(again), [tile, store, finish_one](const net::FetchResponse& full_r) {
        if (!full_r.ok) {
          finish_one(failedFetchReason(full_r), "tile " + tile.path() + ": " + full_r.detail);
          return;
        }
        store(full_r, true);
      });
    });
  }
}

}  // namespace gomodprobe::probe
