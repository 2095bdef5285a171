#include "test_namespace.h"

#include <net/if.h>
#include <sched.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>

namespace gomodprobe::testing {

namespace {

std::string errnoText(const std::string& what) { return what + ": " + std::strerror(errno); }

/// SIOCSIFFLAGS IFF_UP on "lo" (what `ip link set lo up` does).
std::optional<std::string> loopbackUp() {
  const int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return errnoText("socket");
  ifreq request{};
  std::strncpy(request.ifr_name, "lo", IFNAMSIZ - 1);
  std::optional<std::string> error;
  if (ioctl(fd, SIOCGIFFLAGS, &request) != 0) {
    error = errnoText("SIOCGIFFLAGS lo");
  } else {
    request.ifr_flags = static_cast<short>(request.ifr_flags | IFF_UP | IFF_RUNNING);
    if (ioctl(fd, SIOCSIFFLAGS, &request) != 0) error = errnoText("SIOCSIFFLAGS lo");
  }
  close(fd);
  return error;
}

}  // namespace

std::optional<std::string> enterTestNamespaces(const std::vector<HostsEntry>& hosts) {
  if (unshare(CLONE_NEWNS | CLONE_NEWNET) != 0) return errnoText("unshare(CLONE_NEWNS|NEWNET)");
  // Keep our mounts out of the parent namespace.
  if (mount("none", "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0) {
    return errnoText("mount --make-rprivate /");
  }
  if (auto error = loopbackUp()) return error;

  char path[] = "/tmp/gomodprobe-hosts-XXXXXX";
  const int fd = mkstemp(path);
  if (fd < 0) return errnoText("mkstemp");
  close(fd);
  {
    std::ofstream out(path);
    out << "127.0.0.1 localhost\n::1 localhost\n";
    for (const auto& [address, name] : hosts) out << address << ' ' << name << '\n';
    if (!out) return "cannot write " + std::string(path);
  }
  const int rc = mount(path, "/etc/hosts", nullptr, MS_BIND, nullptr);
  const std::string failure = rc != 0 ? errnoText("bind-mount /etc/hosts") : "";
  unlink(path);  // the bind mount keeps the inode alive
  if (rc != 0) return failure;
  return std::nullopt;
}

}  // namespace gomodprobe::testing
