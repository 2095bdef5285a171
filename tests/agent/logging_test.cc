#include "agent/logging.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <string>

namespace gomodprobe::logging {
namespace {

using ::testing::EndsWith;
using ::testing::StartsWith;

// A config error as the daemon logs it when a reload is refused: quotes, a backslash, and (from
// a hostile file) a newline and a control character.
constexpr std::string_view kMessage =
    "config reload failed, keeping the running config: /etc/g.yml:5:5: unknown key \"a\\b\"\n"
    "ts=x level=error msg=\"forged\"\x01";

std::string formatLine(Format format, std::string_view message) {
  const spdlog::details::log_msg msg("agent", spdlog::level::err,
                                     spdlog::string_view_t(message.data(), message.size()));
  spdlog::memory_buf_t out;
  lineFormatter(format)->format(msg, out);
  return {out.data(), out.size()};
}

TEST(LoggingTest, JsonLinesStayValidJsonAndKeepTheMessage) {
  const std::string line = formatLine(Format::Json, kMessage);
  ASSERT_THAT(line, EndsWith("}\n"));
  EXPECT_EQ(line.find('\n'), line.size() - 1) << "one line per message";
  const auto json = nlohmann::json::parse(line);
  EXPECT_EQ(json.at("msg").get<std::string>(), kMessage);
  EXPECT_EQ(json.at("level").get<std::string>(), "error");
  EXPECT_EQ(json.at("logger").get<std::string>(), "agent");
}

TEST(LoggingTest, LogfmtQuotesTheMessageOnOneLine) {
  const std::string line = formatLine(Format::Logfmt, kMessage);
  EXPECT_THAT(line, StartsWith("ts="));
  EXPECT_EQ(line.find('\n'), line.size() - 1) << "one line per message";
  EXPECT_THAT(line,
              EndsWith(" level=error logger=agent msg=\"config reload failed, keeping the running "
                       "config: /etc/g.yml:5:5: unknown key \\\"a\\\\b\\\"\\n"
                       "ts=x level=error msg=\\\"forged\\\"\\u0001\"\n"));
}

}  // namespace
}  // namespace gomodprobe::logging
