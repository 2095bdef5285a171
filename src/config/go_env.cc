#include "config/go_env.h"

#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>
#include <utility>

#include "goproxy/module_path.h"
#include "goproxy/private_lint.h"

extern char** environ;  // NOLINT(readability-redundant-declaration): POSIX, for posix_spawnp

namespace gomodprobe::config {

namespace {

using goproxy::LintSeverity;

constexpr std::string_view kDefaultGoSumDb = "sum.golang.org";
constexpr std::string_view kGoEnvJsonSource = "go env -json";

/// Go's strings.Fields for ASCII white space.
std::vector<std::string> fields(std::string_view text) {
  std::vector<std::string> out;
  std::istringstream in{std::string(text)};
  for (std::string word; in >> word;) out.push_back(word);
  return out;
}

std::vector<std::string> splitComma(std::string_view text) {
  std::vector<std::string> out;
  std::size_t start = 0;
  while (start <= text.size()) {
    const std::size_t end = text.find(',', start);
    const auto part = text.substr(start, end == std::string_view::npos ? end : end - start);
    if (!part.empty()) out.emplace_back(part);
    if (end == std::string_view::npos) break;
    start = end + 1;
  }
  return out;
}

// The host of "scheme://host[:port][/path]", brackets of an IPv6 literal removed.
std::string_view hostOf(std::string_view url) {
  std::string_view authority = url.substr(url.find("://") + 3);
  authority = authority.substr(0, authority.find('/'));
  if (!authority.empty() && authority.front() == '[') {
    return authority.substr(1, authority.find(']') - 1);
  }
  return authority.substr(0, authority.find(':'));
}

// "proxy.golang.org" → "proxy-golang-org"; anything outside [a-zA-Z0-9_-] becomes '-'.
std::string nameFrom(std::string_view text) {
  std::string name(text);
  for (char& c : name) {
    const bool keep = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                      c == '_' || c == '-';
    if (!keep) c = '-';
  }
  return name;
}

class NameAllocator {
 public:
  std::string unique(const std::string& base) {
    std::string name = base;
    for (int suffix = 2; !used_.insert(name).second; ++suffix) {
      name = base + "-" + std::to_string(suffix);
    }
    return name;
  }

