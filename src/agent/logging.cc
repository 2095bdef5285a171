#include "agent/logging.h"

#include <spdlog/sinks/stdout_sinks.h>

#include <array>

namespace gomodprobe::logging {

namespace {

constexpr std::array kSubsystems = {"agent", "probe", "config", "web"};

std::string patternFor(Format format) {
  if (format == Format::Json) {
    return R"({"ts":"%Y-%m-%dT%H:%M:%S.%e%z","level":"%l","logger":"%n","msg":"%v"})";
  }
  return R"(ts=%Y-%m-%dT%H:%M:%S.%e%z level=%l logger=%n msg="%v")";
}

}  // namespace

bool setup(const std::string& level, Format format) {
  const auto parsed = spdlog::level::from_str(level);
  if (parsed == spdlog::level::off && level != "off") return false;
  auto sink = std::make_shared<spdlog::sinks::stderr_sink_mt>();
  sink->set_pattern(patternFor(format));
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
  sink->set_pattern(patternFor(Format::Logfmt));
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
