// The audit row of a set-up change is written in the change's transaction:
// both commit, or neither does; secrets in summaries are redacted.
#include <nlohmann/json.hpp>

#include "pg_fixture.hpp"
#include "sb/store/audit.hpp"
#include "sb/store/database.hpp"
#include "sb/store/setup_repository.hpp"

namespace sb::pgtest {
namespace {

class AuditTest : public StoreDb {
 protected:
  void SetUp() override {
    StoreDb::SetUp();
    if (IsSkipped() || HasFatalFailure()) return;
    store::DbOptions options;
    options.url = url_;
    options.pool_size = 1;
    db_ = std::make_unique<store::Database>(options);
    setup_ = std::make_unique<store::SetupRepository>(*db_);
  }

  void TearDown() override {
    setup_.reset();
    if (db_) db_->Stop();
    db_.reset();
    StoreDb::TearDown();
  }

  store::AuditEntry Entry(std::string actor_type = "business_key") {
    store::AuditEntry e;
    e.business_id = business_;
    e.actor_type = std::move(actor_type);
    e.actor_id = "0123456789abcdef";
    e.action = "create";
    e.resource_type = "queue";
    e.summary_json = R"({"name":"Support","nested":{"app_secret":"s3cr3t","AccessToken":"tok"},"api_key":null})";
    e.request_id = "req-1";
    return e;
  }

  std::string QueueParams(const std::string& name) {
    return nlohmann::json{{"business_id", business_},  {"name", name},
                          {"strategy", "round_robin"}, {"first_response_sla_s", nullptr},
                          {"require_accept", false},   {"offer_timeout_s", 30},
                          {"overflow_wait_s", nullptr}}
        .dump();
  }

  std::int64_t Count(const std::string& table) {
    return Sql("SELECT count(*) FROM " + table + " WHERE business_id = " + std::to_string(business_))[0][0]
        .as<std::int64_t>();
  }

  std::unique_ptr<store::Database> db_;
  std::unique_ptr<store::SetupRepository> setup_;
};

TEST_F(AuditTest, ChangeAndRowCommitTogether) {
  auto entry = Entry();
  auto created = nlohmann::json::parse(Blocking(setup_->CreateQueue(QueueParams("Support"), entry)));
  ASSERT_EQ(Count("queues"), 1);
  auto rows =
      Sql("SELECT actor_type, actor_id, action, resource_type, resource_id, summary::text, request_id "
          "FROM audit_log WHERE business_id = " +
          std::to_string(business_));
  ASSERT_EQ(rows.size(), 1u) << "one audit row per change";
  EXPECT_EQ(rows[0][0].as<std::string>(), "business_key");
  EXPECT_EQ(rows[0][1].as<std::string>(), "0123456789abcdef");
  EXPECT_EQ(rows[0][2].as<std::string>(), "create");
  EXPECT_EQ(rows[0][3].as<std::string>(), "queue");
  EXPECT_EQ(rows[0][4].as<std::string>(), std::to_string(created["id"].get<std::int64_t>()))
      << "the created row's id fills the resource id";
  auto summary = nlohmann::json::parse(rows[0][5].as<std::string>());
  EXPECT_EQ(summary["name"], "Support");
  EXPECT_EQ(summary["nested"]["app_secret"], "[redacted]");
  EXPECT_EQ(summary["nested"]["AccessToken"], "[redacted]") << "names are matched in any case";
  EXPECT_TRUE(summary["api_key"].is_null()) << "an absent secret stays null";
  EXPECT_EQ(rows[0][5].as<std::string>().find("s3cr3t"), std::string::npos);
  EXPECT_EQ(rows[0][6].as<std::string>(), "req-1");
}

TEST_F(AuditTest, AnAuditRowThatCannotBeWrittenUndoesTheChange) {
  // The actor type violates the table's CHECK: the insert of the audit row
  // fails after the queue's insert in the same transaction.
  auto entry = Entry("somebody");
  EXPECT_ANY_THROW(Blocking(setup_->CreateQueue(QueueParams("Never"), entry)));
  EXPECT_EQ(Count("queues"), 0) << "the queue must roll back with its audit row";
  EXPECT_EQ(Count("audit_log"), 0);
}

TEST(AuditRedaction, RedactsSecretNamedMembersAtAnyDepth) {
  auto out = nlohmann::json::parse(store::RedactSummary(
      R"({"verify_token":"v","list":[{"password":"p","name":"n"}],"credentials":{"a":1},"authorization":"Bearer x","kind":"whatsapp"})"));
  EXPECT_EQ(out["verify_token"], "[redacted]");
  EXPECT_EQ(out["list"][0]["password"], "[redacted]");
  EXPECT_EQ(out["list"][0]["name"], "n");
  EXPECT_EQ(out["credentials"], "[redacted]");
  EXPECT_EQ(out["authorization"], "[redacted]");
  EXPECT_EQ(out["kind"], "whatsapp");
  EXPECT_EQ(store::RedactSummary("not json"), "{}");
  EXPECT_EQ(store::RedactSummary("[1,2]"), "{}");
}

}  // namespace
}  // namespace sb::pgtest
