#pragma once
// Shared set-up of the outbound PostgreSQL tests: a fresh, migrated database
// per suite (dropped at its end); per test a business with a WhatsApp and a
// Messenger channel whose access tokens are sealed with a test key, a pool,
// a metrics registry and a fake Graph API.
#include <gtest/gtest.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <pqxx/pqxx>

#include "pg_database.hpp"
#include "sb/common/blocking.hpp"

#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <functional>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <thread>

#include "fake_graph_process.hpp"
#include "sb/common/crypto.hpp"
#include "sb/common/metrics.hpp"
#include "sb/outbound/outbound_sender.hpp"
#include "sb/store/database.hpp"
#include "sb/store/migrator.hpp"
#include "sb/store/outbound_repository.hpp"

namespace sb::pgtest {

using namespace std::chrono_literals;

inline constexpr const char* kSkipReason = test::kNoDatabaseReason;
inline const std::string kTestKey = "0123456789abcdef0123456789abcdef";  // 32 bytes
using test::AdminUrl;
using test::WithDatabase;

using sb::Blocking;  // sb/common/blocking.hpp

/// Polls `done` every 20 ms for up to `timeout`.
inline bool WaitFor(const std::function<bool()>& done, std::chrono::milliseconds timeout = 10s) {
  auto until = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < until) {
    if (done()) return true;
    std::this_thread::sleep_for(20ms);
  }
  return done();
}

struct TestChannel {
  std::int64_t id = 0;
  std::string kind;
  std::string external_id;
  std::string access_token;
};

