#include "goproxy/private_lint.h"

#include "goproxy/module_path.h"

namespace gomodprobe::goproxy {

namespace {

void checkPatternList(const char* name, const std::string& value, std::vector<LintProblem>& out) {
  if (value.empty()) return;
  if (value.find(' ') != std::string::npos || value.find(';') != std::string::npos) {
    out.push_back({LintSeverity::Warning,
                   std::string(name) + "=" + value +
                       " contains spaces or ';': patterns are separated by ',' only",
                   "separate the patterns with ',' and no spaces"});
  }
}

}  // namespace

std::vector<LintProblem> lintPrivacy(const PrivacyEnv& env,
                                     const std::vector<std::string>& modules) {
  std::vector<LintProblem> out;
  checkPatternList("GOPRIVATE", env.goprivate, out);
  checkPatternList("GONOPROXY", env.gonoproxy, out);
  checkPatternList("GONOSUMDB", env.gonosumdb, out);
  const std::string noproxy = env.gonoproxy.empty() ? env.goprivate : env.gonoproxy;
  const std::string nosumdb = env.gonosumdb.empty() ? env.goprivate : env.gonosumdb;
  if (env.gosumdb == "off" && !env.gonosumdb.empty()) {
    out.push_back({LintSeverity::Warning,
                   "GONOSUMDB is set but GOSUMDB=off: no module is checked, the patterns do "
                   "nothing",
                   "unset GONOSUMDB, or turn the checksum database back on"});
  }
  for (const auto& module : modules) {
    if (env.gosumdb == "off") break;
    if (matchPrefixPatterns(noproxy, module) && !matchPrefixPatterns(nosumdb, module)) {
      out.push_back(
          {LintSeverity::Warning,
           module + " is fetched directly (GONOPROXY) but still checked against the "
                    "public checksum database (not in GONOSUMDB): the lookup of a "
                    "private module fails",
           "add its pattern to GONOSUMDB, or set GOPRIVATE=" + module + " to cover both"});
    }
  }
  return out;
}

}  // namespace gomodprobe::goproxy
