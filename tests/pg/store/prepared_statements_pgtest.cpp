// Named statements are prepared once per pooled connection (and only bound
// and run after that) unless DbOptions::prepare is off, as it must be
// behind a transaction-pooling pgbouncer.
#include "pg_fixture.hpp"
#include "sb/store/database.hpp"
#include "session.hpp"

namespace sb::pgtest {
namespace {

class PreparedStatementsTest : public StoreDb {
 protected:
  std::unique_ptr<store::Database> Open(bool prepare) {
    store::DbOptions options;
    options.url = url_;
    options.pool_size = 1;  // every transaction below on the same connection
    options.prepare = prepare;
    return std::make_unique<store::Database>(options);
  }

  /// Runs statement health/ping in its own transaction; returns its value
  /// and how many statements this connection has prepared under that name.
  static std::pair<int, int> Ping(store::Database& db) {
    std::pair<int, int> out{0, -1};
    db.RunSync("ping", [&](store::Session& s) {
      out.first = s.Exec("health/ping")[0][0].as<int>();
      out.second = s.tx().exec1("SELECT count(*) FROM pg_prepared_statements WHERE name = 'health/ping'")[0].as<int>();
    });
    return out;
  }
};

TEST_F(PreparedStatementsTest, OnPreparesOnceAndReusesIt) {
  auto db = Open(true);
  EXPECT_EQ(Ping(*db), std::make_pair(1, 1)) << "expected the statement prepared on its first run";
  EXPECT_EQ(Ping(*db), std::make_pair(1, 1)) << "expected the next transaction to reuse it, not prepare it again";
  db->Stop();
}

TEST_F(PreparedStatementsTest, OffPreparesNothing) {
  auto db = Open(false);
  EXPECT_EQ(Ping(*db), std::make_pair(1, 0));
  EXPECT_EQ(Ping(*db), std::make_pair(1, 0));
  db->Stop();
}

TEST_F(PreparedStatementsTest, MetricsStatementsArePlannedEachCall) {
  auto db = Open(true);
  int prepared = -1;
  db->RunSync("metrics", [&](store::Session& s) {
    s.Exec("metrics/work_mem");
    prepared = s.tx().exec1("SELECT count(*) FROM pg_prepared_statements WHERE name LIKE 'metrics/%'")[0].as<int>();
  });
  EXPECT_EQ(prepared, 0) << "expected the metrics statements run unprepared";
  EXPECT_EQ(Ping(*db), std::make_pair(1, 1)) << "expected other statements still prepared";
  db->Stop();
}

TEST_F(PreparedStatementsTest, AFailedTransactionKeepsTheStatementUsable) {
  auto db = Open(true);
  ASSERT_EQ(Ping(*db), std::make_pair(1, 1));
  EXPECT_ANY_THROW(db->RunSync("fail", [](store::Session& s) {
    s.Exec("health/ping");
    s.tx().exec0("SELECT 1 / 0");
  }));
  EXPECT_EQ(Ping(*db), std::make_pair(1, 1)) << "expected the rolled-back transaction to leave the statement prepared";
  db->Stop();
}

}  // namespace
}  // namespace sb::pgtest
