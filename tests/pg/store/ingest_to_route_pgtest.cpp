// The writer says, for each request, how many of the messages it stored
// joined a conversation that waits for the router: the server wakes its
// router only then. New conversations and bot conversations the customer
// writes to again wait for it; routed ones do not.
#include "ingest_batch.hpp"
#include "pg_fixture.hpp"
#include "session.hpp"

namespace sb::pgtest {
namespace {

using store::IngestOutcome;

class IngestToRouteTest : public StoreDb {
 protected:
  /// Marks the open conversation of `contact` routed, with `status`.
  void Route(const std::string& contact, const std::string& status) {
    Sql("UPDATE conversations v SET status = " + conn_->quote(status) +
        ", routed_at = now() FROM contacts c WHERE c.business_id = v.business_id AND c.id = v.contact_id AND "
        "v.status <> 'resolved' AND c.business_id = " +
        std::to_string(business_) + " AND c.external_id = " + conn_->quote(contact));
  }

  std::int64_t Unrouted(const std::string& contact) {
    return Count(
        "SELECT count(*) FROM conversations v JOIN contacts c ON c.business_id = v.business_id AND "
        "c.id = v.contact_id WHERE v.routed_at IS NULL AND c.business_id = " +
        std::to_string(business_) + " AND c.external_id = " + conn_->quote(contact));
  }
};

TEST_F(IngestToRouteTest, NewConversationWaitsForTheRouter) {
  IngestOutcome out = writer_->SubmitSync(OneMessage(whatsapp_, "15552001", "wamid.route.new"));
  EXPECT_EQ(out.messages, 1);
  EXPECT_EQ(out.to_route, 1) << "expected the message that opened a conversation to count as to route";
  EXPECT_EQ(Unrouted("15552001"), 1);
}

TEST_F(IngestToRouteTest, SecondMessageBeforeRoutingStillWaits) {
  writer_->SubmitSync(OneMessage(whatsapp_, "15552002", "wamid.route.first"));
  IngestOutcome out = writer_->SubmitSync(OneMessage(whatsapp_, "15552002", "wamid.route.second"));
  EXPECT_EQ(out.messages, 1);
  EXPECT_EQ(out.to_route, 1) << "expected a message joining a conversation not routed yet to count as to route";
}

TEST_F(IngestToRouteTest, MessageJoiningARoutedConversationDoesNotWakeTheRouter) {
  int n = 0;
  for (const std::string status : {"waiting", "offered", "assigned"}) {
    const std::string contact = "1555300" + std::to_string(++n);
    writer_->SubmitSync(OneMessage(whatsapp_, contact, "wamid.route.open." + status));
    Route(contact, status);
    IngestOutcome out = writer_->SubmitSync(OneMessage(whatsapp_, contact, "wamid.route.again." + status));
    EXPECT_EQ(out.messages, 1) << status;
    EXPECT_EQ(out.to_route, 0) << "expected a message joining a " << status
                               << " conversation to leave the router alone";
    EXPECT_EQ(Unrouted(contact), 0) << status;
  }
}

TEST_F(IngestToRouteTest, BotConversationGoesBackToTheRouter) {
  writer_->SubmitSync(OneMessage(whatsapp_, "15552004", "wamid.route.bot.open"));
  Route("15552004", "bot");
  IngestOutcome out = writer_->SubmitSync(OneMessage(whatsapp_, "15552004", "wamid.route.bot.again"));
  EXPECT_EQ(out.to_route, 1) << "expected the customer's next message to a bot to go back to the router";
  EXPECT_EQ(Unrouted("15552004"), 1);
}

TEST_F(IngestToRouteTest, MessageAfterResolutionOpensAConversationToRoute) {
  writer_->SubmitSync(OneMessage(whatsapp_, "15552005", "wamid.route.resolved.open"));
  Route("15552005", "resolved");
  IngestOutcome out = writer_->SubmitSync(OneMessage(whatsapp_, "15552005", "wamid.route.resolved.again"));
  EXPECT_EQ(out.messages, 1);
  EXPECT_EQ(out.to_route, 1) << "expected the message after a resolution to open a conversation to route";
}

TEST_F(IngestToRouteTest, DuplicateIsNotToRoute) {
  writer_->SubmitSync(OneMessage(whatsapp_, "15552006", "wamid.route.dup"));
  IngestOutcome out = writer_->SubmitSync(OneMessage(whatsapp_, "15552006", "wamid.route.dup"));
  EXPECT_EQ(out.messages, 0);
  EXPECT_EQ(out.duplicates, 1);
  EXPECT_EQ(out.to_route, 0) << "expected a re-delivery to wake nothing";
}

TEST_F(IngestToRouteTest, OneBodyCountsEachMessage) {
  writer_->SubmitSync(OneMessage(whatsapp_, "15552007", "wamid.route.mixed.open"));
  Route("15552007", "assigned");
  IngestRequest r = OneMessage(whatsapp_, "15552007", "wamid.route.mixed.routed");
  r.parsed.messages.push_back(Text(whatsapp_, "15552008", "wamid.route.mixed.new", "a new customer"));
  r.parsed.messages.push_back(Text(whatsapp_, "15552008", "wamid.route.mixed.new2", "and again"));
  IngestOutcome out = writer_->SubmitSync(std::move(r));
  EXPECT_EQ(out.messages, 3);
  EXPECT_EQ(out.to_route, 2) << "expected the new customer's two messages to route and the assigned one's not";
}

// Meta re-delivers a message it saw no answer to in time, so the two
// deliveries can be stored at once. Here the re-delivery's statement begins
// while the original's transaction is open (so the re-delivery takes the
// message for new) and waits for the contact's row; the original's
// transaction then also does what the router's turn would do once it
// committed (the bot answered: the conversation is routed) and commits.
// The re-delivery stores nothing, so it must leave the routing alone: were
// routed_at reset, the bot would answer the same message twice.
TEST_F(IngestToRouteTest, ReDeliveryAlongsideItsOriginalLeavesTheRoutedBotConversationAlone) {
  const std::string contact = "15552007";
  writer_->SubmitSync(OneMessage(whatsapp_, contact, "wamid.race.open"));
  Route(contact, "bot");

  IngestRequest original = OneMessage(whatsapp_, contact, "wamid.race.again");
  store::IngestBatch batch = store::BuildIngestBatch({&original});
  pqxx::connection first(url_);
  pqxx::work tx(first);
  store::Session session(tx);
  auto stored =
      session.Exec("ingest/ingest_messages", batch.archives, batch.messages, pqxx::binarystring(batch.bodies));
  ASSERT_EQ(stored.size(), 1u) << "expected the original stored";

  IngestOutcome redelivered;
  bool blocked = false;
  {
    // Joined at the end of the block, even when a statement below throws.
    std::jthread second([&] { redelivered = writer_->SubmitSync(OneMessage(whatsapp_, contact, "wamid.race.again")); });
    blocked = WaitForBlockedSession();
    tx.exec0(
        "UPDATE conversations v SET routed_at = now() FROM contacts c WHERE c.business_id = v.business_id AND "
        "c.id = v.contact_id AND v.status = 'bot' AND c.business_id = " +
        std::to_string(business_) + " AND c.external_id = " + tx.quote(contact));
    tx.commit();
  }

  ASSERT_TRUE(blocked) << "expected the re-delivery to wait for the original's contact row";
  EXPECT_EQ(redelivered.messages, 0) << "expected the re-delivery to store nothing";
  EXPECT_EQ(redelivered.duplicates, 1) << "expected the re-delivery counted as a duplicate";
  EXPECT_EQ(redelivered.to_route, 0) << "expected a re-delivery to wake nothing";
  EXPECT_EQ(Unrouted(contact), 0) << "expected the re-delivery to leave the routed bot conversation routed";
  EXPECT_EQ(Count("SELECT count(*) FROM messages WHERE business_id = " + std::to_string(business_) +
                  " AND provider_message_id = 'wamid.race.again'"),
            1)
      << "expected the message stored once";
}

}  // namespace
}  // namespace sb::pgtest
