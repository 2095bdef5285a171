#pragma once

#include <optional>
#include <string>

namespace gomodprobe::config {

/// Reads a secret (token or password) from a file: its first line, without the trailing CR/LF.
/// nullopt when the file cannot be read or the line is empty; `error` then says why without
/// quoting the file's content ("cannot read /p: Permission denied", "/p is empty").
[[nodiscard]] std::optional<std::string> readSecretFile(const std::string& path,
                                                        std::string* error);

/// True when the whole file can be read (netrc files); else `error` says why (no content).
[[nodiscard]] bool checkReadable(const std::string& path, std::string* error);

}  // namespace gomodprobe::config
