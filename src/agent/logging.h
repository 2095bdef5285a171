#pragma once

#include <spdlog/spdlog.h>

#include <memory>
#include <string>

namespace gomodprobe::logging {

enum class Format { Logfmt, Json };

/// Creates the named loggers of each subsystem ("agent", "probe", "config", "web") on one stderr
/// sink with the given level ("debug", "info", "warn", "error") and format. Returns false for an
/// unknown level.
bool setup(const std::string& level, Format format);

/// The named logger, created on first use with the default sink (so tests need no setup()).
[[nodiscard]] std::shared_ptr<spdlog::logger> get(const std::string& name);

}  // namespace gomodprobe::logging
