// Every metric name the dashboards (dashboards/*.json) and the alert/recording rules
// (alerts/*.yml, alerts/*.yaml; may be none yet) use exists in the real agent's /metrics after it
// ran against the fixture: http targets through the fixture's dnsmasq (DNS, TLS, HTTP/1.1 vs 2),
// goproxy, sumdb and chain targets against the Go module fixture (module, sumdb, chain metrics).
//
// How names are found (deliberately simple, no PromQL parser): the whole text of each file is cut
// into identifiers [A-Za-z_:][A-Za-z0-9_:]*; those starting with "gomodprobe_" and holding no ':'
// are metric names (legend templates, titles, descriptions included: a name mentioned anywhere
// must be real). Identifiers with ':' are recording rules (level:metric:operations) and names
// defined by a `record:` in alerts/ are exempt: promtool checks those rules. Metrics Prometheus
// makes itself (`up`, `ALERTS`, `scrape_*`) do not start with "gomodprobe_" and are not checked.
// A name is exported if it is a sample name in the exposition (so histogram series
// *_bucket/_sum/_count match their samples) or a family name from a `# TYPE` line (the histogram's
// base name). For selectors written as name{label="..."} the matched label names must be
// exposed on that metric too (or be job/instance, added by the scrape). A matcher `label=""`
// selects series *without* the label and requires nothing.
//
// The agent runs twice: with the default `histograms: per_target` and with `histograms: per_kind`
// (run and phase histograms labelled by kind, no target). With per_kind, a label that a selector
// needs but the metric lacks is accepted only if the files also select that metric with
// `label=""` (the per_kind half of an `A or B` query, scripts/dashboards.py scoped()). Then
// tests/dashboards/query_data.py evaluates every dashboard query and recording rule with promtool
// over the scraped series: each must return data in both settings.

#include <curl/curl.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <memory>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "integration/fixture.h"
#include "integration/go_fixture.h"

namespace gomodprobe {
namespace {

namespace fs = std::filesystem;

/// What an exposition holds: sample names and family names, each with the label names seen.
struct Exposition {
  std::map<std::string, std::set<std::string>> labels;  // sample and family name → label names
  std::set<std::string> families;                       // from "# TYPE name type"

