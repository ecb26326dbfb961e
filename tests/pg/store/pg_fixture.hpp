#pragma once
// Shared set-up of the store's PostgreSQL tests: a fresh, migrated database
// per test suite (dropped at its end), a business with channels per test,
// and builders for the ingest requests the gateway would hand over.
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
#include <exception>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "sb/gateway/envelope.hpp"
#include "sb/gateway/ingest_sink.hpp"
#include "sb/store/database.hpp"
#include "sb/store/group_commit_writer.hpp"
#include "sb/store/migrator.hpp"

namespace sb::pgtest {

using gateway::ChannelKey;
using gateway::ChannelKind;
using gateway::ChannelRef;
using gateway::IngestRequest;

inline constexpr const char* kSkipReason = test::kNoDatabaseReason;
using sb::Blocking;  // sb/common/blocking.hpp
using test::AdminUrl;
using test::CreateDatabase;
using test::DropDatabase;
using test::WithDatabase;

/// Keeps what the server sends the connection besides results: the plans
/// auto_explain logs at client_min_messages = log.
class ServerMessages : public pqxx::errorhandler {
 public:
  explicit ServerMessages(pqxx::connection_base& conn) : pqxx::errorhandler(conn) {}
  bool operator()(const char msg[]) noexcept override {
    text += msg;
    return true;
  }
  std::string text;
};

/// Keeps the payloads of the agent event announcements (NOTIFY
/// sb_agent_events) a connection hears.
class Announcements : public pqxx::notification_receiver {
 public:
  explicit Announcements(pqxx::connection_base& conn) : pqxx::notification_receiver(conn, "sb_agent_events") {}
  void operator()(const std::string& payload, int) override { payloads.push_back(payload); }
  std::vector<std::string> payloads;
};

/// A registered channel as the ingest path sees it.
struct TestChannel {
  ChannelRef ref;
  ChannelKey key;
  ChannelKind kind = ChannelKind::kWhatsapp;
};

/// Holds an exclusive lock on webhook_archive (which every ingest batch
/// writes) until released, so that requests queue up behind a blocked batch
/// and are then committed together in one.
class ArchiveLock {
 public:
  explicit ArchiveLock(const std::string& url) : conn_(url), tx_(std::make_unique<pqxx::work>(conn_)) {
    tx_->exec0("LOCK TABLE webhook_archive IN ACCESS EXCLUSIVE MODE");
  }
  ArchiveLock(const ArchiveLock&) = delete;
  ArchiveLock& operator=(const ArchiveLock&) = delete;
  ~ArchiveLock() { Release(); }
  void Release() {
    if (tx_) tx_->commit();
    tx_.reset();
  }

