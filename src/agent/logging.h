#pragma once

#include <spdlog/formatter.h>
#include <spdlog/spdlog.h>

#include <memory>
#include <string>

namespace gomodprobe::logging {

enum class Format { Logfmt, Json };

/// The line formatter of `format`: `ts=… level=… logger=… msg="…"` (logfmt) or one JSON object
/// per line. The message is escaped for the quoted string it sits in (`"` and `\` with a
/// backslash, control characters as \n, \r, \t or \u00XX), so messages that quote user input
/// (every config error does) keep the line parseable as logfmt (Go strconv.Quote rules) and JSON.
[[nodiscard]] std::unique_ptr<spdlog::formatter> lineFormatter(Format format);

/// Creates the named loggers of each subsystem ("agent", "probe", "config", "web") on one stderr
/// sink with the given level ("debug", "info", "warn", "error") and format. Returns false for an
/// unknown level.
bool setup(const std::string& level, Format format);

/// The named logger, created on first use with the default sink (so tests need no setup()).
[[nodiscard]] std::shared_ptr<spdlog::logger> get(const std::string& name);

}  // namespace gomodprobe::logging
