#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "gomodprobe/probe.h"
#include "net/http_fetch.h"
#include "sumdb/note.h"
#include "sumdb/state_store.h"
#include "sumdb/tlog.h"

namespace gomodprobe::probe {

/// A conversation with one checksum database, following sumdb.Client (x/mod sumdb/client.go) and
/// go.dev/ref/mod "Checksum database": GET <base>/latest (a signed tree head), GET
/// <base>/lookup/<module>@<version> (record id, go.sum lines, signed tree head), and the hash
/// tiles (<base>/tile/8/L/N[.p/W]; tile height 8) needed to prove that every looked-up record is
/// in the newest tree seen (RFC 6962 inclusion) and that every tree seen — /latest, the lookups',
/// and the largest verified tree of earlier runs from the StateStore — is a prefix of the newest
/// (consistency). A partial tile that is gone is read from the full tile, as the go command does.
/// Fails closed: sumdb_signature, sumdb_inclusion, sumdb_inconsistent, protocol (malformed note,
/// record or tile), not_found, or the transport reason. Loop thread only.
class SumdbSession : public std::enable_shared_from_this<SumdbSession> {
 public:
  /// Issues one request for the session (the owning run's fetch, so the deadline applies).
  using FetchFn = std::function<void(net::FetchRequest, net::Fetch::Callback)>;
  using RequestFn = std::function<net::FetchRequest(const std::string& url)>;
  /// reason None = ok.
  using Done = std::function<void(FailureReason reason, std::string detail)>;

  struct Lookup {
    std::int64_t id = -1;
    std::string text;  ///< the authenticated go.sum lines
  };
  using LookupDone = std::function<void(FailureReason reason, std::string detail, Lookup found)>;

  /// `base` without trailing '/': https://sum.golang.org, or <proxy>/sumdb/<name>.
  SumdbSession(std::string base, sumdb::Verifier verifier, FetchFn fetch, RequestFn request,
               std::shared_ptr<sumdb::StateStore> state, std::string state_key);

  void fetchLatest(Done done);
  void lookup(const std::string& module, const std::string& version, LookupDone done);
  /// Inclusion of every lookup and consistency of every tree; saves the newest tree when all
  /// holds.
  void verify(Done done);

  [[nodiscard]] const SumdbCheck& check() const { return check_; }

 private:
  /// Opens a signed tree note; nullopt with reason/detail set on failure.
  std::optional<sumdb::Tree> openTree(const std::string& note, FailureReason& reason,
                                      std::string& detail);
  void round(int attempt, Done done);
  void fetchTiles(const std::vector<sumdb::Tile>& tiles,
                  std::function<void(FailureReason, std::string)> done);

  std::string base_;
  sumdb::Verifier verifier_;
  FetchFn fetch_;
  RequestFn request_;
  std::shared_ptr<sumdb::StateStore> state_;
  std::string state_key_;
  SumdbCheck check_;
  std::vector<sumdb::Tree> trees_;  // every verified tree head seen this run
  std::vector<Lookup> lookups_;
  std::map<std::string, std::string> tiles_;  // tile path → exactly w*32 bytes
};

}  // namespace gomodprobe::probe
