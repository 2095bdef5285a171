#include "web/agent_handlers.h"

#include "web/landing_page.h"
#include "web/probe_page.h"

namespace gomodprobe::web {

WebHandlers agentHandlers(agent::Agent& agent, const metrics::ProbeCollector& collector,
                          const Clock& clock, std::function<std::string()> reload) {
  WebHandlers handlers;
  handlers.reload = std::move(reload);
  handlers.landing_page = [&collector, &clock](const WebHandlers::BodyWriter& write) {
    renderLandingPage(collector.targetSnapshots(),
                      LandingPageInfo{GOMODPROBE_VERSION, clock.systemNow(), 10}, write);
  };
  handlers.probe = [&agent](const std::string& target, bool debug) {
    agent::OnDemandOutcome outcome = agent.runNow(target);
    switch (outcome.error) {
      case agent::OnDemandError::None:
        break;
      case agent::OnDemandError::UnknownTarget:
        // The name is not echoed back: it is whatever the client sent.
        return ProbeReply{404, "text/plain; charset=utf-8",
                          "unknown target: /probe runs only targets named in the configuration\n"};
      case agent::OnDemandError::Busy:
        return ProbeReply{503, "text/plain; charset=utf-8",
                          "too many /probe requests in flight, try again later\n"};
      case agent::OnDemandError::NoAnswer:
        return ProbeReply{503, "text/plain; charset=utf-8", "the probe did not finish in time\n"};
    }
    const auto& run = *outcome.run;
    if (debug)
      return ProbeReply{200, "text/plain; charset=utf-8", probeDebugText(run.target, run.result)};
    return ProbeReply{200, "text/plain; version=0.0.4; charset=utf-8",
                      probeMetricsText(run.target, run.result)};
  };
  return handlers;
}

}  // namespace gomodprobe::web
