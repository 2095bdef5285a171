#include "probe/probe_factory.h"

#include "probe/chain_probe.h"
#include "probe/dns_probe.h"
#include "probe/goproxy_probe.h"
#include "probe/http_probe.h"
#include "probe/sumdb_probe.h"
#include "probe/vcs_probe.h"

namespace gomodprobe::probe {

ProbeFactory defaultProbeFactory(const ProbeEnv& env) {
  return [env](const TargetConfig& target, net::EventLoop& loop) -> std::unique_ptr<Probe> {
    switch (target.kind) {
      case TargetKind::GoProxy:
        return std::make_unique<GoProxyProbe>(target, loop, env.sumdb_state);
      case TargetKind::SumDb:
        return std::make_unique<SumdbProbe>(target, loop, env.sumdb_state);
      case TargetKind::Chain:
        return std::make_unique<ChainProbe>(target, loop);
      case TargetKind::Dns:
        return std::make_unique<DnsProbe>(target, loop);
      case TargetKind::Vcs:
        return std::make_unique<VcsProbe>(target, loop);
      case TargetKind::Http:
        break;
    }
    return std::make_unique<HttpProbe>(target, loop);
  };
}

}  // namespace gomodprobe::probe
