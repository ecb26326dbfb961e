// Migrations apply once: a second run is a no-op, and processes starting
// together on a fresh database do not trip over each other.
#include <future>
#include <latch>

#include "pg_fixture.hpp"

namespace sb::pgtest {
namespace {

class MigratorTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto admin = AdminUrl();
    if (!admin) GTEST_SKIP() << kSkipReason;
    admin_ = *admin;
    name_ = CreateDatabase(admin_);
    url_ = WithDatabase(admin_, name_);
  }

  void TearDown() override {
    if (!name_.empty()) DropDatabase(admin_, name_);
  }

  std::string Value(const std::string& sql) {
    pqxx::connection conn(url_);
    pqxx::nontransaction tx(conn);
    return tx.exec1(sql)[0].as<std::string>();
  }

  std::string admin_, name_, url_;
};

TEST_F(MigratorTest, SecondRunIsANoOp) {
  store::MigrationReport first = store::Migrate(url_);
  EXPECT_GT(first.total, 0) << "expected the binary to know some migrations";
  EXPECT_EQ(static_cast<int>(first.applied.size()), first.total) << "expected a fresh database to get them all";
  EXPECT_TRUE(std::is_sorted(first.applied.begin(), first.applied.end())) << "expected migrations applied in order";

  store::MigrationReport second = store::Migrate(url_);
  EXPECT_TRUE(second.applied.empty()) << "expected the second run to apply nothing; it applied "
                                      << (second.applied.empty() ? "" : second.applied.front());
  EXPECT_EQ(second.total, first.total);
  EXPECT_EQ(Value("SELECT count(*) FROM schema_migrations"), std::to_string(first.total))
      << "expected each migration recorded once";
  EXPECT_EQ(Value("SELECT count(*) FROM pg_proc WHERE proname = 'sb_ingest_messages'"), "1")
      << "expected the ingest function installed";
}

TEST_F(MigratorTest, ConcurrentRunsOnAFreshDatabaseBothSucceed) {
  constexpr int kRuns = 3;
  std::latch start(kRuns);
  std::vector<std::future<store::MigrationReport>> runs;
  for (int i = 0; i < kRuns; ++i) {
    runs.push_back(std::async(std::launch::async, [&] {
      start.arrive_and_wait();
      return store::Migrate(url_);
    }));
  }
  int total = 0;
  int applied = 0;
  int runs_that_applied = 0;
  for (int i = 0; i < kRuns; ++i) {
    store::MigrationReport report;
    ASSERT_NO_THROW(report = runs[i].get()) << "run " << i << ": expected a concurrent migration to succeed";
    total = report.total;
    applied += static_cast<int>(report.applied.size());
    if (!report.applied.empty()) ++runs_that_applied;
  }
  EXPECT_EQ(applied, total) << "expected every migration applied exactly once across the concurrent runs";
  EXPECT_EQ(runs_that_applied, 1) << "expected one run to apply everything and the others nothing";
  EXPECT_EQ(Value("SELECT count(*) FROM schema_migrations"), std::to_string(total))
      << "expected each migration recorded once";
}

}  // namespace
}  // namespace sb::pgtest
