// Migrations apply once: a second run is a no-op, and processes starting
// together on a fresh database do not trip over each other.
#include <future>
#include <latch>
#include <string>
#include <utility>

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

TEST_F(MigratorTest, PendingMigrationsAreThoseTheDatabaseLacks) {
  std::vector<std::string> fresh = store::PendingMigrations(url_);
  store::MigrationReport report = store::Migrate(url_);
  EXPECT_EQ(fresh, report.applied) << "expected a database never migrated to lack every migration, in order";
  EXPECT_TRUE(store::PendingMigrations(url_).empty()) << "expected nothing pending once migrated";

  const std::string last = report.applied.back();
  Value("WITH d AS (DELETE FROM schema_migrations WHERE version = '" + last + "' RETURNING 1) SELECT count(*) FROM d");
  EXPECT_EQ(store::PendingMigrations(url_), std::vector<std::string>{last});

  Value("WITH i AS (INSERT INTO schema_migrations (version) VALUES ('" + last +
        "'), ('V9999__from_a_newer_binary.sql') RETURNING 1) SELECT count(*) FROM i");
  EXPECT_TRUE(store::PendingMigrations(url_).empty())
      << "expected a migration the binary does not know (a newer binary's) not to count as pending";
}

TEST_F(MigratorTest, PendingMigrationsOnClosedPortThrowUnavailable) {
  EXPECT_THROW(store::PendingMigrations("postgresql://postgres@127.0.0.1:1/postgres"), store::Unavailable);
}

TEST_F(MigratorTest, PendingMigrationsWithoutTheRightToReadThemIsAnErrorNotAnOutage) {
  store::Migrate(url_);
  // Roles belong to the cluster, not to the test's database: dropped
  // however the test ends.
  struct Role {
    std::string url, name;
    Role(std::string u, std::string n) : url(std::move(u)), name(std::move(n)) {
      pqxx::connection conn(url);
      pqxx::nontransaction tx(conn);
      tx.exec0("CREATE ROLE " + tx.quote_name(name) + " LOGIN");
    }
    ~Role() {
      try {
        pqxx::connection conn(url);
        pqxx::nontransaction tx(conn);
        tx.exec0("DROP ROLE IF EXISTS " + tx.quote_name(name));
      } catch (const std::exception& e) {
        ADD_FAILURE() << "could not drop role " << name << ": " << e.what();
      }
    }
    Role(const Role&) = delete;
    Role& operator=(const Role&) = delete;
  };
  const Role reader(url_, "sb_reader_" + name_.substr(name_.size() - 8));
  const std::string& role = reader.name;
  const std::string as_role = url_ + (url_.find('?') == std::string::npos ? "?" : "&") + "user=" + role;
  try {
    store::PendingMigrations(as_role);
    ADD_FAILURE() << "expected a role that may not read schema_migrations to get an error";
  } catch (const store::Unavailable& e) {
    ADD_FAILURE() << "expected an error, not an outage (serve would start anyway): " << e.what();
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("checking the database's migrations failed"), std::string::npos) << e.what();
  }
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
