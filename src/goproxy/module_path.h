#pragma once

// Module path and version rules of the Go module proxy protocol, following
// golang.org/x/mod/module/module.go and golang.org/x/mod/semver/semver.go (x/mod as shipped for
// Go 1.19), plus path.Match from Go's src/path/match.go. Strings are UTF-8 byte strings; error
// texts match Go's where practical (see goQuote in unicode_util.h for the quoting caveat).

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace gomodprobe::goproxy {

/// module.CheckPath: whether `path` is a valid module path (LDH first element with a dot, ASCII
/// letters/digits/"-._~" elsewhere, no empty/dot-only/leading-dot/trailing-dot elements, no
/// Windows reserved names or short names, a valid /vN or gopkg.in .vN suffix). Returns the
/// error text, e.g. `malformed module path "x": missing dot in first path element`, or
/// std::nullopt when valid.
[[nodiscard]] std::optional<std::string> checkPath(std::string_view path);

/// module.CheckFilePath: whether `path` is a valid slash-separated file path inside a module.
/// Returns the error text (`malformed file path "a\\b": invalid char '\\'`) or std::nullopt.
[[nodiscard]] std::optional<std::string> checkFilePath(std::string_view path);

/// module.Check plus the canonical-version test of zip.checkZip: `path` must pass checkPath,
/// `version` must be canonical semver (module.CanonicalVersion(v) == v) and agree with the path's
/// major-version suffix (module.CheckPathMajor). Returns the error text or std::nullopt.
[[nodiscard]] std::optional<std::string> checkModuleVersion(std::string_view path,
                                                            std::string_view version);

/// semver.IsValid.
[[nodiscard]] bool isValidSemver(std::string_view version);

/// semver.Compare: -1, 0 or +1; an invalid version is less than every valid one (and equal to
/// another invalid one). Build metadata is ignored.
[[nodiscard]] int compareSemver(std::string_view a, std::string_view b);

/// The version the go command's "latest" query picks from a proxy's @v/list (modload
/// queryProxy with "latest"): the highest release version, else the highest pre-release;
/// std::nullopt when the list has no valid version (the caller then asks @latest).
[[nodiscard]] std::optional<std::string> latestFromList(const std::vector<std::string>& versions);

/// module.CanonicalVersion: semver.Canonical, keeping a "+incompatible" build suffix. Returns ""
/// for an invalid version.
[[nodiscard]] std::string canonicalVersion(std::string_view version);

/// The result of module.SplitPathVersion: `prefix + path_major == path`.
struct PathVersionSplit {
  std::string_view prefix;
  std::string_view path_major;  // "" or "/vN" (N >= 2), or ".vN[-unstable]" for gopkg.in
  bool ok = false;
};

/// module.SplitPathVersion.
[[nodiscard]] PathVersionSplit splitPathVersion(std::string_view path);

/// module.EscapePath: the path with each upper-case ASCII letter replaced by '!' and its lower-case
/// form ("github.com/Azure" -> "github.com/!azure"). std::nullopt when checkPath rejects the path.
[[nodiscard]] std::optional<std::string> escapePath(std::string_view path);

/// module.EscapeVersion: as escapePath, for a version; the version must be a valid file path
/// element (module.checkElem with file-path rules) without '!'. std::nullopt otherwise.
[[nodiscard]] std::optional<std::string> escapeVersion(std::string_view version);

/// module.UnescapePath: inverse of escapePath. std::nullopt for a malformed escape ('!' not
/// followed by a-z, an upper-case letter, non-ASCII) or when the result fails checkPath.
[[nodiscard]] std::optional<std::string> unescapePath(std::string_view escaped);

/// module.UnescapeVersion: inverse of escapeVersion, with escapeVersion's validity rules.
[[nodiscard]] std::optional<std::string> unescapeVersion(std::string_view escaped);

/// The result of path.Match.
struct PathMatchResult {
  bool matched = false;
  bool bad_pattern = false;  // path.ErrBadPattern
};

/// path.Match (Go src/path/match.go): shell pattern `*`, `?`, `[...]`, `\\` escapes; `*` and `?`
/// never match '/'. The whole `name` must match.
[[nodiscard]] PathMatchResult pathMatch(std::string_view pattern, std::string_view name);

/// module.MatchPrefixPatterns: whether some path prefix of `target` (ending at an element
/// boundary) matches one of the comma-separated path.Match globs (as used for GOPRIVATE,
/// GONOPROXY, GONOSUMDB). Empty and malformed patterns are ignored; a trailing '/' on a pattern
/// is ignored.
[[nodiscard]] bool matchPrefixPatterns(std::string_view globs, std::string_view target);

}  // namespace gomodprobe::goproxy
