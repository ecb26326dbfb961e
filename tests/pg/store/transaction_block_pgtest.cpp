// The store's transaction block: BEGIN and the statement timeout in one
// round trip, rolled back when it is not committed, the connection ready
// for the next one whatever happened inside.
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

}  // namespace
}  // namespace sb::pgtest