 private:
  std::set<std::string> used_;
};

/// One generated target, emitted as YAML and run through parseConfig so it obeys exactly the rules
/// (and gets exactly the defaults) of a config file.
struct TargetSpec {
  std::string kind;
  std::vector<std::pair<std::string, std::string>> scalars;  // url, key, goproxy, module, …
  std::vector<std::string> modules;
  std::map<std::string, std::string> go_env;
};

/// HTTPS_PROXY/HTTP_PROXY/NO_PROXY of the Go environment for parseConfig's proxy_from_environment
/// (the upper-case names only: goEnvFromLookup already applied Go's upper-then-lower order).
EnvLookup proxyLookup(const GoEnv& go_env) {
  return [&go_env](std::string_view name) -> std::optional<std::string> {
    if (name != "HTTPS_PROXY" && name != "HTTP_PROXY" && name != "NO_PROXY") return std::nullopt;
    const auto it = go_env.vars.find(name);
    return it == go_env.vars.end() ? std::nullopt : std::optional<std::string>(it->second);
  };
}

TargetConfig buildTarget(const TargetSpec& spec, const GoEnv& go_env, const std::string& source,
                         const std::string& what) {
  YAML::Emitter out;
  out << YAML::BeginMap << YAML::Key << "targets" << YAML::Value << YAML::BeginSeq << YAML::BeginMap
      << YAML::Key << "name" << YAML::Value << "generated" << YAML::Key << "kind" << YAML::Value
      << spec.kind;
  for (const auto& [key, value] : spec.scalars) out << YAML::Key << key << YAML::Value << value;
  if (!go_env.get("HTTPS_PROXY").empty() || !go_env.get("HTTP_PROXY").empty()) {
    out << YAML::Key << "proxy_from_environment" << YAML::Value << true;
  }
  if (!spec.modules.empty()) {
    out << YAML::Key << "modules" << YAML::Value << YAML::Flow << spec.modules;
  }
  if (!spec.go_env.empty()) {
    out << YAML::Key << "go_env" << YAML::Value << YAML::BeginMap;
    for (const auto& [key, value] : spec.go_env) out << YAML::Key << key << YAML::Value << value;
    out << YAML::EndMap;
  }
  out << YAML::EndMap << YAML::EndSeq << YAML::EndMap;
  try {
    Config parsed = parseConfig(out.c_str(), source, proxyLookup(go_env));
    return std::move(parsed.targets.at(0));
  } catch (const ConfigError& e) {
    throw ConfigError(source, 0, 0, what + ": " + e.message());
  }
}

/// GOSUMDB resolved as cmd/go's dbDial does: the alias sum.golang.google.cn, known keys, at most
/// two fields. nullopt for "off".
struct SumDbSetting {
  std::string key;   ///< verifier key "name+hash+base64"
  std::string name;  ///< the database name (the key's first field)
  std::string url;   ///< explicit URL (bypasses proxies), "" when none
};

std::optional<SumDbSetting> parseGoSumDb(const std::string& value, std::string& error) {
  std::string gosumdb = value.empty() ? std::string(kDefaultGoSumDb) : value;
  if (gosumdb == "off") return std::nullopt;
  if (gosumdb == "sum.golang.google.cn") gosumdb = "sum.golang.org https://sum.golang.google.cn";
  std::vector<std::string> parts = fields(gosumdb);
  if (parts.empty()) {
    error = "missing GOSUMDB";
    return std::nullopt;
  }
  if (parts.size() > 2) {
    error = "invalid GOSUMDB: too many fields";
    return std::nullopt;
  }
  if (parts[0] == kDefaultGoSumDb) parts[0] = std::string(kSumGolangOrgKey);
  if (std::count(parts[0].begin(), parts[0].end(), '+') < 2 || parts[0].front() == '+') {
    error = "invalid GOSUMDB: malformed verifier id \"" + parts[0] +
            "\" (expected sum.golang.org or name+hash+key)";
    return std::nullopt;
  }
  SumDbSetting setting;
  setting.key = parts[0];
  setting.name = parts[0].substr(0, parts[0].find('+'));
  if (parts.size() == 2) {
    setting.url = parts[1];
    if (setting.url.find("://") == std::string::npos) setting.url = "https://" + setting.url;
    while (!setting.url.empty() && setting.url.back() == '/') setting.url.pop_back();
  }
  return setting;
}

bool isNetworkProxy(const goproxy::ProxyEntry& entry) {
  return !entry.direct && !entry.off && entry.url.rfind("file:", 0) != 0;
}

bool hasGlob(std::string_view pattern) {
  return pattern.find_first_of("*?[\\") != std::string_view::npos;
}

}  // namespace

std::string GoEnv::get(std::string_view name) const {
  const auto it = vars.find(name);
  return it == vars.end() ? std::string() : it->second;
}

std::string GoEnv::effective(std::string_view name) const {
  std::string value = get(name);
  if (!value.empty()) return value;
  if (name == "GOPROXY") return std::string(goproxy::kDefaultGoProxy);
  if (name == "GOSUMDB") return std::string(kDefaultGoSumDb);
  if (name == "GONOPROXY" || name == "GONOSUMDB") return get("GOPRIVATE");
  return value;
}

GoEnv goEnvFromLookup(const EnvLookup& env) {
  GoEnv go_env;
  go_env.source = "process environment";
  for (const std::string_view name : kGoEnvVariables) {
    std::optional<std::string> value = env(name);
    if (!value && name.find("PROXY") != std::string_view::npos && name.rfind("GO", 0) != 0) {
      std::string lower(name);
      std::transform(lower.begin(), lower.end(), lower.begin(),
                     [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
      value = env(lower);
    }
    if (value) go_env.vars.emplace(std::string(name), *value);
  }
  return go_env;
}

CommandRunner processRunner() {
  return [](const std::vector<std::string>& argv) -> std::optional<std::string> {
    if (argv.empty()) return std::nullopt;
    std::array<int, 2> out{};
    if (pipe2(out.data(), O_CLOEXEC) != 0) return std::nullopt;
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_adddup2(&actions, out[1], STDOUT_FILENO);
    posix_spawn_file_actions_addopen(&actions, STDERR_FILENO, "/dev/null", O_WRONLY, 0);
    std::vector<char*> args;
    args.reserve(argv.size() + 1);
    for (const auto& arg : argv) args.push_back(const_cast<char*>(arg.c_str()));  // NOLINT
    args.push_back(nullptr);
    pid_t pid = 0;
    const int rc = posix_spawnp(&pid, args[0], &actions, nullptr, args.data(), environ);
    posix_spawn_file_actions_destroy(&actions);
    close(out[1]);
    if (rc != 0) {
      close(out[0]);
      return std::nullopt;
    }
    std::string output;
    std::array<char, 4096> buffer{};
    for (;;) {
      const ssize_t n = read(out[0], buffer.data(), buffer.size());
      if (n > 0) {
        output.append(buffer.data(), static_cast<std::size_t>(n));
      } else if (n == 0 || errno != EINTR) {
        break;
      }
    }
    close(out[0]);
    int status = 0;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) return std::nullopt;
    return output;
  };
}

GoEnv goEnvFromGoCommand(const CommandRunner& run, const EnvLookup& env) {
  std::vector<std::string> argv = {"go", "env", "-json"};
  for (const std::string_view name : kGoEnvVariables) {
    if (name.rfind("GO", 0) == 0) argv.emplace_back(name);
  }
  const std::optional<std::string> output = run(argv);
  if (!output) {
    throw ConfigError(std::string(kGoEnvJsonSource), 0, 0,
                      "cannot run \"go env -json\" (is go on PATH?)");
  }
  const nlohmann::json json = nlohmann::json::parse(*output, nullptr, /*allow_exceptions=*/false);
  if (!json.is_object()) {
    throw ConfigError(std::string(kGoEnvJsonSource), 0, 0,
                      "\"go env -json\" did not print a JSON object");
  }
  GoEnv go_env = goEnvFromLookup(env);
  go_env.source = std::string(kGoEnvJsonSource);
  for (const std::string_view name : kGoEnvVariables) {
    if (name.rfind("GO", 0) != 0) continue;
    go_env.vars.erase(std::string(name));
    const auto it = json.find(std::string(name));
    if (it == json.end()) continue;
    if (!it->is_string()) {
      throw ConfigError(std::string(kGoEnvJsonSource), 0, 0,
                        std::string(name) + " is not a string in \"go env -json\"");
    }
    go_env.vars.emplace(std::string(name), it->get<std::string>());
  }
  return go_env;
}

Config configFromGoEnv(const GoEnv& go_env, const GoEnvTargetOptions& options,
                       const std::string& source) {
  Config config;
  config.source = source;
  NameAllocator names;

  const std::string goproxy_value = go_env.effective("GOPROXY");
  const goproxy::ProxyListResult list = goproxy::parseGoProxy(goproxy_value);
  if (!list.ok()) throw ConfigError(source, 0, 0, "GOPROXY: " + list.error);

  const std::string noproxy = go_env.effective("GONOPROXY");
  const std::string nosumdb = go_env.effective("GONOSUMDB");
  const std::string ca_file = go_env.get("SSL_CERT_FILE");
  std::vector<std::string> public_modules;
  std::vector<std::string> checked_modules;  // looked up in the checksum database
  std::vector<ModuleSpec> private_modules;
  std::vector<ModuleSpec> ordered = options.modules;
  std::stable_partition(ordered.begin(), ordered.end(), [&](const ModuleSpec& m) {
    return !goproxy::matchPrefixPatterns(noproxy, m.path);
  });
  for (const ModuleSpec& module : ordered) {
    if (goproxy::matchPrefixPatterns(noproxy, module.path)) {
      private_modules.push_back(module);
      continue;
    }
    public_modules.push_back(module.text());
    if (module.version != "latest" && !goproxy::matchPrefixPatterns(nosumdb, module.path)) {
      checked_modules.push_back(module.text());
    }
  }

  std::size_t proxies = 0;
  for (const goproxy::ProxyEntry& entry : list.entries) {
    if (!isNetworkProxy(entry)) continue;
    ++proxies;
    TargetSpec spec{"goproxy", {{"url", entry.url}}, public_modules, {}};
    if (!public_modules.empty()) {
      const auto escaped = goproxy::escapePath(ordered.front().path);
      if (escaped) spec.scalars.emplace_back("path", "/" + *escaped + "/@v/list");
    }
    if (!ca_file.empty()) spec.scalars.emplace_back("ca_file", ca_file);
    TargetConfig target = buildTarget(spec, go_env, source, "GOPROXY entry \"" + entry.url + "\"");
    target.name = names.unique(nameFrom(hostOf(target.url)));
    config.targets.push_back(std::move(target));
  }

  if (proxies > 0 && !public_modules.empty()) {
    TargetSpec spec{"chain", {{"goproxy", goproxy_value}}, public_modules, {}};
    if (!ca_file.empty()) spec.scalars.emplace_back("ca_file", ca_file);
    for (const char* name : {"GOPRIVATE", "GONOPROXY", "GONOSUMDB", "GOSUMDB"}) {
      if (const std::string value = go_env.get(name); !value.empty()) spec.go_env[name] = value;
    }
    TargetConfig target = buildTarget(spec, go_env, source, "GOPROXY");
    target.name = names.unique("goproxy-chain");
    config.targets.push_back(std::move(target));
  }

  std::string sumdb_error;
  const auto sumdb = parseGoSumDb(go_env.get("GOSUMDB"), sumdb_error);
  if (!sumdb_error.empty()) throw ConfigError(source, 0, 0, sumdb_error);
  if (sumdb) {
    TargetSpec spec{
        "sumdb",
        {{"url", sumdb->url.empty() ? "https://" + sumdb->name : sumdb->url}, {"key", sumdb->key}},
        checked_modules,
        {}};
    if (!ca_file.empty()) spec.scalars.emplace_back("ca_file", ca_file);
    // Without an explicit URL the go command reaches the database through the proxies first.
    if (sumdb->url.empty() && proxies > 0) spec.scalars.emplace_back("goproxy", goproxy_value);
    TargetConfig target =
        buildTarget(spec, go_env, source, "GOSUMDB \"" + go_env.get("GOSUMDB") + "\"");
    target.name = names.unique("sumdb-" + nameFrom(hostOf(target.url)));
    config.targets.push_back(std::move(target));
  }

  for (const ModuleSpec& module : private_modules) {
    TargetSpec spec{"vcs", {{"url", "https://" + module.path}, {"module", module.path}}, {}, {}};
    if (!ca_file.empty()) spec.scalars.emplace_back("ca_file", ca_file);
    TargetConfig target = buildTarget(spec, go_env, source, "private module " + module.path);
    target.name = names.unique("vcs-" + nameFrom(module.path));
    config.targets.push_back(std::move(target));
  }
  return config;
}

std::vector<GoEnvProblem> lintGoEnv(const GoEnv& go_env, const std::vector<ModuleSpec>& modules) {
  std::vector<GoEnvProblem> out;
  auto add = [&out](LintSeverity severity, std::string variable, std::string message,
                    std::string fix) {
    out.push_back({severity, std::move(variable), std::move(message), std::move(fix)});
  };

  for (auto& p : goproxy::lintGoProxy(go_env.get("GOPROXY"))) {
    if (go_env.get("GOPROXY").empty() && p.severity == LintSeverity::Warning) continue;
    add(p.severity, "GOPROXY", std::move(p.message), std::move(p.suggestion));
  }

  const std::string gosumdb = go_env.get("GOSUMDB");
  std::string sumdb_error;
  (void)parseGoSumDb(gosumdb, sumdb_error);
  if (!sumdb_error.empty()) {
    add(LintSeverity::Error, "GOSUMDB", sumdb_error + ": every module download fails",
        "set GOSUMDB to sum.golang.org, \"name+hash+key [URL]\", or off");
  }

  std::vector<std::string> paths;
  paths.reserve(modules.size());
  for (const auto& m : modules) paths.push_back(m.path);
  const goproxy::PrivacyEnv privacy{go_env.get("GOPRIVATE"), go_env.get("GONOPROXY"),
                                    go_env.get("GONOSUMDB"), gosumdb};
  for (auto& p : goproxy::lintPrivacy(privacy, paths)) {
    // Pattern-list findings start with the variable ("GOPRIVATE=…"); the others are about what
    // GONOSUMDB does or does not exempt.
    std::string variable = "GONOSUMDB";
    for (const char* name : {"GOPRIVATE", "GONOPROXY", "GONOSUMDB"}) {
      if (p.message.rfind(std::string(name) + "=", 0) == 0) variable = name;
    }
    add(p.severity, std::move(variable), std::move(p.message), std::move(p.suggestion));
  }

  const std::string noproxy = go_env.effective("GONOPROXY");
  const std::string nosumdb = go_env.effective("GONOSUMDB");
  if (gosumdb != "off") {
    for (const std::string& pattern : splitComma(noproxy)) {
      const bool covered = hasGlob(pattern) ? std::ranges::count(splitComma(nosumdb), pattern) > 0
                                            : goproxy::matchPrefixPatterns(nosumdb, pattern);
      if (covered) continue;
      std::string message = "private pattern \"" + pattern;
      message += "\" is fetched directly (GONOPROXY) but not exempt from the checksum database ";
      message += "(GONOSUMDB=\"" + nosumdb + "\"): the sumdb lookup of every such module fails ";
      message += "(404, or a leak of the private path to the public sumdb)";
      std::string fix = "add \"" + pattern + "\" to GONOSUMDB, or set GOPRIVATE=";
      fix += pattern + " and unset GONOPROXY/GONOSUMDB";
      add(LintSeverity::Warning, "GONOSUMDB", std::move(message), std::move(fix));
    }
  }

  for (const std::string& pattern : splitComma(go_env.get("GOINSECURE"))) {
    const bool is_private = hasGlob(pattern) ? std::ranges::count(splitComma(noproxy), pattern) > 0
                                             : goproxy::matchPrefixPatterns(noproxy, pattern);
    if (is_private) continue;
    add(LintSeverity::Warning, "GOINSECURE",
        "GOINSECURE pattern \"" + pattern +
            "\" is not private (GOPRIVATE/GONOPROXY): such modules are still fetched through "
            "GOPROXY and checked against the sumdb, so GOINSECURE has no effect on them",
        "add \"" + pattern + "\" to GOPRIVATE as well");
  }

  for (const char* name : {"HTTPS_PROXY", "HTTP_PROXY"}) {
    const std::string value = go_env.get(name);
    if (value.empty()) continue;
    const std::size_t scheme_end = value.find("://");
    if (scheme_end == std::string::npos) continue;  // Go and curl assume http://
    std::string scheme = value.substr(0, scheme_end);
    std::transform(scheme.begin(), scheme.end(), scheme.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    static const std::set<std::string> kKnown = {"http", "https", "socks5", "socks5h"};
    if (!kKnown.contains(scheme)) {
      add(LintSeverity::Error, name,
          std::string(name) + " has the scheme \"" + scheme +
              "\", which neither the go command nor curl can use as a proxy: every request "
              "through it fails",
          "use http://host:port (or https://, socks5://)");
    }
  }

  for (const std::string& entry : splitComma(go_env.get("GOVCS"))) {
    if (entry.find(':') == std::string::npos) {
      add(LintSeverity::Error, "GOVCS",
          "GOVCS entry \"" + entry + "\" has no ':': the go command rejects the whole GOVCS value",
          "write pattern:vcslist, e.g. GOVCS=private:git|hg,public:git");
    }
  }
  return out;
}

std::string formatGoEnvLint(const GoEnv& go_env, const std::vector<GoEnvProblem>& problems) {
  std::ostringstream out;
  out << "Go environment (" << go_env.source << "):\n";
  for (const std::string_view name : kGoEnvVariables) {
    const auto it = go_env.vars.find(name);
    if (it == go_env.vars.end()) continue;
    std::string value = it->second;
    if (name.find("PROXY") != std::string_view::npos && name.rfind("GO", 0) != 0) {
      // Proxy URLs may carry credentials: show scheme://host only.
      const std::size_t at = value.find('@');
      if (at != std::string::npos) {
        const std::size_t scheme_end = value.find("://");
        value = (scheme_end == std::string::npos ? "" : value.substr(0, scheme_end + 3)) + "***@" +
                value.substr(at + 1);
      }
    }
    out << "  " << name << "=\"" << value << "\"\n";
  }
  std::size_t errors = 0;
  for (const auto& p : problems) {
    const bool error = p.severity == LintSeverity::Error;
    errors += error ? 1 : 0;
    out << "\n"
        << (error ? "error  " : "warning") << " " << p.variable << ": " << p.message << "\n";
    if (!p.fix.empty()) out << "        fix: " << p.fix << "\n";
  }
  out << "\n"
      << errors << " error(s), " << problems.size() - errors << " warning(s)"
      << (problems.empty() ? ": the environment looks right" : "") << "\n";
  return out.str();
}

}  // namespace gomodprobe::config
