// Every row belongs to the business whose channel it came through, and the
// conversation queries of one business never show another's rows.
#include <nlohmann/json.hpp>

#include <set>

#include "pg_fixture.hpp"
#include "sb/store/database.hpp"
#include "sb/store/repositories.hpp"

namespace sb::pgtest {
namespace {

class TenancyTest : public StoreDb {
 protected:
  void SetUp() override {
    StoreDb::SetUp();
    if (IsSkipped() || HasFatalFailure()) return;
    other_ = CreateBusiness("business B of " + TestName());
    other_messenger_ = CreateChannel(other_, "messenger");
    store::DbOptions options;
    options.url = url_;
    options.pool_size = 2;
    db_ = std::make_unique<store::Database>(options);
    repo_ = std::make_unique<store::ConversationRepository>(*db_);
  }

  void TearDown() override {
    repo_.reset();
    if (db_) db_->Stop();
    db_.reset();
    StoreDb::TearDown();
  }

  /// Ids of the business's conversations, newest first, from SQL.
  std::vector<std::int64_t> ConversationIds(std::int64_t business_id) {
    std::vector<std::int64_t> ids;
    for (const auto& row :
         Sql("SELECT id FROM conversations WHERE business_id = " + std::to_string(business_id) + " ORDER BY id DESC")) {
      ids.push_back(row[0].as<std::int64_t>());
    }
    return ids;
  }

  /// Walks List with `limit` until no cursor is left; the ids in page order.
  std::vector<std::int64_t> WalkConversations(std::int64_t business_id, int limit) {
    std::vector<std::int64_t> ids;
    store::ConversationQuery q;
    q.business_id = business_id;
    q.limit = limit;
    for (int page = 0; page < 100; ++page) {
      store::Page p = Blocking(repo_->List(q));
      EXPECT_LE(p.items.size(), static_cast<std::size_t>(limit)) << "expected at most `limit` items per page";
      for (const auto& item : p.items) ids.push_back(nlohmann::json::parse(item).at("id").get<std::int64_t>());
      if (!p.next_cursor) return ids;
      EXPECT_EQ(p.items.size(), static_cast<std::size_t>(limit)) << "expected a page with a cursor to be full";
      q.before = std::stoll(*p.next_cursor);
    }
    ADD_FAILURE() << "expected the pages to end";
    return ids;
  }

