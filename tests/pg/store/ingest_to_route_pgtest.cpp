// The writer says, for each request, how many of the messages it stored
// joined a conversation that waits for the router: the server wakes its
// router only then. New conversations and bot conversations the customer
// writes to again wait for it; routed ones do not.
#include "pg_fixture.hpp"

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

}  // namespace
}  // namespace sb::pgtest
