#pragma once
/// Throw-away databases for tests that need PostgreSQL: the cluster comes
/// from SWITCHBOARD_TEST_DATABASE_URL (tools/dev test sets it), each suite
/// creates its own database and drops it at the end.
#include <gtest/gtest.h>
#include <pqxx/pqxx>

#include <cstdlib>
#include <optional>
#include <random>
#include <string>

namespace sb::test {

inline constexpr const char* kNoDatabaseReason = "SWITCHBOARD_TEST_DATABASE_URL not set (tools/dev test sets it)";

/// The superuser URL of the test cluster, or nullopt when unset.
inline std::optional<std::string> AdminUrl() {
  const char* url = std::getenv("SWITCHBOARD_TEST_DATABASE_URL");
  if (url == nullptr || *url == '\0') return std::nullopt;
  return std::string(url);
}

/// `url` with its database name replaced by `dbname` (query string kept).
inline std::string WithDatabase(const std::string& url, const std::string& dbname) {
  auto scheme = url.find("://");
  auto path = url.find('/', scheme == std::string::npos ? 0 : scheme + 3);
  auto query = url.find('?', path == std::string::npos ? 0 : path);
  std::string tail = query == std::string::npos ? "" : url.substr(query);
  std::string head = url.substr(0, path == std::string::npos ? std::min(query, url.size()) : path);
  return head + "/" + dbname + tail;
}

/// Creates an empty database `<prefix><random>`; returns its name.
inline std::string CreateDatabase(const std::string& admin_url, const std::string& prefix = "sb_pg_") {
  std::random_device rd;
  std::string name = prefix + std::to_string(rd()) + "_" + std::to_string(rd() % 100000);
  pqxx::connection conn(admin_url);
  pqxx::nontransaction tx(conn);
  tx.exec0("CREATE DATABASE " + tx.quote_name(name));
  return name;
}

inline void DropDatabase(const std::string& admin_url, const std::string& name) {
  pqxx::connection conn(admin_url);
  pqxx::nontransaction tx(conn);
  tx.exec0("DROP DATABASE IF EXISTS " + tx.quote_name(name) + " WITH (FORCE)");
}

/// Runs `sql` in its own transaction on `conn`.
inline pqxx::result RunSql(pqxx::connection& conn, const std::string& sql) {
  pqxx::work tx(conn);
  pqxx::result rows = tx.exec(sql);
  tx.commit();
  return rows;
}

/// The single value `sql` answers (NULL as "<null>"); a test failure when it
/// answers anything but one row of one column.
inline std::string SingleValue(pqxx::connection& conn, const std::string& sql) {
  pqxx::result rows = RunSql(conn, sql);
  if (rows.size() != 1 || rows.columns() != 1) {
    ADD_FAILURE() << "expected one row of one column from: " << sql << " (got " << rows.size() << " rows)";
    return "<no row>";
  }
  return rows[0][0].is_null() ? "<null>" : rows[0][0].as<std::string>();
}

}  // namespace sb::test
