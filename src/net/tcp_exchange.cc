#include "net/tcp_exchange.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstring>
#include <system_error>
#include <utility>

#include "net/unique_fd.h"

namespace gomodprobe::net {

namespace {

FailureReason connectReason(int error) {
  if (error == ECONNREFUSED) return FailureReason::ConnectRefused;
  if (error == ETIMEDOUT) return FailureReason::ConnectTimeout;
  return FailureReason::ConnectError;
}

std::string errnoText(int error) { return std::system_category().message(error); }

class TcpExchangeImpl final : public TcpExchange,
                              public std::enable_shared_from_this<TcpExchangeImpl> {
 public:
  TcpExchangeImpl(EventLoop& loop, TcpExchangeRequest request, Callback done)
      : loop_(loop), request_(std::move(request)), done_(std::move(done)) {}

  ~TcpExchangeImpl() override {
    if (watch_ != 0) loop_.unwatchFd(watch_);
    if (timer_ != 0) loop_.cancelTimer(timer_);
  }
  TcpExchangeImpl(const TcpExchangeImpl&) = delete;
  TcpExchangeImpl& operator=(const TcpExchangeImpl&) = delete;

  void start() {
    started_ = loop_.clock().steadyNow();
    sockaddr_storage storage{};
    socklen_t length = 0;
    int family = AF_INET;
    if (request_.address.find(':') != std::string::npos) {
      family = AF_INET6;
      auto* sin6 = reinterpret_cast<sockaddr_in6*>(&storage);
      sin6->sin6_family = AF_INET6;
      sin6->sin6_port = htons(request_.port);
      if (inet_pton(AF_INET6, request_.address.c_str(), &sin6->sin6_addr) != 1) {
        return failLater(FailureReason::ConnectError, "invalid address " + request_.address);
      }
      length = sizeof(sockaddr_in6);
    } else {
      auto* sin = reinterpret_cast<sockaddr_in*>(&storage);
      sin->sin_family = AF_INET;
      sin->sin_port = htons(request_.port);
      if (inet_pton(AF_INET, request_.address.c_str(), &sin->sin_addr) != 1) {
        return failLater(FailureReason::ConnectError, "invalid address " + request_.address);
      }
      length = sizeof(sockaddr_in);
    }
    fd_ = UniqueFd(::socket(family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
    if (fd_.get() < 0) {
      return failLater(FailureReason::ConnectError, "socket: " + errnoText(errno));
    }
    std::weak_ptr<TcpExchangeImpl> weak = weak_from_this();
    timer_ = loop_.addTimer(request_.deadline, [weak] {
      if (auto self = weak.lock()) {
        self->timer_ = 0;
        self->abort();
      }
    });
    if (::connect(fd_.get(), reinterpret_cast<const sockaddr*>(&storage), length) == 0) {
      // Loopback may connect at once; continue from the loop, never inside start().
      watch_ = loop_.watchFd(fd_.get(), true, true, [weak](EventLoop::FdReady ready) {
        if (auto self = weak.lock()) self->onReady(ready);
      });
      return;
    }
    if (errno != EINPROGRESS) {
      return failLater(connectReason(errno), "connect: " + errnoText(errno));
    }
    // Readable too: a refused connect can show up as POLLHUP|POLLIN without POLLOUT.
    watch_ = loop_.watchFd(fd_.get(), true, true, [weak](EventLoop::FdReady ready) {
      if (auto self = weak.lock()) self->onReady(ready);
    });
  }

  void abort() override {
    if (finished_) return;
    result_.reason = result_.connected ? FailureReason::Timeout : FailureReason::ConnectTimeout;
    result_.detail = result_.connected ? "deadline exceeded after connecting"
                                       : "no TCP handshake before the deadline";
    finish();
  }

 private:
  void failLater(FailureReason reason, std::string detail) {
    result_.reason = reason;
    result_.detail = std::move(detail);
    loop_.post([self = shared_from_this()] { self->finish(); });
  }

  void onReady(EventLoop::FdReady ready) {
    if (finished_) return;
    if (!result_.connected) {
      int error = 0;
      socklen_t len = sizeof(error);
      if (::getsockopt(fd_.get(), SOL_SOCKET, SO_ERROR, &error, &len) != 0) error = errno;
      if (error != 0) {
        result_.reason = connectReason(error);
        result_.detail = "connect: " + errnoText(error);
        finish();
        return;
      }
      if (!ready.writable) return;  // still connecting
      result_.connected = true;
      result_.connect_seconds = elapsed();
      if (!request_.greeting.empty()) {
        // A short greeting on a fresh connection fits the empty send buffer.
        const ssize_t n =
            ::send(fd_.get(), request_.greeting.data(), request_.greeting.size(), MSG_NOSIGNAL);
        (void)n;  // a failed send shows up as a read error or EOF; the peer's line still counts
      }
      loop_.updateFd(watch_, true, false);
      return;
    }
    if (!ready.readable) return;
    std::array<char, 4096> buffer{};
    for (;;) {
      const ssize_t n = ::recv(fd_.get(), buffer.data(), buffer.size(), 0);
      if (n > 0) {
        result_.received.append(buffer.data(), static_cast<std::size_t>(n));
        if (result_.received.size() >= request_.max_bytes) break;
        continue;
      }
      if (n == 0) {
        result_.eof = true;
      } else if (errno == EINTR) {
        continue;
      } else if (errno != EAGAIN && errno != EWOULDBLOCK) {
        result_.eof = true;
        result_.detail = "recv: " + errnoText(errno);
      }
      break;
    }
    const bool enough = request_.complete && request_.complete(result_.received, result_.eof);
    if (enough || result_.eof || result_.received.size() >= request_.max_bytes) finish();
  }

  double elapsed() const {
    return std::chrono::duration<double>(loop_.clock().steadyNow() - started_).count();
  }

  void finish() {
    if (finished_) return;
    finished_ = true;
    result_.total_seconds = elapsed();
    if (watch_ != 0) loop_.unwatchFd(watch_);
    watch_ = 0;
    if (timer_ != 0) loop_.cancelTimer(timer_);
    timer_ = 0;
    fd_.reset();
    auto keep = shared_from_this();
    auto done = std::move(done_);
    if (done) done(std::move(result_));
  }

  EventLoop& loop_;
  TcpExchangeRequest request_;
  Callback done_;
  TcpExchangeResult result_;
  UniqueFd fd_;
  EventLoop::WatchId watch_ = 0;
  EventLoop::TimerId timer_ = 0;
  std::chrono::steady_clock::time_point started_;
  bool finished_ = false;
};

}  // namespace

std::shared_ptr<TcpExchange> startTcpExchange(EventLoop& loop, TcpExchangeRequest request,
                                              TcpExchange::Callback done) {
  auto exchange = std::make_shared<TcpExchangeImpl>(loop, std::move(request), std::move(done));
  exchange->start();
  return exchange;
}

}  // namespace gomodprobe::net
