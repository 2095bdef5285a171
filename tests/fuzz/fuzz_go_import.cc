// Fuzzes go-import meta tag discovery (vcs::parseMetaGoImports, the encoding/xml RawToken
// transcription) and what the probe does with its result (vcs::matchGoImport, checkMetaImport).
// Invariants: the parse does not depend on the module mode except for the mod/non-mod filtering
// (same error; IgnoreMod has no `mod` entry; PreferMod lists its `mod` entries first and drops the
// non-mod entries of their prefixes, the rest equals IgnoreMod's list); an error comes without
// imports, starts like Go's (XML syntax error / xml:) and names a line of the input; each import
// has three non-empty fields free of white space; an import's own prefix matches it or is
// ambiguous, and a match is a path prefix of the path.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "vcs/go_import.h"

namespace vcs = gomodprobe::vcs;

namespace {

bool hasSpace(std::string_view text) {
  return text.find_first_of(" \t\n\r\v\f") != std::string_view::npos;
}

void checkImport(const vcs::MetaImport& import) {
  for (const std::string* field : {&import.prefix, &import.vcs, &import.repo_root}) {
    if (field->empty() || hasSpace(*field)) std::abort();
  }
  (void)vcs::checkMetaImport(import);
}

void checkError(std::string_view html, const std::string& error) {
  static constexpr std::string_view kSyntax = "XML syntax error on line ";
  if (error.starts_with("xml: ")) return;
  if (!error.starts_with(kSyntax)) std::abort();
  const auto lines = static_cast<std::size_t>(std::count(html.begin(), html.end(), '\n')) + 1;
  std::size_t line = 0;
  std::size_t i = kSyntax.size();
  for (; i < error.size() && error[i] >= '0' && error[i] <= '9'; ++i) {
    line = line * 10 + static_cast<std::size_t>(error[i] - '0');
    if (line > lines) std::abort();
  }
  if (i == kSyntax.size() || line == 0 || error.compare(i, 2, ": ") != 0) std::abort();
}

void checkMatch(const std::vector<vcs::MetaImport>& imports, const std::string& path) {
  const auto match = vcs::matchGoImport(imports, path);
  if (match.match.has_value() == !match.error.empty()) std::abort();
  if (match.match && !vcs::hasPathPrefix(path, match.match->prefix)) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view html(reinterpret_cast<const char*>(data), size);
  const auto prefer = vcs::parseMetaGoImports(html, vcs::ModuleMode::PreferMod);
  const auto ignore = vcs::parseMetaGoImports(html, vcs::ModuleMode::IgnoreMod);
  if (prefer.error != ignore.error) std::abort();
  if (!prefer.error.empty()) {
    if (!prefer.imports.empty() || !ignore.imports.empty()) std::abort();
    checkError(html, prefer.error);
    return 0;
  }
  std::vector<std::string> mod_prefixes;
  std::vector<vcs::MetaImport> prefer_rest;
  for (const auto& import : prefer.imports) {
    checkImport(import);
    if (import.vcs == "mod") {
      if (!prefer_rest.empty()) std::abort();  // mod entries come first
      mod_prefixes.push_back(import.prefix);
    } else {
      prefer_rest.push_back(import);
    }
  }
  std::vector<vcs::MetaImport> expected_rest;
  for (const auto& import : ignore.imports) {
    checkImport(import);
    if (import.vcs == "mod") std::abort();
    if (std::find(mod_prefixes.begin(), mod_prefixes.end(), import.prefix) == mod_prefixes.end()) {
      expected_rest.push_back(import);
    }
  }
  if (prefer_rest != expected_rest) std::abort();
  for (const auto& import : prefer.imports) {
    checkMatch(prefer.imports, import.prefix);
    checkMatch(prefer.imports, import.prefix + "/sub");
  }
  checkMatch(prefer.imports, "example.com/x");
  return 0;
}