  [[nodiscard]] bool has(const std::string& name) const { return labels.count(name) > 0; }
};

/// Parses the text format: "# TYPE f t" lines and "name{l="v",...} value" samples.
Exposition parseExposition(const std::string& text) {
  Exposition out;
  std::istringstream in(text);
  std::string line;
  std::map<std::string, std::string> family_of_sample;
  while (std::getline(in, line)) {
    if (line.rfind("# TYPE ", 0) == 0) {
      std::istringstream fields(line.substr(7));
      std::string name;
      fields >> name;
      out.families.insert(name);
      out.labels[name];
      continue;
    }
    if (line.empty() || line[0] == '#') continue;
    const auto name_end = line.find_first_of("{ ");
    const std::string name = line.substr(0, name_end);
    auto& names = out.labels[name];
    if (name_end != std::string::npos && line[name_end] == '{') {
      // label="value" pairs; values may hold escaped quotes.
      std::size_t i = name_end + 1;
      while (i < line.size() && line[i] != '}') {
        const auto eq = line.find('=', i);
        if (eq == std::string::npos) break;
        names.insert(line.substr(i, eq - i));
        i = eq + 2;  // past ="
        while (i < line.size() && line[i] != '"') i += line[i] == '\\' ? 2 : 1;
        ++i;  // past closing quote
        if (i < line.size() && line[i] == ',') ++i;
      }
    }
  }
  // A family carries the labels of its samples (histogram: base name ← _bucket/_sum/_count).
  for (const auto& family : out.families) {
    for (const auto* suffix : {"", "_bucket", "_sum", "_count", "_total"}) {
      auto it = out.labels.find(family + suffix);
      if (it != out.labels.end()) out.labels[family].insert(it->second.begin(), it->second.end());
    }
  }
  return out;
}

/// A metric name a file uses, with the label names of the selectors written right after it.
struct Use {
  std::set<std::string> files;
  std::set<std::string> selector_labels;  // labels a matcher needs present (or may need)
  std::set<std::string> absent_labels;    // labels matched by `label=""`: must be absent
};

/// The tokenizer described at the top of the file, over dashboards/*.json and alerts/*.y*ml.
struct Uses {
  std::map<std::string, Use> metrics;
  std::set<std::string> recorded;  // names defined by `record:` (exempt)
  std::vector<std::string> files;
};

Uses collectUses(const fs::path& root) {
  Uses uses;
  std::vector<fs::path> paths;
  for (const auto& [dir, exts] : std::vector<std::pair<std::string, std::set<std::string>>>{
           {"dashboards", {".json"}}, {"alerts", {".yml", ".yaml"}}}) {
    if (!fs::is_directory(root / dir)) continue;
    for (const auto& entry : fs::directory_iterator(root / dir)) {
      if (entry.is_regular_file() && exts.count(entry.path().extension().string()) > 0) {
        paths.push_back(entry.path());
      }
    }
  }
  std::sort(paths.begin(), paths.end());
  const std::regex ident("[A-Za-z_:][A-Za-z0-9_:]*");
  const std::regex record(R"(record:\s*["']?([A-Za-z_:][A-Za-z0-9_:]*))");
  // label, operator and, when the value is empty (`""`, in JSON `\"\"`), that value.
  const std::regex label_matcher(R"re(([A-Za-z_][A-Za-z0-9_]*)\s*(=~|!~|!=|=)\s*(\\?"\\?")?)re");
  for (const auto& path : paths) {
    const std::string text = testing::readFile(path.string());
    const std::string file = path.lexically_relative(root).string();
    uses.files.push_back(file);
    for (std::sregex_iterator it(text.begin(), text.end(), record), end; it != end; ++it) {
      uses.recorded.insert((*it)[1]);
    }
    for (std::sregex_iterator it(text.begin(), text.end(), ident), end; it != end; ++it) {
      const std::string token = it->str();
      if (token.rfind("gomodprobe_", 0) != 0 || token.find(':') != std::string::npos) continue;
      Use& use = uses.metrics[token];
      use.files.insert(file);
      // name{...}: the label names of its matchers.
      const auto after = static_cast<std::size_t>(it->position() + it->length());
      if (after < text.size() && text[after] == '{') {
        const auto close = text.find('}', after);
        const std::string selector = text.substr(after + 1, close - after - 1);
        for (std::sregex_iterator m(selector.begin(), selector.end(), label_matcher), mend;
             m != mend; ++m) {
          const bool absent = (*m)[2] == "=" && (*m)[3].matched;
          (absent ? use.absent_labels : use.selector_labels).insert((*m)[1]);
        }
      }
    }
  }
  return uses;
}

class DashboardMetricsTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    go_ = std::make_unique<testing::GoModFixture>();
    go_->start();
  }
  static void TearDownTestSuite() { go_.reset(); }

