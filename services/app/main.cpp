// switchboard: serve | migrate | reprocess | reencrypt-secrets | rotate-secret-key | routes | seed-demo
#include <spdlog/spdlog.h>
#include <CLI/CLI.hpp>

#include <iostream>

#include "sb/app/app.hpp"
#include "sb/common/log.hpp"

int main(int argc, char** argv) {
  CLI::App cli{"Switchboard: conversational-commerce message router"};
  cli.require_subcommand(1);

  auto* serve = cli.add_subcommand("serve", "Apply pending migrations, then serve HTTP until SIGTERM/SIGINT");
  bool no_migrate = false;
  std::string ready_file;
  serve->add_flag("--no-migrate", no_migrate, "Do not apply pending migrations at start");
  serve->add_option("--ready-file", ready_file, "Write the bound host:port to this file once listening");

  cli.add_subcommand("migrate", "Apply pending schema migrations and exit");

  auto* reprocess = cli.add_subcommand("reprocess", "Re-normalize archived webhook bodies (after a parser change)");
  std::string since;
  reprocess->add_option("--since", since, "Bodies received at or after this time (e.g. 2026-11-27 or an ISO time)")
      ->required();

  cli.add_subcommand("reencrypt-secrets",
                     "Seal every stored secret still under an older key with the current key (after a rotation)");
  cli.add_subcommand("rotate-secret-key",
                     "Put a new key first in the secret key file (keeping the old ones), then re-encrypt");

  cli.add_subcommand("routes", "Print every HTTP route served, one per line");

  auto* seed = cli.add_subcommand("seed-demo", "Create a demo business with one channel of each kind (once)");
  std::string state_file = "var/demo.json";
  seed->add_option("--state", state_file, "Where the demo key and channel secrets are kept")->capture_default_str();

  CLI11_PARSE(cli, argc, argv);

  try {
    if (cli.got_subcommand("routes")) {
      for (const auto& route : sb::app::App::Routes()) std::cout << route.method << " " << route.pattern << "\n";
      return 0;
    }
    auto config = sb::Config::FromEnvironment();
    sb::log::Setup(config.log_level, config.log_format);
    sb::app::App app(config);
    if (cli.got_subcommand("serve")) return app.Serve(!no_migrate, ready_file);
    if (cli.got_subcommand("migrate")) return app.Migrate();
    if (cli.got_subcommand("reprocess")) return app.Reprocess(since);
    if (cli.got_subcommand("reencrypt-secrets")) return app.ReencryptSecrets();
    if (cli.got_subcommand("rotate-secret-key")) return app.RotateSecretKey();
    if (cli.got_subcommand("seed-demo")) return app.SeedDemo(state_file);
  } catch (const std::exception& e) {
    spdlog::critical("{}", e.what());
    std::cerr << "switchboard: " << e.what() << "\n";
    return 1;
  }
  return 0;
}
