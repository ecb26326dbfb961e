#pragma once
/// Schema migrations: the numbered `.sql` files under services/store/
/// migrations, embedded in the binary, applied in order.
#include <string>
#include <vector>

namespace sb::store {

struct MigrationReport {
  std::vector<std::string> applied;  // file names applied by this call
  int total = 0;                     // migrations known to the binary
};

/// Applies pending migrations in one transaction under a transaction-level
/// advisory lock, so concurrent starts of several processes apply each once
/// (and it works through pgbouncer in transaction pooling). Throws on error.
MigrationReport Migrate(const std::string& database_url);

/// The migrations this binary knows that the database has not applied, in
/// order (every one, on a database never migrated). A database may have
/// applied more (a newer binary migrated it): those are not listed. Throws
/// Unavailable when the database cannot be reached (or is shutting down or
/// starting), std::runtime_error when it fails otherwise.
std::vector<std::string> PendingMigrations(const std::string& database_url);

}  // namespace sb::store
