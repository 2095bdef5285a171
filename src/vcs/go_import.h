#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace gomodprobe::vcs {

/// One `<meta name="go-import" content="prefix vcs repo-root">` tag.
struct MetaImport {
  std::string prefix;
  std::string vcs;
  std::string repo_root;
  bool operator==(const MetaImport&) const = default;
};

/// Whether `mod` entries are looked at (the go command in module mode: PreferMod).
enum class ModuleMode { IgnoreMod, PreferMod };

struct MetaImports {
  std::vector<MetaImport> imports;
  /// An XML syntax error met before any go-import tag ("" otherwise): the go command then fails
  /// with "parsing <path>: <error>" (unless the HTTP status was not OK, which it reports instead).
  std::string error;
};

/// The go-import tags of an HTML page, as cmd/go/internal/vcs parseMetaGoImports (Go 1.19) finds
/// them: encoding/xml RawToken in non-strict mode (unquoted and value-less attributes allowed,
/// unknown entities kept literally, invalid UTF-8 or control characters in text are syntax
/// errors), stopping at `<body>` or `</head>` (case-insensitive); a `<meta>` whose `name`
/// attribute is exactly "go-import" and whose `content` has exactly three space-separated fields.
/// A syntax error after at least one tag ends the scan without error. With PreferMod, `mod`
/// entries come first and hide the non-mod entries of the same prefix; with IgnoreMod they are
/// dropped. Differences: non-ASCII name characters are accepted without checking Unicode's XML
/// name tables; a non-UTF-8 `<?xml encoding?>` other than ASCII is reported as an error, as Go's
/// charsetReader does.
[[nodiscard]] MetaImports parseMetaGoImports(std::string_view html, ModuleMode mode);

/// str.HasPathPrefix: `s` equals `prefix` or continues it after a '/'.
[[nodiscard]] bool hasPathPrefix(std::string_view s, std::string_view prefix);

struct GoImportMatch {
  std::optional<MetaImport> match;
  std::string error;  ///< why none matched; "" on success
};

/// matchGoImport (cmd/go/internal/vcs, Go 1.19): the one import whose prefix is a path prefix of
/// `import_path`; two matches are an error unless the first is `mod` and the second is not (mod
/// entries precede non-mod ones after parseMetaGoImports with PreferMod).
[[nodiscard]] GoImportMatch matchGoImport(const std::vector<MetaImport>& imports,
                                          std::string_view import_path);

/// What the go command checks after matching: the repo root must have a scheme other than
/// "file" (validateRepoRoot) and the VCS must be one it knows (bzr, fossil, git, hg, svn, mod).
/// "" when acceptable, else the reason.
[[nodiscard]] std::string checkMetaImport(const MetaImport& import);

}  // namespace gomodprobe::vcs
