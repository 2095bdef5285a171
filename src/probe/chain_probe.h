#pragma once

#include "gomodprobe/config.h"
#include "gomodprobe/probe.h"
#include "net/event_loop.h"

namespace gomodprobe::probe {

/// The chain probe: evaluates the target's GOPROXY value for each configured module as the go
/// command does (cmd/go/internal/modfetch/proxy.go TryProxies; go.dev/ref/mod "GOPROXY"): entries
/// are asked in order ($entry/<module>/@v/<version>.info, or @v/list for "latest"); after ','
/// the next entry is tried only when the answer was 404 or 410, after '|' after any error;
/// "direct" serves itself (the VCS is not contacted), "off" fails. The result lists, per module,
/// the index of the serving entry (−1: none) in ProbeResult::chain_entries. The run succeeds when
/// every module is served. Hosts are resolved by curl (no per-resolver DNS for chains).
class ChainProbe final : public Probe {
 public:
  ChainProbe(TargetConfig target, net::EventLoop& loop);
  void run(ProbeCallback done) override;

 private:
  TargetConfig target_;
  net::EventLoop& loop_;
};

}  // namespace gomodprobe::probe
