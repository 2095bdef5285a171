#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "goproxy/goproxy_list.h"

namespace gomodprobe::goproxy {

/// The privacy settings of a Go environment, as the go command reads them (go.dev/ref/mod
/// "Environment variables"; cmd/go/internal/cfg): GONOPROXY and GONOSUMDB default to GOPRIVATE.
struct PrivacyEnv {
  std::string goprivate;
  std::string gonoproxy;  ///< as set; empty means "inherits GOPRIVATE"
  std::string gonosumdb;  ///< as set; empty means "inherits GOPRIVATE"
  std::string gosumdb;    ///< "off" disables the checksum database
};

/// Findings about GOPRIVATE / GONOPROXY / GONOSUMDB / GOSUMDB for the given module paths, with
/// module.MatchPrefixPatterns semantics:
///  - a module matched by GONOPROXY (fetched directly) but not by GONOSUMDB: its checksum is
///    still looked up in the public sumdb, which cannot know a private module (warning; fix: add
///    the pattern to GONOSUMDB or use GOPRIVATE);
///  - GONOSUMDB set while GOSUMDB=off: the patterns have no effect (warning);
///  - a malformed pattern list (empty elements, spaces) (warning).
[[nodiscard]] std::vector<LintProblem> lintPrivacy(const PrivacyEnv& env,
                                                   const std::vector<std::string>& modules);

}  // namespace gomodprobe::goproxy
