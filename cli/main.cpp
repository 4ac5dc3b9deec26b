// gatelab: the command-line tool. Composition root: parses arguments and calls one subcommand.
#include <CLI/CLI.hpp>

#include <iostream>

#include "cli/commands.hpp"

int main(int argc, char** argv) {
  CLI::App app{"gatelab: test API-gateway policies before they meet production"};
  app.name("gatelab");
  app.require_subcommand(1);
  app.set_version_flag("--version", "gatelab 0.1.0");

  gatelab::cli::ValidateOptions validate;
  CLI::App* validateCmd = app.add_subcommand(
      "validate", "Check gateway config files: print every error (file:line:col: path: rule; allowed: ...)\n"
                  "or a one-line summary per valid file. Exit 0 all valid, 1 any invalid, 2 usage.");
  validateCmd->add_option("FILE", validate.files, "config files (YAML)")->required();
  validateCmd->add_flag("-q,--quiet", validate.quiet, "print nothing for valid files");

  gatelab::cli::ServeOptions serve;
  CLI::App* serveCmd = app.add_subcommand(
      "serve", "Run a gateway config as a live reverse proxy (HTTP/1.1) until SIGTERM or SIGINT, then\n"
               "drain: stop accepting, finish requests in flight (--drain-timeout), exit 0.\n"
               "SIGHUP (or POST /admin/reload) reloads CONFIG; an invalid one is refused.\n"
               "Exit 1 invalid config or cannot listen, 2 usage.");
  serveCmd->add_option("CONFIG", serve.config, "gateway config file (YAML)")->required();
  serveCmd->add_option("--listen", serve.listen, "HOST:PORT to listen on instead of the config's `listen`");
  serveCmd->add_option("--threads", serve.threads, "I/O threads (default: one per core)")->check(CLI::Range(0u, 1024u));
  serveCmd->add_option("--drain-timeout", serve.drainTimeoutSeconds,
                       "seconds requests in flight may take to finish after SIGTERM/SIGINT (default 30)")
      ->check(CLI::Range(0.0, 86400.0));
  serveCmd->add_option("--max-connections", serve.maxConnections,
                       "open client connections at most; more are closed at accept (default 10000)")
      ->check(CLI::Range(std::size_t{1}, std::size_t{10'000'000}));
  serveCmd->add_option("--access-log", serve.accessLog,
                       "append one JSON line per request to FILE ('-': stdout); `format: jsonl` replays it");

  gatelab::cli::ScenarioRunOptions scenario;
  const gatelab::cli::ScenarioCommands scenarioCmds = gatelab::cli::addScenarioCommands(app, scenario);

  gatelab::cli::LimitersOptions limiters;
  CLI::App* limitersCmd = app.add_subcommand(
      "limiters", "Show how every rate-limiting algorithm decides on the same synthetic burst");
  limitersCmd->add_flag("--json", limiters.json, "print the results as JSON");

  gatelab::cli::TraceStatsOptions traceStats;
  gatelab::cli::TraceGenOptions traceGen;
  const gatelab::cli::TraceCommands traceCmds = gatelab::cli::addTraceCommand(app, traceStats, traceGen);

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    const int rc = app.exit(e);
    return rc == 0 ? 0 : 2;
  }
  if (validateCmd->parsed()) return gatelab::cli::runValidate(validate);
  if (serveCmd->parsed()) return gatelab::cli::runServe(serve);
  if (scenarioCmds.sim->parsed()) return gatelab::cli::runSim(scenario);
  if (scenarioCmds.compare->parsed()) return gatelab::cli::runCompare(scenario);
  if (scenarioCmds.rehearse->parsed()) return gatelab::cli::runRehearse(scenario);
  if (scenarioCmds.demo->parsed()) return gatelab::cli::runDemo(scenario);
  if (limitersCmd->parsed()) return gatelab::cli::runLimiters(limiters);
  if (traceCmds.stats->parsed()) return gatelab::cli::runTraceStats(traceStats);
  if (traceCmds.gen->parsed()) return gatelab::cli::runTraceGen(traceGen);
  return 2;
}
