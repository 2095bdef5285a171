#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace gomodprobe::goproxy {

/// A retracted version or closed interval [low, high] (go.dev/ref/mod "retract directive").
struct Retraction {
  std::string low;
  std::string high;  ///< equal to low for a single version
};

/// The retract directives of a go.mod file: `retract v1.0.0`, `retract [v1.0.0, v1.9.9]`, and
/// `retract ( … )` blocks, with // comments. Malformed entries are skipped (the go command
/// would reject the file; for choosing "latest" only the valid ones matter).
[[nodiscard]] std::vector<Retraction> parseRetractions(std::string_view go_mod);

/// Whether `version` falls in any retraction (semver order, see compareSemver).
[[nodiscard]] bool isRetracted(std::string_view version,
                               const std::vector<Retraction>& retractions);

}  // namespace gomodprobe::goproxy
