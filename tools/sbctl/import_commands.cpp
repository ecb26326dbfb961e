// orders, products, ads: bulk PUTs from a CSV file with a header row. The
// whole file is checked before the first request, so a malformed file
// changes nothing; rows the server refuses are reported and the command
// exits non-zero.
#include <CLI/CLI.hpp>

#include <charconv>
#include <iostream>

#include "context.hpp"
#include "csv_table.hpp"

namespace sb::sbctl {
namespace {

struct Column {
  const char* name;
  bool integer;
  bool required;
};

struct ImportSpec {
  const char* command;
  const char* help;
  const char* path;  // PUT <path>/<key>
  const char* key;   // the column that names the resource
  std::vector<Column> columns;
};

const std::vector<ImportSpec>& Specs() {
  static const std::vector<ImportSpec> specs = {
      {"orders",
       "Orders the order-status bot answers from",
       "/v1/orders",
       "order_ref",
       {{"status", false, true},
        {"total_cents", true, true},
        {"currency", false, true},
        {"customer_external_id", false, false},
        {"customer_phone", false, false},
        {"carrier", false, false},
        {"tracking_url", false, false},
        {"eta", false, false}}},
      {"products",
       "Products the in-stock bot answers from",
       "/v1/products",
       "sku",
       {{"name", false, true}, {"stock", true, true}, {"price_cents", true, true}, {"currency", false, true}}},
      {"ads",
       "Ads and their spend (for ROAS)",
       "/v1/ads",
       "ad_id",
       {{"spend_cents", true, true}, {"currency", false, true}, {"name", false, false}, {"campaign", false, false}}},
  };
  return specs;
}

std::string Where(const std::string& file, int line) { return file + ":" + std::to_string(line); }

// Every row's JSON body, or a CommandError naming the first bad cell.
std::vector<std::pair<std::string, nlohmann::json>> Bodies(const ImportSpec& spec, const std::string& file) {
  CsvTable table;
  try {
    table = ReadCsvFile(file);
  } catch (const std::runtime_error& e) {
    throw CommandError(e.what());
  }
  for (const auto& name : table.header) {
    bool known = name == spec.key;
    for (const auto& c : spec.columns) known = known || name == c.name;
    if (!known) {
      std::string expected = spec.key;
      for (const auto& c : spec.columns) expected += std::string(", ") + c.name;
      throw CommandError(file + ": unknown column '" + name + "' (expected " + expected + ")");
    }
  }
  std::vector<std::pair<std::string, nlohmann::json>> out;
  for (const auto& row : table.rows) {
    auto key = row.cells.find(spec.key);
    if (key == row.cells.end()) throw CommandError(Where(file, row.line) + ": " + spec.key + " is empty");
    nlohmann::json body = nlohmann::json::object();
    for (const auto& c : spec.columns) {
      auto cell = row.cells.find(c.name);
      if (cell == row.cells.end()) {
        if (c.required) throw CommandError(Where(file, row.line) + ": " + c.name + " is required");
        continue;
      }
      if (!c.integer) {
        body[c.name] = cell->second;
        continue;
      }
      long long value = 0;
      const auto& text = cell->second;
      auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
      if (ec != std::errc{} || end != text.data() + text.size()) {
        throw CommandError(Where(file, row.line) + ": " + c.name + " must be a whole number, got '" + text + "'");
      }
      body[c.name] = value;
    }
    out.emplace_back(key->second, std::move(body));
  }
  return out;
}

void AddImport(CLI::App& app, Context& ctx, const ImportSpec& spec) {
  auto* group = app.add_subcommand(spec.command, spec.help);
  group->require_subcommand(1);
  auto file = std::make_shared<std::string>();
  std::string columns = spec.key;
  for (const auto& c : spec.columns) columns += std::string(",") + c.name + (c.required ? "" : "?");
  auto* import = group->add_subcommand("import", "PUT every row of a CSV file; columns: " + columns);
  import->add_option("CSV", *file, "CSV file with a header row")->required()->check(CLI::ExistingFile);
  import->callback([&ctx, &spec, file] {
    auto bodies = Bodies(spec, *file);
  int failed = 0;
  for (const auto& [key, body] : bodies) {
    const std::string path = std::string(spec.path) + "/" + UrlEncode(key);
    auto answer = ctx.Client().Call("PUT", path, body.dump());
    if (answer.status == 200) continue;
    ++failed;
    std::cerr << "sbctl: " << DescribeFailure(std::string(spec.key) + " " + key, answer) << '\n';
  }
  std::cout << spec.command << ": " << bodies.size() - failed << " of " << bodies.size() << " stored\n";
  if (failed > 0) throw CommandError(std::to_string(failed) + " row(s) refused by the server");
});
}  // namespace

}  // namespace sb::sbctl

void AddImportCommands(CLI::App& app, Context& ctx) {
  for (const auto& spec : Specs()) AddImport(app, ctx, spec);
}

}  // namespace sb::sbctl
