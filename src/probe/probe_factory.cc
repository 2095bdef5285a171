#include "probe/probe_factory.h"

#include "probe/http_probe.h"

namespace gomodprobe::probe {

ProbeFactory defaultProbeFactory() {
  return [](const TargetConfig& target, net::EventLoop& loop) -> std::unique_ptr<Probe> {
    return std::make_unique<HttpProbe>(target, loop);
  };
}

}  // namespace gomodprobe::probe
