#pragma once

#include <functional>
#include <memory>
#include <string>

#include "agent/agent.h"
#include "gomodprobe/clock.h"
#include "metrics/probe_collector.h"
#include "web/web_server.h"

namespace gomodprobe::web {

/// The web endpoints of a running agent: / renders the landing page from `collector`'s results
/// at request time; /probe runs a configured target with Agent::runNow() (unknown name → 404,
/// too many at once → 503, no result in time → 503); `reload` serves POST /-/reload.
/// `agent`, `collector` and `clock` must outlive the WebServer the handlers are given to.
[[nodiscard]] WebHandlers agentHandlers(agent::Agent& agent,
                                        const metrics::ProbeCollector& collector,
                                        const Clock& clock, std::function<std::string()> reload);

}  // namespace gomodprobe::web
