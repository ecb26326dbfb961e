// sbctl: set up and watch a Switchboard server from the command line.
#include <CLI/CLI.hpp>

#include <cstdlib>
#include <iostream>

#include "context.hpp"

int main(int argc, char** argv) {
  sb::sbctl::Context context;
  if (const char* url = std::getenv("SWITCHBOARD_URL")) context.url = url;
  if (const char* token = std::getenv("SWITCHBOARD_TOKEN")) context.token = token;
  if (context.url.empty()) context.url = "http://127.0.0.1:8080";

  CLI::App app{
      "sbctl: set up and watch a Switchboard server.\n"
      "The server is SWITCHBOARD_URL (default http://127.0.0.1:8080) and the bearer token SWITCHBOARD_TOKEN\n"
      "(the platform admin token for `businesses create`, an agent token for `tail`, else a business key);\n"
      "--url and --token override them."};
  app.require_subcommand(1);
  app.add_option("--url", context.url, "Server base URL (SWITCHBOARD_URL)")->capture_default_str();
  // The token's value never appears in --help.
  app.add_option("--token", context.token, "Bearer token (SWITCHBOARD_TOKEN)");
  app.add_option("--timeout", context.timeout_s, "Seconds to wait for each answer")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  app.add_flag("--json", context.json_output, "Print JSON instead of tables");

  sb::sbctl::AddSetupCommands(app, context);
  sb::sbctl::AddImportCommands(app, context);
  sb::sbctl::AddReplayCommand(app, context);
  sb::sbctl::AddTailCommand(app, context);
  sb::sbctl::AddSummaryCommand(app, context);

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  } catch (const std::exception& e) {
    std::cerr << "sbctl: " << e.what() << '\n';
    return 1;
  }
  return 0;
}
