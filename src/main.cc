// gomodprobe: Prometheus exporter and synthetic probe agent for the Go module supply chain.
// The only file outside the core library: command line, signals, and wiring.

#include <fmt/format.h>
#include <malloc.h>
#include <pthread.h>
#include <sys/resource.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <array>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <mutex>
#include <nlohmann/json.hpp>

#include "agent/agent.h"
#include "agent/logging.h"
#include "agent/report.h"
#include "agent/service_status.h"
#include "agent/systemd_notifier.h"
#include "config/config_loader.h"
#include "config/go_env.h"
#include "metrics/probe_collector.h"
#include "metrics/push.h"
#include "net/handles.h"
#include "probe/probe_factory.h"
#include "web/agent_handlers.h"
#include "web/web_config.h"
#include "web/web_server.h"

namespace {

using gomodprobe::Config;
namespace cfg = gomodprobe::config;

/// Where the Go environment comes from: "env" (the process) or "go" (`go env -json`).
struct GoEnvOptions {
  std::string from = "env";
  std::vector<std::string> modules;  ///< "path@version", for --from-go-env and lint-env
};

cfg::GoEnv readGoEnv(const GoEnvOptions& options) {
  return options.from == "go" ? cfg::goEnvFromGoCommand(cfg::processRunner(), cfg::processEnv())
                              : cfg::goEnvFromLookup(cfg::processEnv());
}

std::vector<gomodprobe::ModuleSpec> moduleSpecs(const std::vector<std::string>& texts) {
  std::vector<gomodprobe::ModuleSpec> modules;
  for (const auto& text : texts) {
    const std::size_t at = text.rfind('@');
    if (at == std::string::npos || at == 0 || at + 1 == text.size()) {
      throw cfg::ConfigError("--module", 0, 0, "\"" + text + "\" is not path@version");
    }
    modules.push_back({text.substr(0, at), text.substr(at + 1)});
  }
  return modules;
}

/// The config file, or the targets the go command would use (the embedded default).
Config loadConfig(const std::string& file, const GoEnvOptions& go_env = {}) {
  if (!file.empty()) return cfg::loadConfigFile(file);
  const cfg::GoEnv env = readGoEnv(go_env);
  return cfg::configFromGoEnv(env, {moduleSpecs(go_env.modules)},
                              "<embedded default from " + env.source + ">");
}

int runLintEnv(const GoEnvOptions& options) {
  try {
    const cfg::GoEnv env = readGoEnv(options);
    const auto problems = cfg::lintGoEnv(env, moduleSpecs(options.modules));
    std::cout << cfg::formatGoEnvLint(env, problems);
    for (const auto& p : problems) {
      if (p.severity == gomodprobe::goproxy::LintSeverity::Error) return 1;
    }
    return 0;
  } catch (const cfg::ConfigError& e) {
    std::cerr << e.what() << "\n";
    return 2;
  }
}

gomodprobe::probe::ProbeEnv probeEnv(const std::string& storage_path) {
  gomodprobe::probe::ProbeEnv env;
  env.sumdb_state = std::make_shared<gomodprobe::sumdb::StateStore>(storage_path);
  return env;
}

std::string hostName() {
  std::array<char, 256> name{};
  if (::gethostname(name.data(), name.size() - 1) != 0) return "unknown";
  return name.data();
}

int runCheck(const std::string& config_file, const std::string& output,
             const std::string& storage_path, const GoEnvOptions& go_env,
             gomodprobe::metrics::PushTarget push) {
  Config config;
  try {
    config = loadConfig(config_file, go_env);
  } catch (const cfg::ConfigError& e) {
    std::cerr << e.what() << "\n";
    return 2;
  }
  gomodprobe::net::NetLibraries libraries;
  gomodprobe::SystemClock clock;
  const auto results = gomodprobe::agent::runOnce(
      config, clock, gomodprobe::probe::defaultProbeFactory(probeEnv(storage_path)));
  if (output == "json") {
    std::cout << gomodprobe::agent::toJson(results).dump(2) << "\n";
  } else if (output == "junit") {
    std::cout << gomodprobe::agent::toJunit(results);
  } else {
    std::cout << gomodprobe::agent::formatText(results);
  }
  // --push.gateway: this run's metrics (the daemon's /metrics families) to a Pushgateway group.
  if (!push.gateway_url.empty()) {
    auto collector = std::make_shared<gomodprobe::metrics::ProbeCollector>(
        gomodprobe::metrics::currentBuildInfo());
    collector->setHistogramScope(config.global.histograms);
    collector->setTargets(config.targets);
    for (const auto& result : results) collector->record(result);
    if (push.instance.empty()) push.instance = hostName();
    push.labels = config.global.labels;
    if (const std::string error = gomodprobe::metrics::pushMetrics(push, collector);
        !error.empty()) {
      std::cerr << error << "\n";
      return 3;
    }
  }
  for (const auto& result : results) {
    if (!result.success) return 1;
  }
  return 0;
}

/// The daemon's own Go environment, linted at start and on reload.
void exportGoEnvLint(gomodprobe::metrics::ProbeCollector& collector, const GoEnvOptions& go_env) {
  try {
    std::size_t errors = 0;
    std::size_t warnings = 0;
    for (const auto& p : cfg::lintGoEnv(readGoEnv(go_env), moduleSpecs(go_env.modules))) {
      (p.severity == gomodprobe::goproxy::LintSeverity::Error ? errors : warnings) += 1;
    }
    collector.setGoEnvLint(errors, warnings);
  } catch (const cfg::ConfigError&) {
    collector.setGoEnvLint(1, 0);  // go env could not be read: that is an error of its own
  }
}

/// Process limits for thousands of targets: every run in flight holds a socket (a black-holed
/// target holds it until its timeout), so the soft descriptor limit (often 1024) is raised to the
/// hard one, as the Go runtime does for Go programs since Go 1.19. Two malloc arenas instead of
/// 8 per core: the loop thread and the civetweb workers then reuse each other's freed pages
/// instead of each keeping its own (a /metrics scrape allocates megabytes on a worker thread).
void tuneProcess() {
  rlimit files{};
  if (getrlimit(RLIMIT_NOFILE, &files) == 0 && files.rlim_cur < files.rlim_max) {
    files.rlim_cur = files.rlim_max;
    (void)setrlimit(RLIMIT_NOFILE, &files);
  }
  // Before any other thread starts (runDaemon calls it first).
  (void)mallopt(M_ARENA_MAX, 2);  // NOLINT(concurrency-mt-unsafe)
}

int runDaemon(const std::string& config_file, const std::string& listen,
              const std::string& storage_path, const GoEnvOptions& go_env,
              const std::string& web_config_file) {
  auto log = gomodprobe::logging::get("agent");
  // Signals are taken synchronously by this thread (sigwait); every other thread inherits the
  // blocked mask, so SIGHUP never interrupts the loop or a civetweb worker.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGHUP);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  tuneProcess();
  gomodprobe::net::NetLibraries libraries;
  gomodprobe::SystemClock clock;
  auto collector = std::make_shared<gomodprobe::metrics::ProbeCollector>(
      gomodprobe::metrics::currentBuildInfo());

  Config config;
  try {
    config = loadConfig(config_file, go_env);
  } catch (const cfg::ConfigError& e) {
    log->error("cannot load config: {}", e.what());
    return 1;
  }
  collector->setConfigReload(true, gomodprobe::toUnixSeconds(clock.systemNow()));
  exportGoEnvLint(*collector, go_env);
  gomodprobe::web::WebConfig web_config;
  try {
    if (!web_config_file.empty()) web_config = gomodprobe::web::loadWebConfigFile(web_config_file);
  } catch (const cfg::ConfigError& e) {
    log->error("cannot load web config: {}", e.what());
    return 1;
  }

  gomodprobe::agent::Agent agent(clock, *collector,
                                 gomodprobe::probe::defaultProbeFactory(probeEnv(storage_path)));
  // systemd Type=notify: READY/RELOADING/STOPPING/STATUS, and WATCHDOG=1 from the event loop.
  gomodprobe::agent::SystemdNotifier notifier;
  gomodprobe::agent::ServiceStatus service(notifier);
  if (const auto period = service.watchdogPeriod()) {
    agent.setHeartbeat(*period, [&service] { service.watchdogPing(); });
  }
  const std::size_t target_count = config.targets.size();
  agent.start(std::move(config));  // the agent keeps the targets; no second copy

  std::mutex reload_mutex;
  std::string listening;  // "listening on ADDRESS (port N)"; guarded by reload_mutex
  std::string status;     // STATUS= while ready; guarded by reload_mutex
  auto reload = [&]() -> std::string {
    std::lock_guard lock(reload_mutex);
    service.reloading();
    try {
      Config next = loadConfig(config_file, go_env);
      const std::size_t count = next.targets.size();
      agent.applyConfig(std::move(next));
      // The parse and the replaced targets leave freed pages behind: return them.
      malloc_trim(0);
      exportGoEnvLint(*collector, go_env);
      collector->setConfigReload(true, gomodprobe::toUnixSeconds(clock.systemNow()));
      log->info("config reloaded: {} targets", count);
      status = fmt::format("{} targets, {}", count, listening);
      service.reloaded(status);
      return {};
    } catch (const cfg::ConfigError& e) {
      collector->setConfigReload(false, 0);
      log->error("config reload failed, keeping the running config: {}", e.what());
      service.reloaded(status + "; last reload failed: " + e.what());
      return e.what();
    }
  };

  std::unique_ptr<gomodprobe::web::WebServer> server;
  try {
    server = std::make_unique<gomodprobe::web::WebServer>(
        listen, collector, gomodprobe::web::agentHandlers(agent, *collector, clock, reload),
        web_config);
  } catch (const std::exception& e) {
    log->error("{}", e.what());
    agent.stop();
    return 1;
  }
  log->info("gomodprobe {} started: {} targets, listening on {}", GOMODPROBE_VERSION, target_count,
            listen);
  {
    std::lock_guard lock(reload_mutex);
    listening = fmt::format("listening on {} (port {})", listen, server->port());
    status = fmt::format("{} targets, {}", target_count, listening);
    service.ready(status);
  }
  // Parsing a large config leaves freed pages behind (the YAML tree): return them.
  malloc_trim(0);

  for (;;) {
    int sig = 0;
    if (sigwait(&signals, &sig) != 0) continue;
    if (sig == SIGHUP) {
      (void)reload();
      continue;
    }
    log->info("received signal {}, shutting down", sig);
    service.stopping();
    break;
  }
  server.reset();
  agent.stop();
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  // Without TZ, glibc's mktime() and localtime() stat /etc/localtime on every call (spdlog calls
  // localtime() for every log line's timestamp).
  // NOLINTNEXTLINE(concurrency-mt-unsafe): no other thread exists yet
  setenv("TZ", ":/etc/localtime", /*overwrite=*/0);
  CLI::App app{
      "gomodprobe: probes Go module proxies, checksum databases and VCS hosts, "
      "and exposes Prometheus metrics"};
  app.set_version_flag("--version", std::string("gomodprobe ") + GOMODPROBE_VERSION + " (" +
                                        GOMODPROBE_REVISION + ")");
  std::string config_file;
  std::string listen = ":9817";
  std::string log_level = "info";
  std::string log_format = "logfmt";
  bool config_check = false;
  std::string storage_path;
  app.add_option("--config.file", config_file,
                 "YAML configuration file (default: targets from GOPROXY and GOSUMDB)");
  app.add_option("--web.listen-address", listen, "Address of /metrics and the web endpoints")
      ->capture_default_str();
  std::string web_config_file;
  app.add_option("--web.config.file", web_config_file,
                 "YAML file with TLS and basic-auth settings of the web endpoints "
                 "(Prometheus exporter-toolkit format)");
  app.add_option("--log.level", log_level, "debug, info, warn or error")
      ->check(CLI::IsMember({"debug", "info", "warn", "error"}))
      ->capture_default_str();
  app.add_option("--log.format", log_format, "logfmt or json")
      ->check(CLI::IsMember({"logfmt", "json"}))
      ->capture_default_str();
  app.add_flag("--config.check", config_check, "Validate the configuration and exit");
  app.add_option("--storage.path", storage_path,
                 "Directory for state kept across restarts (largest verified sumdb tree per "
                 "target); empty: memory only");

  std::string output = "text";
  CLI::App* check = app.add_subcommand(
      "check", "Run every target once, print the results, exit 1 if any target failed");
  check->add_option("--config.file", config_file, "YAML configuration file");
  check->add_option("--storage.path", storage_path, "Directory for state kept across runs");
  check->add_option("--output", output, "text, json or junit (JUnit XML, one testcase per target)")
      ->check(CLI::IsMember({"text", "json", "junit"}))
      ->capture_default_str();
  bool from_go_env = false;
  GoEnvOptions go_env;
  check->add_flag("--from-go-env", from_go_env,
                  "Probe what the go command would use: GOPROXY entries, GOSUMDB, private "
                  "modules (see --go-env-from, --module); the default without --config.file");
  CLI::App* lint_env = app.add_subcommand(
      "lint-env",
      "Lint GOPROXY, GOSUMDB, GOPRIVATE, GONOPROXY, GONOSUMDB, GOINSECURE, GOVCS and the proxy "
      "variables; exit 1 on errors");
  for (CLI::App* command : {&app, check, lint_env}) {
    command
        ->add_option("--go-env-from", go_env.from,
                     "env: the process environment; go: `go env -json` (includes go env -w)")
        ->check(CLI::IsMember({"env", "go"}))
        ->capture_default_str();
    command->add_option("--module", go_env.modules,
                        "path@version to fetch (public: from the proxies; private: vcs target)");
  }
  gomodprobe::metrics::PushTarget push;
  check->add_option("--push.gateway", push.gateway_url,
                    "Pushgateway URL (http[s]://host:port): push this run's metrics to "
                    "/metrics/job/<job>/instance/<instance>; exit 3 if that fails");
  check->add_option("--push.job", push.job, "Pushgateway grouping label job")
      ->capture_default_str();
  check->add_option("--push.instance", push.instance,
                    "Pushgateway grouping label instance (default: the host name)");
  app.fallthrough();

  CLI11_PARSE(app, argc, argv);

  gomodprobe::logging::setup(log_level, log_format == "json" ? gomodprobe::logging::Format::Json
                                                             : gomodprobe::logging::Format::Logfmt);
  if (config_check) {
    try {
      const Config config = loadConfig(config_file, go_env);
      std::cout << "config OK: " << config.targets.size() << " targets from " << config.source
                << "\n";
      return 0;
    } catch (const cfg::ConfigError& e) {
      std::cerr << e.what() << "\n";
      return 1;
    }
  }
  if (*lint_env) return runLintEnv(go_env);
  if (*check) {
    if (from_go_env) config_file.clear();
    return runCheck(config_file, output, storage_path, go_env, std::move(push));
  }
  return runDaemon(config_file, listen, storage_path, go_env, web_config_file);
}
