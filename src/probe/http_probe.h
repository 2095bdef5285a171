#pragma once

#include "gomodprobe/config.h"
#include "gomodprobe/probe.h"
#include "net/event_loop.h"

namespace gomodprobe::probe {

/// The HTTP probe (kind http): resolves the URL's host with every configured resolver (c-ares,
/// timed per resolver), then, with the primary resolver's address handed to curl through
/// CURLOPT_RESOLVE, makes one request per requested HTTP version, each on a fresh connection (no
/// reuse, no TLS session resumption). Phases follow blackbox_exporter: resolve (c-ares), connect,
/// tls, processing (request sent → first byte), transfer (first byte → done), from
/// CURLINFO_*_TIME_T. Success: every attempt got a 2xx. See ProbeRun.
class HttpProbe final : public Probe {
 public:
  HttpProbe(TargetConfig target, net::EventLoop& loop);
  void run(ProbeCallback done) override;

 private:
  TargetConfig target_;
  net::EventLoop& loop_;
};

}  // namespace gomodprobe::probe
