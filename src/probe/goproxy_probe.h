#pragma once

#include <memory>

#include "gomodprobe/config.h"
#include "gomodprobe/probe.h"
#include "net/event_loop.h"
#include "sumdb/state_store.h"

namespace gomodprobe::probe {

/// The goproxy probe: the HTTP check of the target (see HttpProbe), then, for each configured
/// module, a full fetch as the go command does it (go.dev/ref/mod "GOPROXY protocol";
/// cmd/go/internal/modfetch/proxy.go): $url/<escaped path>/@v/list, @latest when the version asked
/// for is "latest" and the list has no valid version, @v/<V>.info (its Version must be V, its Time
/// RFC 3339), @v/<V>.mod and @v/<V>.zip. Each step is timed; the zip is spooled to an anonymous
/// temporary file (memory stays flat), checked like zip.CheckZip and hashed like
/// dirhash.HashZip; the go.mod is hashed like the "/go.mod h1:" go.sum line. The hashes are
/// compared with the target's `go_sum` lines and, when the target names a `sumdb`, with the
/// go.sum lines of verified lookups in that checksum database — through the proxy
/// ($url/sumdb/<name>/supported, then $url/sumdb/<name>/lookup/…) unless the value gives the
/// database's own URL; the run then proves the records' inclusion and the trees' consistency
/// (see SumdbSession; state kept under "goproxy-<target>"). Requests use the target's first HTTP
/// version and follow redirects, as the go command does. Failures: not_found (404/410), protocol
/// (malformed list or .info), zip_invalid, checksum_mismatch, sumdb_unsupported and the other sumdb
/// reasons, and the transport reasons.
class GoProxyProbe final : public Probe {
 public:
  GoProxyProbe(TargetConfig target, net::EventLoop& loop,
               std::shared_ptr<sumdb::StateStore> state = std::make_shared<sumdb::StateStore>());
  void run(ProbeCallback done) override;

 private:
  TargetConfig target_;
  net::EventLoop& loop_;
  std::shared_ptr<sumdb::StateStore> state_;
};

}  // namespace gomodprobe::probe
