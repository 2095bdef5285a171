#include "probe/http_probe.h"

#include <memory>
#include <utility>

#include "probe/probe_run.h"

namespace gomodprobe::probe {

HttpProbe::HttpProbe(TargetConfig target, net::EventLoop& loop)
    : target_(std::move(target)), loop_(loop) {}

void HttpProbe::run(ProbeCallback done) {
  // The run holds its own copy of the target so the probe object may go away meanwhile.
  std::make_shared<ProbeRun>(target_, loop_, std::move(done))->start();
}

}  // namespace gomodprobe::probe
