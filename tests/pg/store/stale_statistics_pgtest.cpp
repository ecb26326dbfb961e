// Which hot tables of a young database the server analyzes itself
// (maintenance/stale_statistics): those that grew to twice their analyzed
// rows, however often their rows were updated meanwhile.
#include <algorithm>
#include <string>
#include <vector>

#include "pg_fixture.hpp"
#include "session.hpp"

namespace sb::pgtest {
namespace {

class StaleStatisticsTest : public StoreDb {
 protected:
  /// The tables the statement names, once this connection's counts are in
  /// the statistics PostgreSQL keeps.
  std::vector<std::string> Stale() {
    Sql("SELECT pg_stat_force_next_flush()");
    Sql("SELECT 1");  // flushed when the connection goes idle after the line above
    pqxx::work tx(*conn_);
    store::Session s(tx);
    std::vector<std::string> out;
    for (const auto& row : s.Exec("maintenance/stale_statistics")) out.push_back(row[0].as<std::string>());
    return out;
  }

  bool ContactsStale() {
    auto stale = Stale();
    return std::find(stale.begin(), stale.end(), "contacts") != stale.end();
  }

  void AddContacts(int n) {
    Sql("INSERT INTO contacts (business_id, channel_id, external_id) SELECT " + std::to_string(business_) + ", " +
        std::to_string(whatsapp_.key.channel_id) + ", 'k' || g || '-' || random() FROM generate_series(1, " +
        std::to_string(n) + ") g");
  }
};

TEST_F(StaleStatisticsTest, ATableIsAnalyzedWhenItsRowsDoubleNotWhenTheyChange) {
  // Nothing else analyzes or vacuums the table meanwhile (the suite's
  // database is its own).
  Sql("ALTER TABLE contacts SET (autovacuum_enabled = off)");
  AddContacts(300);
  EXPECT_TRUE(ContactsStale()) << "never analyzed, 300 rows";
  Sql("ANALYZE contacts");
  EXPECT_FALSE(ContactsStale()) << "just analyzed";
  for (int i = 0; i < 3; ++i) Sql("UPDATE contacts SET last_seen_at = now()");
  EXPECT_FALSE(ContactsStale()) << "900 updates of 300 rows leave their statistics right";
  AddContacts(250);
  EXPECT_FALSE(ContactsStale()) << "550 rows, fewer than twice 300";
  AddContacts(100);
  EXPECT_TRUE(ContactsStale()) << "650 rows, more than twice 300";
}

}  // namespace
}  // namespace sb::pgtest
