#pragma once

// The runner's Go environment: the variables that decide where the go command fetches modules
// from and how it checks them (go.dev/ref/mod "Environment variables"; Go 1.19's
// cmd/go/internal/cfg/cfg.go), the targets the go command would use with them, and a lint of the
// classes of mistakes seen in the field.

#include <array>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "config/config_loader.h"
#include "gomodprobe/config.h"
#include "goproxy/goproxy_list.h"

namespace gomodprobe::config {

/// The variables read, in this order.
/// SSL_CERT_FILE is the trust store the go command (crypto/x509) uses instead of the system's:
/// runners behind a TLS-intercepting proxy set it, so the generated targets use it as `ca_file`.
inline constexpr std::array<std::string_view, 11> kGoEnvVariables = {
    "GOPROXY", "GOSUMDB",     "GONOPROXY",  "GONOSUMDB", "GOPRIVATE",    "GOINSECURE",
    "GOVCS",   "HTTPS_PROXY", "HTTP_PROXY", "NO_PROXY",  "SSL_CERT_FILE"};

/// A snapshot of the Go environment. `vars` holds the variables that are set (possibly to "");
/// effective values apply the go command's defaults.
struct GoEnv {
  std::map<std::string, std::string, std::less<>> vars;
  std::string source;  ///< "process environment" or "go env -json"

  /// The value as set, "" when unset.
  [[nodiscard]] std::string get(std::string_view name) const;
  /// GOPROXY, GOSUMDB, GONOPROXY and GONOSUMDB with the go command's defaults
  /// ("https://proxy.golang.org,direct", "sum.golang.org", GOPRIVATE, GOPRIVATE); others as set.
  [[nodiscard]] std::string effective(std::string_view name) const;
};

/// Reads kGoEnvVariables from `env`. HTTPS_PROXY, HTTP_PROXY and NO_PROXY are also read in lower
/// case, as curl and Go's net/http do (the upper-case form wins when both are set).
[[nodiscard]] GoEnv goEnvFromLookup(const EnvLookup& env);

/// Runs a command (argv[0] looked up in PATH) and returns its standard output, or nullopt when it
/// cannot be started or exits non-zero. Injected so tests need no go binary.
using CommandRunner = std::function<std::optional<std::string>(const std::vector<std::string>&)>;
/// posix_spawnp + a pipe; standard error is discarded.
[[nodiscard]] CommandRunner processRunner();

/// The Go environment as `go env -json GOPROXY GOSUMDB …` reports it: the effective values,
/// including settings written with `go env -w` to $GOENV, which the process environment lacks.
/// HTTPS_PROXY, HTTP_PROXY and NO_PROXY are not go settings and still come from `env`. Throws
/// ConfigError (source "go env -json") when go cannot be run or prints something else than a JSON
/// object of strings.
[[nodiscard]] GoEnv goEnvFromGoCommand(const CommandRunner& run, const EnvLookup& env);

/// What to build targets for, beyond the proxies and the checksum database.
struct GoEnvTargetOptions {
  /// Modules to fetch ("path@version"). Public ones (not matched by GONOPROXY) are fetched from
  /// every proxy and evaluated by a chain target; private ones get a vcs target each.
  std::vector<ModuleSpec> modules;
};

/// The targets the go command would use with `go_env`:
///  - one goproxy target per http(s) GOPROXY entry (up to direct/off), named after its host, with
///    the public modules; its base check requests the first public module's @v/list (a proxy
///    has no meaningful root page), or "/" without modules;
///  - a chain target "goproxy-chain" evaluating the GOPROXY value for the public modules (only when
///    there are modules and at least one proxy), with the privacy variables to lint;
///  - one sumdb target for GOSUMDB (none when "off"), looking up the public modules pinned to a
///    version and not matched by GONOSUMDB: at the URL given in GOSUMDB if any (the go
///    command then bypasses proxies), else reached the way cmd/go's initBase does — through the
///    first proxy answering 200 to /sumdb/<name>/supported, directly once the list is exhausted
///    by 404/410 (or '|' fallbacks) or reaches direct/off;
///  - one vcs target per private module (matched by GONOPROXY), at https://<module path>.
/// Every target gets SSL_CERT_FILE as its ca_file when set.
/// `source` names the config in errors. Throws ConfigError for an unusable value (e.g. GOSUMDB
/// with three fields).
[[nodiscard]] Config configFromGoEnv(const GoEnv& go_env, const GoEnvTargetOptions& options,
                                     const std::string& source);

/// A finding of lintGoEnv: the variable it is about, the problem, and a fix.
struct GoEnvProblem {
  goproxy::LintSeverity severity = goproxy::LintSeverity::Warning;
  std::string variable;  ///< "GOPROXY", "GONOSUMDB", …
  std::string message;
  std::string fix;
};

/// Lints the environment for the classes of mistakes that break builds: GOPROXY spaces, ';'
/// separators, "Direct" casing and unknown schemes (goproxy::lintGoProxy); GOSUMDB malformed, or
/// "off" while GONOSUMDB is set; private patterns (GONOPROXY, default GOPRIVATE) not covered by
/// GONOSUMDB, and private `modules` likewise (goproxy::lintPrivacy); GOINSECURE patterns that are
/// not private (GOINSECURE only affects direct fetches); proxy URLs in HTTPS_PROXY/HTTP_PROXY with
/// an unknown scheme; GOVCS entries without "pattern:vcslist".
[[nodiscard]] std::vector<GoEnvProblem> lintGoEnv(const GoEnv& go_env,
                                                  const std::vector<ModuleSpec>& modules);

/// Text report of lintGoEnv for `gomodprobe lint-env`: the variables, then one block per problem
/// ("error GOPROXY: …" + "  fix: …"), then a count line.
[[nodiscard]] std::string formatGoEnvLint(const GoEnv& go_env,
                                          const std::vector<GoEnvProblem>& problems);

}  // namespace gomodprobe::config
