#include "sb/store/migrator.hpp"

#include <spdlog/spdlog.h>
#include <pqxx/pqxx>

#include <algorithm>
#include <set>

#include "sb/store/database.hpp"
#include "sb_sql_files.hpp"
#include "session.hpp"

namespace sb::store {

namespace {

using Migration = std::pair<std::string, std::string_view>;  // file name, text

/// The embedded migrations, in the order they apply.
std::vector<Migration> KnownMigrations() {
  std::vector<Migration> migrations;
  for (const auto& [path, text] : embedded::kFiles) {
    constexpr std::string_view kPrefix = "migrations/";
    if (path.substr(0, kPrefix.size()) == kPrefix) migrations.emplace_back(path.substr(kPrefix.size()), text);
  }
  std::sort(migrations.begin(), migrations.end());
  return migrations;
}

/// Those of `known` that schema_migrations does not list, in order.
std::vector<Migration> NotApplied(const std::vector<Migration>& known, Session& session) {
  std::set<std::string> done;
  for (const auto& row : session.Exec("schema/applied")) done.insert(row[0].c_str());
  std::vector<Migration> out;
  for (const auto& m : known) {
    if (!done.count(m.first)) out.push_back(m);
  }
  return out;
}

}  // namespace

MigrationReport Migrate(const std::string& database_url) {
  const auto migrations = KnownMigrations();
  MigrationReport report;
  report.total = static_cast<int>(migrations.size());
  try {
    pqxx::connection conn(WithConnectionDefaults(database_url));
    pqxx::work tx(conn, "migrate");
    Session session(tx);
    session.Exec("schema/lock");
    session.Exec("schema/create_migrations_table");
    for (const auto& [name, text] : NotApplied(migrations, session)) {
      spdlog::info("migrate: applying {}", name);
      tx.exec(std::string(text));
      session.Exec("schema/record", name);
      report.applied.push_back(name);
    }
    tx.commit();
  } catch (const pqxx::broken_connection& e) {
    throw Unavailable(std::string("cannot connect to the database: ") + e.what());
  } catch (const pqxx::sql_error& e) {
    throw std::runtime_error(std::string("migration failed: ") + e.what());
  }
  return report;
}

std::vector<std::string> PendingMigrations(const std::string& database_url) {
  const auto known = KnownMigrations();
  std::vector<Migration> pending;
  try {
    pqxx::connection conn(WithConnectionDefaults(database_url));
    pqxx::read_transaction tx(conn, "schema check");
    Session session(tx);
    // A database never migrated has no table to read.
    pending = session.Exec("schema/migrations_table_exists")[0][0].as<bool>() ? NotApplied(known, session) : known;
  } catch (const pqxx::failure& e) {
    // Unreachable, or shutting down or starting: the server may serve and
    // wait for it. Anything else (no right to read the table) is an error.
    if (ClassifyFailure(e) == DbFailure::kConnectionLost) {
      throw Unavailable(std::string("cannot reach the database: ") + e.what());
    }
    throw std::runtime_error(std::string("checking the database's migrations failed: ") + e.what());
  }
  std::vector<std::string> names;
  for (const auto& [name, text] : pending) names.push_back(name);
  return names;
}

}  // namespace sb::store
