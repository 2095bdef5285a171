#include "test_namespace.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netdb.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

namespace gomodprobe::testing {
namespace {

TEST(TestNamespaceTest, MapsNamesAndAllowsPort443OnPrivateLoopback) {
  if (auto error = enterTestNamespaces({{"127.0.0.1", "git.corp.example"}})) {
    FAIL() << *error;
  }
  addrinfo hints{};
  hints.ai_family = AF_INET;
  addrinfo* result = nullptr;
  ASSERT_EQ(getaddrinfo("git.corp.example", nullptr, &hints, &result), 0);
  char text[INET_ADDRSTRLEN] = {};
  const auto* in = reinterpret_cast<const sockaddr_in*>(result->ai_addr);
  inet_ntop(AF_INET, &in->sin_addr, text, sizeof text);
  freeaddrinfo(result);
  EXPECT_STREQ(text, "127.0.0.1");

  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  ASSERT_GE(fd, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(443);
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  EXPECT_EQ(bind(fd, reinterpret_cast<const sockaddr*>(&address), sizeof address), 0);
  EXPECT_EQ(listen(fd, 1), 0);
  close(fd);
}

}  // namespace
}  // namespace gomodprobe::testing
