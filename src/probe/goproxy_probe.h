#pragma once

#include "gomodprobe/config.h"
#include "gomodprobe/probe.h"
#include "net/event_loop.h"

namespace gomodprobe::probe {

/// The goproxy probe: the HTTP check of the target (see HttpProbe), then, for each configured
/// module, a full fetch as the go command does it (go.dev/ref/mod "GOPROXY protocol";
/// cmd/go/internal/modfetch/proxy.go): $url/<escaped path>/@v/list, @latest when the version asked
/// for is "latest" and the list has no valid version, @v/<V>.info (its Version must be V, its Time
/// RFC 3339), @v/<V>.mod and @v/<V>.zip. Each step is timed; the zip is spooled to an anonymous
/// temporary file (memory stays flat), checked like zip.CheckZip and hashed like
/// dirhash.HashZip; the go.mod is hashed like the "/go.mod h1:" go.sum line. The hashes are
/// compared with the target's `go_sum` lines. Requests use the target's first HTTP version and
/// follow redirects, as the go command does. Failures: not_found (404/410), protocol (malformed
/// list or .info), zip_invalid, checksum_mismatch, and the transport reasons.
class GoProxyProbe final : public Probe {
 public:
  GoProxyProbe(TargetConfig target, net::EventLoop& loop);
  void run(ProbeCallback done) override;

 private:
  TargetConfig target_;
  net::EventLoop& loop_;
};

}  // namespace gomodprobe::probe
