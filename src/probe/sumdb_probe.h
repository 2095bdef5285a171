#pragma once

#include <memory>

#include "gomodprobe/config.h"
#include "gomodprobe/probe.h"
#include "net/event_loop.h"
#include "sumdb/state_store.h"

namespace gomodprobe::probe {

/// The sumdb probe: the HTTP check of `path` (default /latest), then a SumdbSession against the
/// target's URL with its verifier `key`: the signed tree head, a lookup per configured module
/// (its record id and go.sum lines), the inclusion proof of every record and the consistency of
/// every tree with the largest one verified before (kept in the StateStore under the target's
/// name). See SumdbSession for the reasons.
class SumdbProbe final : public Probe {
 public:
  SumdbProbe(TargetConfig target, net::EventLoop& loop, std::shared_ptr<sumdb::StateStore> state);
  void run(ProbeCallback done) override;

 private:
  TargetConfig target_;
  net::EventLoop& loop_;
  std::shared_ptr<sumdb::StateStore> state_;
};

}  // namespace gomodprobe::probe