  static inline std::unique_ptr<testing::GoModFixture> go_;
};

TEST(DashboardMetricsTokenizer, FindsNamesSelectorsAndRecordedRules) {
  const fs::path dir = fs::temp_directory_path() / ("gomodprobe-tok-" + std::to_string(::getpid()));
  fs::create_directories(dir / "dashboards");
  fs::create_directories(dir / "alerts");
  std::ofstream(dir / "dashboards" / "d.json")
      << R"json({"expr": "sum(rate(gomodprobe_a_bucket{job=~\"$job\", target=\"x\"}[5m]))",)json"
      << R"json( "e2": "gomodprobe_a_bucket{kind=\"\", le!=\"\"}",)json"
      << R"json( "legendFormat": "{{target}}", "uid": "gomodprobe-x"})json";
  std::ofstream(dir / "alerts" / "a.yml")
      << "- record: target:gomodprobe_b:ratio\n  expr: gomodprobe_c > 0 and up\n"
      << "- record: gomodprobe_d\n";
  std::ofstream(dir / "alerts" / "ignored.txt") << "gomodprobe_e\n";
  const Uses uses = collectUses(dir);
  fs::remove_all(dir);
  std::set<std::string> names;
  for (const auto& [name, use] : uses.metrics) names.insert(name);
  EXPECT_EQ(names, (std::set<std::string>{"gomodprobe_a_bucket", "gomodprobe_c", "gomodprobe_d"}));
  EXPECT_EQ(uses.metrics.at("gomodprobe_a_bucket").selector_labels,
            (std::set<std::string>{"job", "target", "le"}));
  EXPECT_EQ(uses.metrics.at("gomodprobe_a_bucket").absent_labels, (std::set<std::string>{"kind"}));
  EXPECT_EQ(uses.recorded, (std::set<std::string>{"target:gomodprobe_b:ratio", "gomodprobe_d"}));

  const Exposition exposition = parseExposition(
      "# TYPE gomodprobe_h histogram\ngomodprobe_h_bucket{target=\"a\\\"b\",le=\"1\"} 1\n"
      "gomodprobe_h_sum{target=\"a\"} 1\ngomodprobe_h_count{target=\"a\"} 1\n"
      "# TYPE gomodprobe_g gauge\ngomodprobe_g 1\n");
  EXPECT_TRUE(exposition.has("gomodprobe_h"));
  EXPECT_TRUE(exposition.has("gomodprobe_h_bucket"));
  EXPECT_TRUE(exposition.has("gomodprobe_g"));
  EXPECT_FALSE(exposition.has("gomodprobe_h_total"));
  EXPECT_EQ(exposition.labels.at("gomodprobe_h_bucket"), (std::set<std::string>{"target", "le"}));
  EXPECT_EQ(exposition.labels.at("gomodprobe_h"), (std::set<std::string>{"target", "le"}));
}

/// Runs the agent against the fixture with `histograms: <scope>` and checks every name the
/// dashboards and rules use (file comment), then evaluates their queries (query_data.py).
void checkAgainstAgent(testing::GoModFixture& go, const std::string& scope) {
  const fs::path root = GOMODPROBE_SOURCE_DIR;
  const Uses uses = collectUses(root);
  ASSERT_FALSE(uses.files.empty()) << "no dashboards/alerts found under " << root;
  // The dashboards bind to the core contract; an empty extraction would make this test vacuous.
  for (const auto* core : {"gomodprobe_probe_success", "gomodprobe_probes_total",
                           "gomodprobe_phase_duration_seconds_bucket",
                           "gomodprobe_module_fetch_duration_seconds_bucket",
                           "gomodprobe_sumdb_tree_size", "gomodprobe_dns_resolvers_agree"}) {
    EXPECT_EQ(uses.metrics.count(core), 1U) << core << " not used by any dashboard";
  }

  // http targets resolved through the fixture's dnsmasq (dns_* metrics, one disagreeing), plus
  // the Go fixture's goproxy, sumdb and chain targets (as tests/tools/fixture_server.cc --go).
  testing::NetFixture& net = go.net();
  const std::string h2 = "https://good.test:" + std::to_string(net.h2Port());
  const std::string key = go.sumdbKey();
  const std::string quote = "    modules: [rsc.io/quote@v1.5.2]\n";
  std::string yaml = "global:\n  interval: 4s\n  timeout: 3s\n  histograms: " + scope +
                     "\n  ca_file: " + net.caFile() + "\ntargets:\n";
  yaml += "  - name: h2\n    kind: http\n    url: " + h2 + "\n    resolvers: [\"" +
          net.dnsPrimary() + "\"]\n    ip_protocol: ip4\n";
  yaml += "  - name: split\n    kind: http\n    url: https://split.test:" +
          std::to_string(net.h2Port()) + "\n    resolvers: [\"" + net.dnsPrimary() + "\", \"" +
          net.dnsSecondary() + "\"]\n    ip_protocol: ip4\n";
  yaml += "  - name: goproxy-good\n    kind: goproxy\n    url: " + go.proxyUrl() +
          "\n    path: /rsc.io/quote/@v/list\n"
          "    modules: [rsc.io/quote@v1.5.2, rsc.io/sampler@latest]\n    sumdb: \"" +
          key + "\"\n";
  yaml += "  - name: goproxy-tampered\n    kind: goproxy\n    url: " +
          go.proxyUrl(testing::ProxyVariant::kTamperedZip) + "\n    path: /rsc.io/quote/@v/list\n" +
          quote + "    sumdb: \"" + key + "\"\n";
  yaml += "  - name: sumdb\n    kind: sumdb\n    url: " + go.sumdbDirectUrl() + "\n    key: \"" +
          key + "\"\n" + quote;
  yaml += "  - name: chain\n    kind: chain\n    goproxy: \"" +
          go.proxyUrl(testing::ProxyVariant::k502) + "|" + go.proxyUrl() + "\"\n" + quote;
  const std::string config = go.dir() + "/dashboard-metrics-" + scope + ".yml";
  std::ofstream(config) << yaml;

  const std::string log = go.dir() + "/dashboard-metrics-" + scope + ".log";
  testing::Daemon daemon(GOMODPROBE_BINARY,
                         {"--config.file", config, "--web.listen-address", "127.0.0.1:0"}, log);
  const int port = daemon.port();
  ASSERT_GT(port, 0) << testing::logTail(log);
  const std::string url = "http://127.0.0.1:" + std::to_string(port) + "/metrics";

  // Poll /metrics until every target has finished a run (bounded ~30 s).
  const std::vector<std::string> targets = {
      "h2", "split", "goproxy-good", "sumdb", "goproxy-tampered", "chain"};
  auto all_ran = [&](const Exposition& e, const std::string& text) {
    if (!e.has("gomodprobe_probe_last_run_timestamp_seconds")) return false;
    for (const auto& t : targets) {
      if (text.find("gomodprobe_probe_last_run_timestamp_seconds{target=\"" + t + "\"}") ==
          std::string::npos) {
        return false;
      }
    }
    return true;
  };
  std::string text;
  Exposition exposition;
  for (int i = 0; i < 300; ++i) {
    text = testing::httpGet(url).body;
    exposition = parseExposition(text);
    if (all_ran(exposition, text)) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));  // polling, bounded
  }
  ASSERT_TRUE(all_ran(exposition, text)) << "not every target ran:\n" << text;

  std::size_t checked = 0;
  for (const auto& [name, use] : uses.metrics) {
    if (uses.recorded.count(name) > 0) continue;
    ++checked;
    std::string where;
    for (const auto& f : use.files) where += " " + f;
    if (!exposition.has(name)) {
      ADD_FAILURE() << name << " (used in" << where << ") is not in /metrics";
      continue;
    }
    const auto& exposed = exposition.labels.at(name);
    for (const auto& label : use.selector_labels) {
      if (label == "job" || label == "instance" || exposed.count(label) > 0) continue;
      // histograms: per_kind drops `target` from the run/phase histograms; a query must then
      // also select them without it (`target=""`).
      if (scope == "per_kind" && use.absent_labels.count(label) > 0) continue;
      ADD_FAILURE() << name << "{" << label << "=...} (in" << where
                    << "): label not exposed on this metric (histograms: " << scope << ")";
    }
  }
  EXPECT_GE(checked, 20U);
  std::cout << "checked " << checked << " metric names from " << uses.files.size()
            << " files against /metrics (" << exposition.families.size() << " families)\n";
  // The run/phase histograms really are per kind with per_kind, and the dashboards cover it.
  for (const auto* family :
       {"gomodprobe_probe_duration_seconds_bucket", "gomodprobe_phase_duration_seconds_bucket"}) {
    ASSERT_TRUE(exposition.has(family)) << family;
    EXPECT_EQ(exposition.labels.at(family).count("target"), scope == "per_kind" ? 0U : 1U)
        << family << " with histograms: " << scope;
    EXPECT_EQ(uses.metrics.at(family).absent_labels.count("target"), 1U)
        << "no dashboard query selects " << family << "{target=\"\"} (histograms: per_kind)";
  }

  // Every dashboard query and recording rule returns data over these series (promtool).
  const std::string scraped = go.dir() + "/dashboard-metrics-" + scope + ".prom";
  testing::writeFile(scraped, text);
  const testing::CommandResult evaluated = testing::runCommand(
      std::string(GOMODPROBE_PYTHON) + " " + (root / "tests/dashboards/query_data.py").string() +
      " " + scraped + " --root " + root.string() + " --promtool " + GOMODPROBE_PROMTOOL);
  EXPECT_EQ(evaluated.exit_code, 0) << evaluated.output;
  if (evaluated.exit_code == 0) std::cout << evaluated.output;

  // Informational: exported families no dashboard or rule mentions.
  for (const auto& family : exposition.families) {
    bool used = false;
    for (const auto& [name, use] : uses.metrics) used = used || name.rfind(family, 0) == 0;
    if (!used) std::cout << "  not used anywhere: " << family << "\n";
  }
}

TEST_F(DashboardMetricsTest, EveryMetricUsedByDashboardsAndAlertsIsExported) {
  checkAgainstAgent(*go_, "per_target");
}

TEST_F(DashboardMetricsTest, EveryMetricUsedByDashboardsAndAlertsIsExportedPerKind) {
  checkAgainstAgent(*go_, "per_kind");
}

}  // namespace
}  // namespace gomodprobe
