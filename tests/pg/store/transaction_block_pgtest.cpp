// The store's transaction block: BEGIN and the statement timeout in one
// round trip (or in the first statement's), rolled back when it is not
// committed, the connection ready for the next one whatever happened inside.
#include "pg_fixture.hpp"
#include "session.hpp"

namespace sb::pgtest {
namespace {

class TransactionBlockTest : public StoreDb {
 protected:
  void SetUp() override {
    StoreDb::SetUp();
    if (IsSkipped()) return;
    Sql("CREATE TABLE IF NOT EXISTS block_test (note text)");
    Sql("TRUNCATE block_test");
    block_conn_ = std::make_unique<pqxx::connection>(url_);
  }

  /// What `sql` answers on the block's connection outside any block.
  std::string Outside(const std::string& sql) {
    return pqxx::nontransaction(*block_conn_).exec1(sql)[0].as<std::string>();
  }

  std::unique_ptr<pqxx::connection> block_conn_;
};

TEST_F(TransactionBlockTest, TheTimeoutHoldsForTheBlockOnly) {
  {
    store::TransactionBlock block(*block_conn_, "t", std::chrono::milliseconds(1234));
    EXPECT_EQ(block.tx().exec1("SHOW statement_timeout")[0].as<std::string>(), "1234ms");
    EXPECT_EQ(block.tx().exec1("SELECT now() = statement_timestamp()")[0].as<std::string>(), "f")
        << "expected the statements to run inside a transaction begun before them";
    block.Commit();
  }
  EXPECT_EQ(Outside("SHOW statement_timeout"), "0");
}

TEST_F(TransactionBlockTest, CommittedWorkStays) {
  {
    store::TransactionBlock block(*block_conn_, "t", std::chrono::milliseconds(5000));
    block.tx().exec0("INSERT INTO block_test VALUES ('kept')");
    block.Commit();
  }
  EXPECT_EQ(Count("SELECT count(*) FROM block_test WHERE note = 'kept'"), 1);
}

TEST_F(TransactionBlockTest, AnUncommittedBlockIsRolledBack) {
  {
    store::TransactionBlock block(*block_conn_, "t", std::chrono::milliseconds(5000));
    block.tx().exec0("INSERT INTO block_test VALUES ('dropped')");
  }
  EXPECT_EQ(Count("SELECT count(*) FROM block_test"), 0);
  EXPECT_EQ(Outside("SELECT pg_current_xact_id_if_assigned() IS NULL"), "t") << "expected no transaction left open";
}

TEST_F(TransactionBlockTest, AFailedStatementLeavesTheConnectionReady) {
  try {
    store::TransactionBlock block(*block_conn_, "t", std::chrono::milliseconds(5000));
    block.tx().exec0("INSERT INTO block_test VALUES ('before the failure')");
    block.tx().exec0("SELECT 1 / 0");
    FAIL() << "expected division by zero";
  } catch (const pqxx::data_exception&) {
  }
  ASSERT_TRUE(block_conn_->is_open());
  store::TransactionBlock next(*block_conn_, "t", std::chrono::milliseconds(5000));
  EXPECT_EQ(next.tx().exec1("SELECT count(*) FROM block_test")[0].as<int>(), 0);
  next.tx().exec0("INSERT INTO block_test VALUES ('after')");
  next.Commit();
  EXPECT_EQ(Count("SELECT count(*) FROM block_test"), 1);
}

TEST_F(TransactionBlockTest, TheTimeoutCancelsALongStatement) {
  try {
    store::TransactionBlock block(*block_conn_, "t", std::chrono::milliseconds(50));
    block.tx().exec0("SELECT pg_sleep(5)");
    FAIL() << "expected the statement canceled after 50 ms";
  } catch (const pqxx::sql_error& e) {
    EXPECT_EQ(e.sqlstate(), "57014") << e.what();  // query_canceled
  }
  store::TransactionBlock next(*block_conn_, "t", std::chrono::milliseconds(5000));
  EXPECT_EQ(next.tx().exec1("SELECT 1")[0].as<int>(), 1);
  next.Commit();
}

TEST_F(TransactionBlockTest, TheFirstOneTripStatementCarriesTheBlocksBegin) {
  {
    store::TransactionBlock block(*block_conn_, "t", std::chrono::milliseconds(1234));
    store::Session s(block, false);
    EXPECT_EQ(s.ExecInOneTripAfter("INSERT INTO block_test VALUES ('one trip'); ", "health/ping").size(), 1U);
    // The server's record of the connection's last query: the BEGIN went
    // in it, ahead of the statement.
    EXPECT_EQ(
        Value("SELECT left(query, 72) FROM pg_stat_activity WHERE pid = " + std::to_string(block_conn_->backendpid())),
        "BEGIN; SET LOCAL statement_timeout = 1234; INSERT INTO block_test VALUES");
    EXPECT_EQ(s.tx().exec1("SHOW statement_timeout")[0].as<std::string>(), "1234ms");
    EXPECT_EQ(s.tx().exec1("SELECT now() = statement_timestamp()")[0].as<std::string>(), "f")
        << "expected the block begun by the first statement's query";
    block.Commit();
  }
  EXPECT_EQ(Count("SELECT count(*) FROM block_test WHERE note = 'one trip'"), 1);
  EXPECT_EQ(Outside("SHOW statement_timeout"), "0");
}

TEST_F(TransactionBlockTest, AFailedFirstOneTripStatementRollsTheBlockBack) {
  try {
    store::TransactionBlock block(*block_conn_, "t", std::chrono::milliseconds(5000));
    store::Session s(block, false);
    s.ExecInOneTripAfter("INSERT INTO block_test VALUES ('dropped'); SELECT 1 / 0; ", "health/ping");
    FAIL() << "expected division by zero";
  } catch (const pqxx::data_exception&) {
  }
  EXPECT_EQ(Count("SELECT count(*) FROM block_test"), 0);
  EXPECT_EQ(Outside("SELECT pg_current_xact_id_if_assigned() IS NULL"), "t") << "expected no transaction left open";
  EXPECT_EQ(Outside("SHOW statement_timeout"), "0");
}

TEST_F(TransactionBlockTest, ABlockWithoutStatementsSendsNothing) {
  EXPECT_EQ(Outside("SELECT 'the last query'"), "the last query");
  {
    store::TransactionBlock block(*block_conn_, "t", std::chrono::milliseconds(1234));
    store::Session s(block, false);
    block.Commit();
  }
  { store::TransactionBlock rolled_back(*block_conn_, "t", std::chrono::milliseconds(1234)); }
  // The server's record of what the connection last ran: neither a BEGIN,
  // a COMMIT nor a ROLLBACK went after it.
  EXPECT_EQ(Value("SELECT query FROM pg_stat_activity WHERE pid = " + std::to_string(block_conn_->backendpid())),
            "SELECT 'the last query'");
}

// Database::RunInOneTrip: the timeout prefix and the statement as one query.
TEST_F(TransactionBlockTest, AOneTripQueryIsATransactionOfItsOwnUnderItsTimeout) {
  {
    pqxx::nontransaction tx(*block_conn_);
    auto prefix = store::StatementTimeoutPrefix(std::chrono::milliseconds(200));
    EXPECT_EQ(tx.exec1(prefix + "SELECT current_setting('statement_timeout')")[0].as<std::string>(), "200ms");
    EXPECT_EQ(tx.exec1(prefix + "SELECT now() = statement_timestamp()")[0].as<std::string>(), "t")
        << "expected the statement to begin its own transaction";
    try {
      tx.exec(prefix + "SELECT pg_sleep(5)");
      ADD_FAILURE() << "expected the statement cancelled after 200 ms";
    } catch (const pqxx::sql_error& e) {
      EXPECT_EQ(e.sqlstate(), "57014");
    }
  }
  EXPECT_EQ(Outside("SHOW statement_timeout"), "0") << "expected the timeout to end with the query's transaction";
}

TEST(WithLiterals, ReplacesEachParameterWithItsValue) {
  EXPECT_EQ(store::WithLiterals("SELECT $1::bigint, $2, $1", {"'7'", "'it''s'"}), "SELECT '7'::bigint, 'it''s', '7'");
  std::vector<std::string> ten{"'a'", "'b'", "'c'", "'d'", "'e'", "'f'", "'g'", "'h'", "'i'", "'j'"};
  EXPECT_EQ(store::WithLiterals("$10 $1 $$ $x", ten), "'j' 'a' $$ $x") << "expected $10 read whole";
  EXPECT_EQ(store::WithLiterals("-- takes $1\nSELECT $1 -- $1 again\n", {"'x\nDROP TABLE t'"}),
            "-- takes $1\nSELECT 'x\nDROP TABLE t' -- $1 again\n")
      << "expected comments copied as they are";
  EXPECT_THROW(store::WithLiterals("SELECT $2", {"'1'"}), std::invalid_argument);
  EXPECT_THROW(store::WithLiterals("SELECT $0", {"'1'"}), std::invalid_argument);
}

}  // namespace
}  // namespace sb::pgtest
