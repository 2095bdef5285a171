#include "agent/logging.h"

#include <spdlog/pattern_formatter.h>
#include <spdlog/sinks/stdout_sinks.h>

#include <array>
#include <string_view>

namespace gomodprobe::logging {

namespace {

constexpr std::array kSubsystems = {"agent", "probe", "config", "web"};

std::string patternFor(Format format) {
  if (format == Format::Json) {
    return R"({"ts":"%Y-%m-%dT%H:%M:%S.%e%z","level":"%l","logger":"%n","msg":"%*"})";
  }
  return R"(ts=%Y-%m-%dT%H:%M:%S.%e%z level=%l logger=%n msg="%*")";
}

/// %*: the message, escaped for a double-quoted string (JSON and logfmt alike).
class EscapedMessage final : public spdlog::custom_flag_formatter {
 public:
  void format(const spdlog::details::log_msg& msg, const std::tm& /*time*/,
              spdlog::memory_buf_t& dest) override {
    static constexpr std::string_view kHex = "0123456789abcdef";
    for (const char c : std::string_view(msg.payload.data(), msg.payload.size())) {
      const auto byte = static_cast<unsigned char>(c);
      std::string_view escape;
      switch (c) {
        case '"':
          escape = R"(\")";
          break;
        case '\\':
          escape = R"(\\)";
          break;
        case '\n':
          escape = R"(\n)";
          break;
        case '\r':
          escape = R"(\r)";
          break;
        case '\t':
          escape = R"(\t)";
          break;
        default:
          break;
      }
      if (!escape.empty()) {
        dest.append(escape.data(), escape.data() + escape.size());
      } else if (byte < 0x20 || byte == 0x7f) {
        const std::array<char, 6> unicode = {'\\', 'u', '0', '0', kHex[byte >> 4], kHex[byte & 15]};
        dest.append(unicode.data(), unicode.data() + unicode.size());
      } else {
        dest.push_back(c);
      }
    }
  }
  [[nodiscard]] std::unique_ptr<custom_flag_formatter> clone() const override {
    return std::make_unique<EscapedMessage>();
  }
};

}  // namespace

std::unique_ptr<spdlog::formatter> lineFormatter(Format format) {
  auto formatter = std::make_unique<spdlog::pattern_formatter>();
  formatter->add_flag<EscapedMessage>('*').set_pattern(patternFor(format));
  return formatter;
}

bool setup(const std::string& level, Format format) {
  const auto parsed = spdlog::level::from_str(level);
  if (parsed == spdlog::level::off && level != "off") return false;
  auto sink = std::make_shared<spdlog::sinks::stderr_sink_mt>();
  sink->set_formatter(lineFormatter(format));
  for (const char* name : kSubsystems) {
    spdlog::drop(name);
    auto logger = std::make_shared<spdlog::logger>(name, sink);
    logger->set_level(parsed);
    spdlog::register_logger(logger);
  }
  return true;
}

std::shared_ptr<spdlog::logger> get(const std::string& name) {
  if (auto logger = spdlog::get(name)) return logger;
  auto sink = std::make_shared<spdlog::sinks::stderr_sink_mt>();
  sink->set_formatter(lineFormatter(Format::Logfmt));
  auto logger = std::make_shared<spdlog::logger>(name, sink);
  logger->set_level(spdlog::level::warn);
  try {
    spdlog::register_logger(logger);
  } catch (const spdlog::spdlog_ex&) {
    // Registered meanwhile by another thread: use that one.
    if (auto existing = spdlog::get(name)) return existing;
  }
  return logger;
}

}  // namespace gomodprobe::logging