class OutboundDb : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    auto admin = AdminUrl();
    if (!admin) return;
    db_name_ = test::CreateDatabase(*admin, "sb_pg_outbound_");
    url_ = WithDatabase(*admin, db_name_);
    sb::store::Migrate(url_);
  }

  static void TearDownTestSuite() {
    auto admin = AdminUrl();
    if (!admin || db_name_.empty()) return;
    test::DropDatabase(*admin, db_name_);
    db_name_.clear();
    url_.clear();
  }

  void SetUp() override {
    if (!AdminUrl()) GTEST_SKIP() << kSkipReason;
    ASSERT_FALSE(url_.empty()) << "expected the suite's database to be created and migrated";
    conn_ = std::make_unique<pqxx::connection>(url_);
    fake_ = std::make_unique<FakeGraph>();
    business_ = Id("INSERT INTO businesses (name) VALUES ('outbound test') RETURNING business_id");
    whatsapp_ = CreateChannel(business_, "whatsapp", true);
    messenger_ = CreateChannel(business_, "messenger", true);
    db_ = std::make_unique<store::Database>(store::DbOptions{url_, 3});
    repo_ = std::make_unique<store::OutboundRepository>(*db_);
  }

  void TearDown() override {
    senders_.clear();  // stops them
    // The suite's tests share a database and senders claim across
    // businesses: leave nothing queued for the next test's sender.
    if (conn_) {
      Sql("UPDATE messages SET status = 'failed', error = 'left queued by " + TestName() +
          "' WHERE status = 'queued' AND business_id = " + std::to_string(business_));
    }
    repo_.reset();
    if (db_) db_->Stop();
    db_.reset();
    fake_.reset();
    conn_.reset();
  }

  static std::string TestName() { return ::testing::UnitTest::GetInstance()->current_test_info()->name(); }

  /// Options for a sender against the fake, retrying quickly.
  outbound::SenderOptions FastOptions() {
    outbound::SenderOptions o;
    o.graph_api_base = fake_->BaseUrl();
    o.poll_interval = 50ms;
    o.request_timeout = 2s;
    o.lease = 30s;
    o.stop_grace = 3s;
    o.retry.first_retry = 100ms;
    o.retry.min_delay = 20ms;
    return o;
  }

  outbound::OutboundSender& StartSender(const outbound::SenderOptions& options) {
    senders_.push_back(std::make_unique<outbound::OutboundSender>(*db_, secrets_, registry_, options));
    senders_.back()->Start();
    return *senders_.back();
  }

  TestChannel CreateChannel(std::int64_t business_id, const std::string& kind, bool with_token) {
    static int counter = 0;
    TestChannel c;
    c.kind = kind;
    c.external_id = std::to_string(106540000000 + business_id * 100 + ++counter);
    c.access_token = "EAAtoken-" + kind + "-" + c.external_id;
    std::string token_sql =
        with_token ? "decode('" + crypto::HexEncode(secrets_.Seal(c.access_token)) + "', 'hex')" : "NULL";
    c.id =
        Id("INSERT INTO channels (business_id, kind, external_id, app_secret_enc, verify_token_hash, "
           "access_token_enc) VALUES (" +
           std::to_string(business_id) + ", " + conn_->quote(kind) + ", " + conn_->quote(c.external_id) +
           ", '\\x00'::bytea, '\\x00'::bytea, " + token_sql + ") RETURNING id");
    Sql("INSERT INTO channel_lookup (kind, external_id, business_id, channel_id) VALUES (" + conn_->quote(kind) + ", " +
        conn_->quote(c.external_id) + ", " + std::to_string(business_id) + ", " + std::to_string(c.id) + ")");
    return c;
  }

  /// Queues an agent reply to `contact` in its open conversation (created
  /// when none), as the agent API does; returns the message id.
  std::int64_t Queue(const TestChannel& channel, const std::string& contact, const std::string& text,
                     const std::string& extra_columns = "", const std::string& extra_values = "",
                     std::int64_t business_id = 0) {
    std::string b = std::to_string(business_id ? business_id : business_);
    std::string ch = std::to_string(channel.id);
    // Named, as after a profile lookup: these tests count send calls only.
    Sql("INSERT INTO contacts (business_id, channel_id, external_id, name) VALUES (" + b + ", " + ch + ", " +
        conn_->quote(contact) + ", 'Customer') ON CONFLICT DO NOTHING");
    std::string contact_id = Value("SELECT id FROM contacts WHERE business_id = " + b + " AND channel_id = " + ch +
                                   " AND external_id = " + conn_->quote(contact));
    Sql("INSERT INTO conversations (business_id, channel_id, contact_id, status) VALUES (" + b + ", " + ch + ", " +
        contact_id + ", 'assigned') ON CONFLICT DO NOTHING");
    std::string conversation_id = Value("SELECT id FROM conversations WHERE business_id = " + b +
                                        " AND contact_id = " + contact_id + " AND status <> 'resolved'");
    return Id(
        "INSERT INTO messages (business_id, conversation_id, channel_id, contact_id, direction, sender, type, "
        "text, status" +
        extra_columns + ") VALUES (" + b + ", " + conversation_id + ", " + ch + ", " + contact_id +
        ", 'out', 'agent', 'text', " + conn_->quote(text) + ", 'queued'" + extra_values + ") RETURNING id");
  }

  pqxx::result Sql(const std::string& sql) { return test::RunSql(*conn_, sql); }
  /// The single value `sql` answers (NULL as "<null>").
  std::string Value(const std::string& sql) { return test::SingleValue(*conn_, sql); }

  std::int64_t Id(const std::string& sql) { return std::stoll(Value(sql)); }

  /// A column of one message of the test's business.
  std::string Column(std::int64_t id, const std::string& column) {
    return Value("SELECT " + column + " FROM messages WHERE business_id = " + std::to_string(business_) +
                 " AND id = " + std::to_string(id));
  }

  bool StatusBecomes(std::int64_t id, const std::string& status, std::chrono::milliseconds timeout = 10s) {
    return WaitFor([&] { return Column(id, "status") == status; }, timeout);
  }

  double Sends(const std::string& kind, const std::string& result) {
    return registry_.GetCounter("switchboard_outbound_sends_total", "", {{"kind", kind}, {"result", result}}).Value();
  }

  static std::string url_;
  static std::string db_name_;
  crypto::SecretBox secrets_{kTestKey};
  metrics::Registry registry_;
  std::unique_ptr<pqxx::connection> conn_;
  std::unique_ptr<FakeGraph> fake_;
  std::unique_ptr<store::Database> db_;
  std::unique_ptr<store::OutboundRepository> repo_;
  std::vector<std::unique_ptr<outbound::OutboundSender>> senders_;
  std::int64_t business_ = 0;
  TestChannel whatsapp_;
  TestChannel messenger_;
};

inline std::string OutboundDb::url_;
inline std::string OutboundDb::db_name_;

}  // namespace sb::pgtest
