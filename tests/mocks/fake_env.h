#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include "config/config_loader.h"

namespace gomodprobe::testing {

/// An environment holding exactly `variables` (config::EnvLookup, as the config loader and
/// agent::SystemdNotifier take it), so tests never touch the process environment.
inline config::EnvLookup fakeEnv(std::map<std::string, std::string> variables) {
  return [variables = std::move(variables)](std::string_view name) -> std::optional<std::string> {
    const auto it = variables.find(std::string(name));
    if (it == variables.end()) return std::nullopt;
    return it->second;
  };
}

}  // namespace gomodprobe::testing
