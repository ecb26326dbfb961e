#pragma once
/// What every sbctl command shares: the server URL and token (environment,
/// then flags), output helpers, and one API client made on first use.
#include <nlohmann/json.hpp>

#include <chrono>
#include <iosfwd>
#include <memory>
#include <string>
#include <vector>

#include "api_client.hpp"

namespace CLI {
class App;
}

namespace sb::sbctl {

struct Context {
  std::string url;    // SWITCHBOARD_URL, --url
  std::string token;  // SWITCHBOARD_TOKEN, --token
  double timeout_s = 10;
  bool json_output = false;  // --json: raw JSON instead of tables

  ApiClient& Client();
  /// Prints a JSON answer (indented).
  void PrintJson(const nlohmann::json& value) const;

 private:
  std::unique_ptr<ApiClient> client_;
};

/// Prints rows under a header, columns padded to their widest cell.
void PrintTable(std::ostream& out, const std::vector<std::string>& header,
                const std::vector<std::vector<std::string>>& rows);
/// A JSON value as a table cell: strings bare, null empty.
std::string Cell(const nlohmann::json& value);

void AddSetupCommands(CLI::App& app, Context& context);
void AddImportCommands(CLI::App& app, Context& context);
void AddReplayCommand(CLI::App& app, Context& context);
void AddTailCommand(CLI::App& app, Context& context);
void AddSummaryCommand(CLI::App& app, Context& context);

}  // namespace sb::sbctl
