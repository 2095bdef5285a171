#pragma once

// Private mount + network namespaces for one integration-test process.
//
// Some peers cannot be pointed at 127.0.0.1:<port 0> from the outside: the go command resolves
// module paths such as "git.corp.example/team/repo" through /etc/hosts or DNS and always fetches
// https://host/... on port 443 for go-import discovery, and it never sends requests for loopback IP
// literals through HTTPS_PROXY. enterTestNamespaces() gives the calling process (and every child it
// starts afterwards: nginx, tinyproxy, git, go) its own network namespace with only "lo" (up), so
// binding 127.0.0.1:443 conflicts with nothing, and its own view of /etc/hosts with the given
// names, so these names resolve without touching the machine's files.
//
// Needs root (CAP_SYS_ADMIN), as CI and this machine have; call it at the start of a test before
// any server is started or thread created (each discovered gtest runs in its own process, so the
// namespaces die with the test). Returns std::nullopt on success, else why it failed (for
// GTEST_SKIP or a failure message).

#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace gomodprobe::testing {

/// One /etc/hosts line: address (e.g. "127.0.0.1") and host name.
using HostsEntry = std::pair<std::string, std::string>;

/// Unshares the mount and network namespaces, brings "lo" up, and bind-mounts a private
/// /etc/hosts that holds "127.0.0.1 localhost" plus `hosts`. Not reversible within the process.
[[nodiscard]] std::optional<std::string> enterTestNamespaces(const std::vector<HostsEntry>& hosts);

}  // namespace gomodprobe::testing
