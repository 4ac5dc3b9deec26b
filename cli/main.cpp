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

  gatelab::cli::DemoOptions demo;
  CLI::App* demoCmd = app.add_subcommand(
      "demo", "Show how the rate-limiting algorithms decide on the same synthetic burst");
  demoCmd->add_flag("--json", demo.json, "print the results as JSON");

  gatelab::cli::TraceStatsOptions traceStats;
  CLI::App* traceStatsCmd = gatelab::cli::addTraceCommand(app, traceStats);

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    const int rc = app.exit(e);
    return rc == 0 ? 0 : 2;
  }
  if (validateCmd->parsed()) return gatelab::cli::runValidate(validate);
  if (demoCmd->parsed()) return gatelab::cli::runDemo(demo);
  if (traceStatsCmd->parsed()) return gatelab::cli::runTraceStats(traceStats);
  return 2;
}
