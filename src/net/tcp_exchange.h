#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "gomodprobe/probe.h"
#include "net/event_loop.h"

namespace gomodprobe::net {

/// A raw TCP exchange on the event loop: a non-blocking connect to `address`:`port` (an IPv4 or
/// IPv6 literal), then `greeting` is written, and what the peer sends is read until `complete`
/// says enough, the peer closes, or `max_bytes` arrived. Used for protocols curl does not speak
/// (the SSH identification exchange).
struct TcpExchangeRequest {
  std::string address;
  std::uint16_t port = 0;
  std::string greeting;  ///< written once connected (may be empty)
  /// Called with everything received so far and whether the peer closed; true ends the exchange.
  std::function<bool(std::string_view received, bool eof)> complete;
  std::size_t max_bytes = 64 * 1024 + 256;
  std::chrono::steady_clock::time_point deadline;
};

struct TcpExchangeResult {
  /// None when `complete` accepted the data (or the peer closed / max_bytes was reached: the
  /// caller judges `received`); else connect_refused, connect_timeout, connect_error (connect
  /// failed) or timeout (connected, then the deadline passed).
  FailureReason reason = FailureReason::None;
  std::string detail;
  bool connected = false;
  bool eof = false;                       ///< the peer closed (or reset) the connection
  std::optional<double> connect_seconds;  ///< start → TCP handshake complete
  double total_seconds = 0;               ///< start → end
  std::string received;
};

/// A running exchange. abort() ends it at once (as at the deadline), calling back synchronously.
/// Dropping the last reference closes the socket without calling back. Loop thread only.
class TcpExchange {
 public:
  using Callback = std::function<void(TcpExchangeResult)>;
  virtual ~TcpExchange() = default;
  virtual void abort() = 0;
};

/// Starts an exchange; `done` runs exactly once on the loop thread (never inside this call),
/// unless the returned handle is dropped first. The caller must keep the handle.
[[nodiscard]] std::shared_ptr<TcpExchange> startTcpExchange(EventLoop& loop,
                                                            TcpExchangeRequest request,
                                                            TcpExchange::Callback done);

}  // namespace gomodprobe::net
