#include "agent/systemd_notifier.h"

#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <charconv>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string_view>
#include <utility>

#include "net/unique_fd.h"

namespace gomodprobe::agent {
namespace {

/// A positive decimal integer and nothing else (as systemd's safe_atou64 / parse_pid accept).
std::optional<std::uint64_t> parsePositive(std::string_view text) {
  std::uint64_t value = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size() || value == 0) return std::nullopt;
  return value;
}

}  // namespace

SystemdNotifier::SystemdNotifier(config::EnvLookup environment)
    : environment_(std::move(environment)) {}

bool SystemdNotifier::notify(const std::string& state) {
  const std::optional<std::string> socket_path = environment_("NOTIFY_SOCKET");
  if (!socket_path || socket_path->empty() || state.empty()) return false;
  const std::string& path = *socket_path;
  // A filesystem path or "@" for the abstract namespace; "vsock:" and the like are not spoken.
  if (path[0] != '/' && path[0] != '@') return false;
  // A path is NUL-terminated (the length may count the NUL); an abstract name is exactly its bytes.
  const std::size_t terminator = path[0] == '/' ? 1 : 0;
  sockaddr_un address{};
  address.sun_family = AF_UNIX;
  if (path.size() + terminator > sizeof(address.sun_path)) return false;
  std::memcpy(static_cast<char*>(address.sun_path), path.data(), path.size());
  if (terminator == 0) address.sun_path[0] = '\0';  // "@name": the abstract namespace
  const auto length =
      static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + path.size() + terminator);

  const net::UniqueFd fd(::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0));
  if (!fd) return false;
  // NOLINTNEXTLINE(cppcoreguidelines-pro-type-reinterpret-cast): the sockets API's sockaddr
  if (::connect(fd.get(), reinterpret_cast<const sockaddr*>(&address), length) != 0) return false;
  const ssize_t sent = ::send(fd.get(), state.data(), state.size(), MSG_NOSIGNAL);
  return sent == static_cast<ssize_t>(state.size());
}

std::optional<std::chrono::microseconds> SystemdNotifier::watchdogTimeout() const {
  const std::optional<std::string> usec_text = environment_("WATCHDOG_USEC");
  if (!usec_text) return std::nullopt;
  const std::optional<std::uint64_t> usec = parsePositive(*usec_text);
  // USEC_INFINITY (2^64-1) is no timeout; anything past what microseconds holds is not one either.
  if (!usec || *usec > static_cast<std::uint64_t>(std::chrono::microseconds::max().count())) {
    return std::nullopt;
  }
  if (const std::optional<std::string> pid_text = environment_("WATCHDOG_PID")) {
    const std::optional<std::uint64_t> pid = parsePositive(*pid_text);
    if (!pid || *pid != static_cast<std::uint64_t>(::getpid())) return std::nullopt;
  }
  return std::chrono::microseconds(static_cast<std::chrono::microseconds::rep>(*usec));
}

}  // namespace gomodprobe::agent