 private:
  pqxx::connection conn_;
  std::unique_ptr<pqxx::work> tx_;
};

/// The bytes a queued request counts in the writer's backlog.
inline std::size_t BacklogBytesOf(const IngestRequest& r) { return r.body.size() + 256; }

/// One fresh migrated database per test suite; per test, a writer and a
/// business of its own with a WhatsApp and a Messenger channel, so tests of
/// one suite never see each other's rows when they scope by business.
class StoreDb : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    auto admin = AdminUrl();
    if (!admin) return;
    db_name_ = CreateDatabase(*admin);
    url_ = WithDatabase(*admin, db_name_);
    sb::store::Migrate(url_);
  }

  static void TearDownTestSuite() {
    auto admin = AdminUrl();
    if (!admin || db_name_.empty()) return;
    DropDatabase(*admin, db_name_);
    db_name_.clear();
    url_.clear();
  }

  void SetUp() override {
    if (!AdminUrl()) GTEST_SKIP() << kSkipReason;
    ASSERT_FALSE(url_.empty()) << "expected the suite's database to be created and migrated";
    conn_ = std::make_unique<pqxx::connection>(url_);
    business_ = CreateBusiness("business of " + TestName());
    whatsapp_ = CreateChannel(business_, "whatsapp");
    messenger_ = CreateChannel(business_, "messenger");
    writer_ = MakeWriter();
  }

  void TearDown() override {
    if (writer_) writer_->Stop();
    writer_.reset();
    conn_.reset();
  }

  static std::string TestName() { return ::testing::UnitTest::GetInstance()->current_test_info()->name(); }

  /// `max_queue_delay` 0 keeps the writer's default admission.
  std::unique_ptr<sb::store::GroupCommitWriter> MakeWriter(
      int writers = 2, std::chrono::milliseconds max_queue_delay = std::chrono::milliseconds(0)) {
    sb::store::GroupCommitWriter::Options options;
    options.database_url = url_;
    options.writers = writers;
    options.max_queue_delay = max_queue_delay;
    return std::make_unique<sb::store::GroupCommitWriter>(options, nullptr);
  }

  /// A pool of one connection to the suite's database, named `name`.
  std::unique_ptr<sb::store::Database> OpenDatabase(const std::string& name) {
    sb::store::DbOptions options;
    options.url = url_;
    options.pool_size = 1;
    options.name = name;
    return std::make_unique<sb::store::Database>(options);
  }

  /// Runs `sql` in its own transaction on the test's connection.
  pqxx::result Sql(const std::string& sql) { return test::RunSql(*conn_, sql); }
  /// The single value `sql` answers (NULL as "<null>").
  std::string Value(const std::string& sql) { return test::SingleValue(*conn_, sql); }

  std::int64_t Count(const std::string& sql) { return std::stoll(Value(sql)); }

  /// Waits (up to 5 s) until a session of this database waits for a lock.
  bool WaitForBlockedSession() {
    for (int i = 0; i < 500; ++i) {
      if (Count("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND "
                "wait_event_type = 'Lock'") > 0) {
        return true;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return false;
  }

  /// Waits (up to 5 s) until the writer's backlog holds `bytes`.
  bool WaitForBacklog(std::size_t bytes) {
    for (int i = 0; i < 500 && writer_->BacklogBytes() < bytes; ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return writer_->BacklogBytes() == bytes;
  }

  std::int64_t CreateBusiness(const std::string& name) {
    pqxx::work tx(*conn_);
    auto id = tx.exec1("INSERT INTO businesses (name) VALUES (" + tx.quote(name) + ") RETURNING business_id")[0]
                  .as<std::int64_t>();
    tx.commit();
    return id;
  }

  /// A channel of `kind` with a fresh external id (page id / phone_number_id).
  TestChannel CreateChannel(std::int64_t business_id, const std::string& kind) {
    static int counter = 0;
    std::string external = kind + "-" + std::to_string(business_id) + "-" + std::to_string(++counter);
    pqxx::work tx(*conn_);
    auto id = tx.exec1(
                    "INSERT INTO channels (business_id, kind, external_id, app_secret_enc, verify_token_hash) "
                    "VALUES (" +
                    std::to_string(business_id) + ", " + tx.quote(kind) + ", " + tx.quote(external) +
                    ", '\\x00'::bytea, '\\x00'::bytea) RETURNING id")[0]
                  .as<std::int64_t>();
    tx.exec0("INSERT INTO channel_lookup (kind, external_id, business_id, channel_id) VALUES (" + tx.quote(kind) +
             ", " + tx.quote(external) + ", " + std::to_string(business_id) + ", " + std::to_string(id) + ")");
    tx.commit();
    return TestChannel{ChannelRef{external, false}, ChannelKey{business_id, id}, *gateway::ChannelKindFromString(kind)};
  }

  static std::string url_;
  static std::string db_name_;
  std::unique_ptr<pqxx::connection> conn_;
  std::unique_ptr<sb::store::GroupCommitWriter> writer_;
  std::int64_t business_ = 0;
  TestChannel whatsapp_;
  TestChannel messenger_;
};

inline std::string StoreDb::url_;
inline std::string StoreDb::db_name_;

/// A request of `kind` carrying `body`, verified for `channels`, due in 10 s.
inline IngestRequest Request(ChannelKind kind, std::string body, const std::vector<TestChannel>& channels) {
  IngestRequest r;
  r.kind = kind;
  r.body = std::move(body);
  for (const auto& c : channels) {
    r.channels.emplace_back(c.ref, c.key);
    r.parsed.channels.push_back(c.ref);
  }
  r.deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  return r;
}

/// A text message from `contact` on `channel`.
inline gateway::InboundMessage Text(const TestChannel& channel, std::string contact, std::string provider_id,
                                    std::string text = "hello") {
  gateway::InboundMessage m;
  m.channel = channel.ref;
  m.contact_external_id = std::move(contact);
  m.provider_message_id = std::move(provider_id);
  m.provider_ts_ms = 1700000000000;
  m.type = "text";
  m.text = std::move(text);
  return m;
}

/// A request of one text message (the body names the provider id so that
/// different messages have different bodies).
inline IngestRequest OneMessage(const TestChannel& channel, const std::string& contact, const std::string& provider_id,
                                const std::string& text = "hello") {
  IngestRequest r = Request(channel.kind, R"({"object":"test","id":")" + provider_id + R"("})", {channel});
  r.parsed.messages.push_back(Text(channel, contact, provider_id, text));
  return r;
}

inline gateway::StatusUpdate Status(const TestChannel& channel, std::string provider_id, std::string status) {
  gateway::StatusUpdate s;
  s.channel = channel.ref;
  s.provider_message_id = std::move(provider_id);
  s.status = std::move(status);
  s.ts_ms = 1700000000000;
  return s;
}

}  // namespace sb::pgtest
