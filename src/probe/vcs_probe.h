#pragma once

#include <optional>
#include <string>

#include "gomodprobe/config.h"
#include "gomodprobe/probe.h"
#include "net/event_loop.h"
#include "net/http_fetch.h"
#include "vcs/go_import.h"

namespace gomodprobe::probe {

/// The vcs probe: what the go command needs from a private module's host with GOPROXY=direct
/// (go.dev/ref/mod "Finding a repository for a module path"; cmd/go/internal/vcs, Go 1.19):
/// 1. discovery — the HTTP check of `url?go-get=1` (every requested HTTP version, redirects
///    followed, credentials sent): the go-import tags parsed like parseMetaGoImports (module mode:
///    `mod` entries win) and matched against `module` like matchGoImport; the first attempt gives
///    the discovered VCS and repo root (ProbeResult::vcs). As in the go command, a page with
///    matching tags is accepted whatever its status;
/// 2. info_refs — for git repos over HTTP(S): `GET <repo>/info/refs?service=git-upload-pack`
///    with `Git-Protocol: version=2` (redirects followed, credentials sent): 200, Content-Type
///    application/x-git-upload-pack-advertisement and a valid pkt-line advertisement (v0/v1 refs
///    or v2 capabilities; see parseUploadPackAdvertisement); a dumb server passes, saying so;
/// 3. ssh_banner — when `ssh` is set: the host resolved with the primary resolver, a TCP connect
///    on the event loop, our identification "SSH-2.0-gomodprobe_<version>" sent and the server's
///    identification line read (RFC 4253 §4.2), then the connection closed.
/// Each step is timed (gomodprobe_vcs_step_duration_seconds). Reasons: vcs_auth (401/403: the
/// host is reachable, credentials missing or refused; or a credential file unreadable at run
/// time), vcs_protocol (no matching go-import tag, unknown VCS, invalid repo root, an answer that
/// is neither a smart advertisement nor a dumb ref list, a malformed advertisement), ssh_banner,
/// http_status (e.g. 404 of a missing repository) and the DNS/connect/TLS/timeout reasons. A failed
/// discovery ends the run (no info_refs, no SSH); the later steps each run after the previous one,
/// also when it failed. Not done: the go command's re-check of a non-authoritative tag (prefix ≠
/// module path) against the prefix's own page; VCSs other than git get discovery only.
class VcsProbe final : public Probe {
 public:
  VcsProbe(TargetConfig target, net::EventLoop& loop);
  void run(ProbeCallback done) override;

 private:
  TargetConfig target_;
  net::EventLoop& loop_;
};

/// A step's verdict on one HTTP response.
struct VcsVerdict {
  FailureReason reason = FailureReason::None;
  std::string detail;
  std::optional<vcs::MetaImport> match;  ///< discovery: the matching tag
  std::string protocol;                  ///< info_refs: smart-v0/v1/v2, or dumb
};

/// Judges a discovery response for `module` (see VcsProbe). `with_credentials` only words the
/// detail of a 401/403 ("refused" rather than "missing").
[[nodiscard]] VcsVerdict judgeDiscovery(const net::FetchResponse& response,
                                        const std::string& module, bool with_credentials);
/// Judges an info/refs response (see VcsProbe). A dumb server (another Content-Type, e.g.
/// text/plain, with a valid "<oid>\t<ref>" list) passes with protocol "dumb": git falls back to
/// the dumb protocol and the go command, whose shallow fetch then fails, falls back to a full
/// fetch that works (checked against `go mod download`); anything else is vcs_protocol.
[[nodiscard]] VcsVerdict judgeInfoRefs(const net::FetchResponse& response, bool with_credentials);

}  // namespace gomodprobe::probe
