// Which hot tables of a young database the server analyzes itself
// (maintenance/stale_statistics): one never analyzed as soon as it has a
// row, then those that grew to twice their analyzed rows, however often
// their rows were updated meanwhile.
#include <optional>
#include <string>
#include <vector>

#include "pg_fixture.hpp"
#include "session.hpp"

namespace sb::pgtest {
namespace {

class StaleStatisticsTest : public StoreDb {
 protected:
  struct Row {
    bool stale = false;
    bool waiting_for_rows = false;
  };

  /// The statement's row for contacts (nullopt when it names no such
  /// table), once this connection's counts are in the statistics
  /// PostgreSQL keeps.
  std::optional<Row> Contacts() {
    Sql("SELECT pg_stat_force_next_flush()");
    Sql("SELECT 1");  // flushed when the connection goes idle after the line above
    pqxx::work tx(*conn_);
    store::Session s(tx);
    std::optional<Row> out;
    for (const auto& row : s.Exec("maintenance/stale_statistics")) {
      if (row[0].as<std::string>() == "contacts") out = Row{row[1].as<bool>(), row[2].as<bool>()};
    }
    return out;
  }

  bool ContactsStale() {
    auto row = Contacts();
    return row && row->stale;
  }

  void AddContacts(int n) {
    Sql("INSERT INTO contacts (business_id, channel_id, external_id) SELECT " + std::to_string(business_) + ", " +
        std::to_string(whatsapp_.key.channel_id) + ", 'k' || g || '-' || random() FROM generate_series(1, " +
        std::to_string(n) + ") g");
  }
};

TEST_F(StaleStatisticsTest, ANeverAnalyzedTableIsAnalyzedAtItsFirstRowNotBefore) {
  Sql("ALTER TABLE contacts SET (autovacuum_enabled = off)");
  ASSERT_EQ(Sql("SELECT count(*) FROM contacts")[0][0].as<long>(), 0);
  ASSERT_LT(Sql("SELECT reltuples FROM pg_class WHERE oid = 'contacts'::regclass")[0][0].as<double>(), 0)
      << "the suite's tables start never analyzed";
  auto empty = Contacts();
  ASSERT_TRUE(empty.has_value());
  EXPECT_FALSE(empty->stale) << "nothing to learn from an empty table";
  EXPECT_TRUE(empty->waiting_for_rows);
  AddContacts(1);
  auto first = Contacts();
  ASSERT_TRUE(first.has_value());
  EXPECT_TRUE(first->stale) << "one row, never analyzed: the counts of rows are not needed to see it";
  EXPECT_FALSE(first->waiting_for_rows);
  Sql("ANALYZE contacts");
  auto analyzed = Contacts();
  ASSERT_TRUE(analyzed.has_value());
  EXPECT_FALSE(analyzed->stale) << "just analyzed";
  EXPECT_FALSE(analyzed->waiting_for_rows);
}

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
