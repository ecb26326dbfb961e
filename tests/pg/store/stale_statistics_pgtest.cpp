// Which hot tables of a young database the server analyzes itself
// (maintenance/stale_statistics, MaintenanceRepository::
// RefreshStaleStatistics): one never analyzed as soon as it has a page, one
// analyzed before its first rows were committed once they are, then those
// that grew to twice their analyzed rows, however often their rows were
// updated meanwhile.
#include <optional>
#include <string>

#include "pg_fixture.hpp"
#include "sb/store/database.hpp"
#include "sb/store/repositories.hpp"
#include "session.hpp"

namespace sb::pgtest {
namespace {

class StaleStatisticsTest : public StoreDb {
 protected:
  void SetUp() override {
    StoreDb::SetUp();
    if (IsSkipped()) return;
    // An empty contacts table, never analyzed (TRUNCATE forgets its
    // statistics), that nothing else analyzes or vacuums meanwhile.
    Sql("TRUNCATE contacts CASCADE");
    Sql("ALTER TABLE contacts SET (autovacuum_enabled = off)");
    ASSERT_LT(Reltuples(), 0) << "expected TRUNCATE to leave contacts never analyzed";
  }

  struct Row {
    bool stale = false;
    bool no_statistics = false;
  };

  /// The statement's row for contacts (nullopt when it names no such
  /// table), once this connection's counts are in the statistics
  /// PostgreSQL keeps.
  std::optional<Row> Contacts() {
    FlushCounts(*conn_);
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

  static void FlushCounts(pqxx::connection& conn) {
    test::RunSql(conn, "SELECT pg_stat_force_next_flush()");
    test::RunSql(conn, "SELECT 1");  // flushed when the connection goes idle after the line above
  }

  double Reltuples() {
    return Sql("SELECT reltuples FROM pg_class WHERE oid = 'contacts'::regclass")[0][0].as<double>();
  }

  std::string InsertContacts(int n) {
    return "INSERT INTO contacts (business_id, channel_id, external_id) SELECT " + std::to_string(business_) + ", " +
           std::to_string(whatsapp_.key.channel_id) + ", 'k' || g || '-' || random() FROM generate_series(1, " +
           std::to_string(n) + ") g";
  }

  void AddContacts(int n) { Sql(InsertContacts(n)); }
};

TEST_F(StaleStatisticsTest, ANeverAnalyzedTableIsAnalyzedAtItsFirstPageNotBefore) {
  auto empty = Contacts();
  ASSERT_TRUE(empty.has_value());
  EXPECT_FALSE(empty->stale) << "nothing to learn from an empty table";
  EXPECT_TRUE(empty->no_statistics);
  AddContacts(1);
  auto first = Contacts();
  ASSERT_TRUE(first.has_value());
  EXPECT_TRUE(first->stale) << "one row, never analyzed: the counts of rows are not needed to see it";
  EXPECT_TRUE(first->no_statistics);
  Sql("ANALYZE contacts");
  auto analyzed = Contacts();
  ASSERT_TRUE(analyzed.has_value());
  EXPECT_FALSE(analyzed->stale) << "just analyzed";
  EXPECT_FALSE(analyzed->no_statistics);
}

TEST_F(StaleStatisticsTest, ATableAnalyzedBeforeItsFirstRowsWereCommittedIsAnalyzedAgainOnceTheyAre) {
  pqxx::connection other(url_);
  {
    pqxx::work inserting(other);
    inserting.exec0(InsertContacts(3));
    EXPECT_TRUE(ContactsStale()) << "the page is there before its rows are committed";
    Sql("ANALYZE contacts");
    EXPECT_EQ(Reltuples(), 0) << "rows another transaction is inserting are not counted";
    auto counted_none = Contacts();
    ASSERT_TRUE(counted_none.has_value());
    EXPECT_FALSE(counted_none->stale) << "no rows committed yet";
    EXPECT_TRUE(counted_none->no_statistics);
    inserting.commit();
  }
  FlushCounts(other);
  EXPECT_TRUE(ContactsStale()) << "analyzed with no rows counted, 3 rows now";
  Sql("ANALYZE contacts");
  EXPECT_EQ(Reltuples(), 3);
  EXPECT_FALSE(ContactsStale());
}

TEST_F(StaleStatisticsTest, ATableIsAnalyzedWhenItsRowsDoubleNotWhenTheyChange) {
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

TEST_F(StaleStatisticsTest, TheServerAnalyzesWithASmallSampleAndLeavesTheSettingAsItWas) {
  AddContacts(300);
  FlushCounts(*conn_);
  auto db = OpenDatabase("maintenance");
  store::MaintenanceRepository maintenance(*db);
  EXPECT_TRUE(Blocking(maintenance.RefreshStaleStatistics()))
      << "contacts had no statistics when the pass began (nor have the empty conversations and messages)";
  EXPECT_EQ(Reltuples(), 300);
  // 300 distinct values: 101 histogram bounds at the default target of
  // 100, at most 11 at 10.
  const auto bounds = Count(
      "SELECT coalesce(array_length(histogram_bounds::text::text[], 1), 0) FROM pg_stats "
      "WHERE schemaname = current_schema() AND tablename = 'contacts' AND attname = 'external_id'");
  EXPECT_GT(bounds, 0);
  EXPECT_LE(bounds, 11);
  std::string target;
  db->RunSync("show",
              [&](store::Session& s) { target = s.tx().exec1("SHOW default_statistics_target")[0].as<std::string>(); });
  EXPECT_EQ(target, "100") << "the small sample is for the server's analyses only";
}

}  // namespace
}  // namespace sb::pgtest