  std::int64_t other_ = 0;
  TestChannel other_messenger_;
  std::unique_ptr<store::Database> db_;
  std::unique_ptr<store::ConversationRepository> repo_;
};

TEST_F(TenancyTest, MessagesLandWithTheBusinessOfTheirChannel) {
  // One body naming a channel of each business (one Meta app serving both).
  IngestRequest r =
      Request(ChannelKind::kMessenger, R"({"object":"page","entry":["A","B"]})", {messenger_, other_messenger_});
  r.parsed.messages.push_back(Text(messenger_, "psid-shared", "m_for_a"));
  r.parsed.messages.push_back(Text(other_messenger_, "psid-shared", "m_for_b"));
  ASSERT_EQ(writer_->SubmitSync(std::move(r)).messages, 2);

  auto business_of = [&](const std::string& pmid) {
    return Count("SELECT business_id FROM messages WHERE provider_message_id = " + conn_->quote(pmid));
  };
  EXPECT_EQ(business_of("m_for_a"), business_) << "expected A's message stored under A";
  EXPECT_EQ(business_of("m_for_b"), other_) << "expected B's message stored under B";
  for (std::int64_t b : {business_, other_}) {
    std::string id = std::to_string(b);
    EXPECT_EQ(Count("SELECT count(*) FROM contacts WHERE business_id = " + id), 1)
        << "expected one contact for business " << id;
    EXPECT_EQ(Count("SELECT count(*) FROM conversations v JOIN channels c ON c.business_id = v.business_id AND "
                    "c.id = v.channel_id WHERE v.business_id = " +
                    id),
              1)
        << "expected one conversation for business " << id << " on a channel of its own";
    EXPECT_EQ(Count("SELECT count(*) FROM messages m JOIN conversations v ON v.business_id = m.business_id AND "
                    "v.id = m.conversation_id WHERE m.business_id = " +
                    id),
              1)
        << "expected business " << id << "'s message in a conversation of its own";
  }
}

TEST_F(TenancyTest, ListGetAndMessagesNeverShowAnotherBusiness) {
  writer_->SubmitSync(OneMessage(messenger_, "psid-a1", "m_a1"));
  writer_->SubmitSync(OneMessage(messenger_, "psid-a2", "m_a2"));
  for (int i = 0; i < 3; ++i) {
    writer_->SubmitSync(OneMessage(other_messenger_, "psid-b" + std::to_string(i), "m_b" + std::to_string(i)));
  }
  std::vector<std::int64_t> ours = ConversationIds(business_);
  std::vector<std::int64_t> theirs = ConversationIds(other_);
  ASSERT_EQ(ours.size(), 2u);
  ASSERT_EQ(theirs.size(), 3u);

  EXPECT_EQ(WalkConversations(business_, 50), ours) << "expected List for A to return exactly A's conversations";
  EXPECT_EQ(WalkConversations(other_, 50), theirs) << "expected List for B to return exactly B's conversations";

  for (std::int64_t id : theirs) {
    EXPECT_FALSE(Blocking(repo_->Get(business_, id)).has_value())
        << "expected Get of B's conversation " << id << " as A to find nothing";
    store::MessageQuery q;
    q.business_id = business_;
    q.conversation_id = id;
    EXPECT_FALSE(Blocking(repo_->Messages(q)).has_value())
        << "expected Messages of B's conversation " << id << " as A to find nothing";
  }
  auto own = Blocking(repo_->Get(business_, ours[0]));
  ASSERT_TRUE(own.has_value()) << "expected Get of A's own conversation to find it";
  auto json = nlohmann::json::parse(*own);
  EXPECT_EQ(json.at("id").get<std::int64_t>(), ours[0]);
  EXPECT_EQ(json.at("channel").at("id").get<std::int64_t>(), messenger_.key.channel_id);
  EXPECT_EQ(json.at("status"), "waiting");

  store::MessageQuery q;
  q.business_id = business_;
  q.conversation_id = ours[0];
  auto page = Blocking(repo_->Messages(q));
  ASSERT_TRUE(page.has_value()) << "expected Messages of A's own conversation";
  ASSERT_EQ(page->items.size(), 1u);
  EXPECT_EQ(nlohmann::json::parse(page->items[0]).at("provider_message_id"), "m_a2");

  store::ConversationQuery waiting;
  waiting.business_id = business_;
  waiting.status = "waiting";
  EXPECT_EQ(Blocking(repo_->List(waiting)).items.size(), 2u) << "expected A's two waiting conversations only";
}

TEST_F(TenancyTest, ConversationPagesWalkEveryConversationOnceNewestFirst) {
  for (int i = 0; i < 5; ++i) {
    writer_->SubmitSync(OneMessage(messenger_, "psid-page" + std::to_string(i), "m_page" + std::to_string(i)));
  }
  for (int i = 0; i < 4; ++i) {
    writer_->SubmitSync(OneMessage(other_messenger_, "psid-page" + std::to_string(i), "m_other" + std::to_string(i)));
  }
  std::vector<std::int64_t> ours = ConversationIds(business_);
  ASSERT_EQ(ours.size(), 5u);
  std::vector<std::int64_t> walked = WalkConversations(business_, 2);
  EXPECT_EQ(walked, ours) << "expected pages of 2 to walk A's five conversations once each, newest first";
  EXPECT_EQ(std::set<std::int64_t>(walked.begin(), walked.end()).size(), walked.size())
      << "expected no conversation twice";
  // Four conversations: the second page is full, and there is no third.
  EXPECT_EQ(WalkConversations(other_, 2), ConversationIds(other_))
      << "expected pages of 2 to walk B's four conversations exactly";
}

TEST_F(TenancyTest, MessagePagesWalkOldestFirst) {
  std::vector<std::string> sent;
  for (int i = 0; i < 5; ++i) {
    sent.push_back("m_walk" + std::to_string(i));
    writer_->SubmitSync(OneMessage(messenger_, "psid-walker", sent.back()));
  }
  writer_->SubmitSync(OneMessage(other_messenger_, "psid-walker", "m_not_ours"));
  std::int64_t conversation = ConversationIds(business_).at(0);

  std::vector<std::string> walked;
  std::int64_t last_id = 0;
  store::MessageQuery q;
  q.business_id = business_;
  q.conversation_id = conversation;
  q.limit = 2;
  for (int page = 0; page < 10; ++page) {
    auto p = Blocking(repo_->Messages(q));
    ASSERT_TRUE(p.has_value()) << "expected A's own conversation to have messages";
    for (const auto& item : p->items) {
      auto json = nlohmann::json::parse(item);
      EXPECT_GT(json.at("id").get<std::int64_t>(), last_id) << "expected message ids ascending (oldest first)";
      last_id = json.at("id").get<std::int64_t>();
      EXPECT_EQ(json.at("conversation_id").get<std::int64_t>(), conversation);
      walked.push_back(json.at("provider_message_id").get<std::string>());
    }
    if (!p->next_cursor) break;
    q.after = std::stoll(*p->next_cursor);
  }
  EXPECT_EQ(walked, sent) << "expected pages of 2 to return the five messages once each, oldest first";
}

}  // namespace
}  // namespace sb::pgtest
