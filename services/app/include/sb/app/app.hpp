#pragma once
/// The composition root: the only place that reads configuration and wires
/// the services together. One App per process.
#include <memory>
#include <string>
#include <vector>

#include "sb/common/config.hpp"
#include "sb/common/http/router.hpp"

namespace sb::app {

class App {
 public:
  explicit App(Config config);
  ~App();

  /// Applies migrations (unless told not to), serves until SIGTERM/SIGINT,
  /// then drains. Writes the bound address to `ready_file` when given.
  int Serve(bool migrate, const std::string& ready_file);
  int Migrate();
  /// Re-normalizes archived bodies received since `since`.
  int Reprocess(const std::string& since);
  /// Creates (once) a demo business with one channel of each kind and prints
  /// its key and webhook URLs; remembers them in `state_file`.
  int SeedDemo(const std::string& state_file);

  /// Seals again, with the current key, every stored secret sealed under
  /// an older one; prints what it did. `serve` does the same at start.
  int ReencryptSecrets();
  /// Puts a new key first in the key file, then re-encrypts.
  int RotateSecretKey();

  /// Every route the server serves (for `switchboard routes` and the spec test).
  static std::vector<http::RouteInfo> Routes();

  struct Services;

 private:
  Config config_;
  std::unique_ptr<Services> services_;
};

}  // namespace sb::app
