// A customer's message joins the open conversation of its channel + contact
// or opens a new one; a resolved conversation stays closed.
#include "pg_fixture.hpp"

namespace sb::pgtest {
namespace {

class ConversationThreadingTest : public StoreDb {
 protected:
  std::string B() { return std::to_string(business_); }

  /// The conversation the message with this provider id belongs to.
  std::int64_t ConversationOf(const std::string& provider_id) {
    return Count("SELECT conversation_id FROM messages WHERE business_id = " + B() +
                 " AND provider_message_id = " + conn_->quote(provider_id));
  }

  std::string StatusOf(std::int64_t conversation_id) {
    return Value("SELECT status FROM conversations WHERE business_id = " + B() +
                 " AND id = " + std::to_string(conversation_id));
  }

  std::int64_t Conversations() { return Count("SELECT count(*) FROM conversations WHERE business_id = " + B()); }
  std::int64_t Contacts() { return Count("SELECT count(*) FROM contacts WHERE business_id = " + B()); }
};

TEST_F(ConversationThreadingTest, TwoMessagesFromOneContactShareOneWaitingConversation) {
  writer_->SubmitSync(OneMessage(whatsapp_, "15551001", "wamid.a1"));
  writer_->SubmitSync(OneMessage(whatsapp_, "15551001", "wamid.a2"));

  EXPECT_EQ(Contacts(), 1) << "expected one contact for one wa_id";
  EXPECT_EQ(Conversations(), 1) << "expected both messages in one conversation";
  std::int64_t conversation = ConversationOf("wamid.a1");
  EXPECT_EQ(ConversationOf("wamid.a2"), conversation) << "expected the second message to join the open conversation";
  EXPECT_EQ(StatusOf(conversation), "waiting") << "expected a new conversation to wait for routing";
  EXPECT_EQ(Count("SELECT count(*) FROM messages WHERE business_id = " + B() + " AND conversation_id = " +
                  std::to_string(conversation) + " AND direction = 'in' AND sender = 'customer'"),
            2)
      << "expected both messages stored as inbound customer messages of the conversation";
}

TEST_F(ConversationThreadingTest, TwoMessagesFromOneContactInOneBodyShareOneConversation) {
  IngestRequest r = OneMessage(whatsapp_, "15551002", "wamid.b1");
  r.parsed.messages.push_back(Text(whatsapp_, "15551002", "wamid.b2"));
  EXPECT_EQ(writer_->SubmitSync(std::move(r)).messages, 2);

  EXPECT_EQ(Conversations(), 1) << "expected one conversation for two messages of one contact in one body";
  EXPECT_EQ(ConversationOf("wamid.b1"), ConversationOf("wamid.b2"));
}

TEST_F(ConversationThreadingTest, TwoContactsHaveTwoConversations) {
  IngestRequest r = OneMessage(whatsapp_, "15551003", "wamid.c1");
  r.parsed.messages.push_back(Text(whatsapp_, "15551004", "wamid.c2"));
  writer_->SubmitSync(std::move(r));
  writer_->SubmitSync(OneMessage(whatsapp_, "15551004", "wamid.c3"));

  EXPECT_EQ(Contacts(), 2) << "expected one contact per wa_id";
  EXPECT_EQ(Conversations(), 2) << "expected one conversation per contact";
  EXPECT_NE(ConversationOf("wamid.c1"), ConversationOf("wamid.c2"))
      << "expected messages of different contacts in different conversations";
  EXPECT_EQ(ConversationOf("wamid.c2"), ConversationOf("wamid.c3"))
      << "expected the second contact's later message to join its conversation";
  EXPECT_EQ(Count("SELECT count(*) FROM conversations WHERE business_id = " + B() + " AND status = 'waiting'"), 2)
      << "expected both conversations waiting";
}

TEST_F(ConversationThreadingTest, SameContactIdOnTwoChannelsIsTwoContacts) {
  TestChannel page2 = CreateChannel(business_, "messenger");
  writer_->SubmitSync(OneMessage(messenger_, "psid-1", "m_page1"));
  writer_->SubmitSync(OneMessage(page2, "psid-1", "m_page2"));

  EXPECT_EQ(Contacts(), 2) << "expected one contact per channel for the same external id";
  EXPECT_EQ(Conversations(), 2) << "expected one conversation per channel + contact";
  EXPECT_NE(ConversationOf("m_page1"), ConversationOf("m_page2"));
  EXPECT_EQ(Count("SELECT count(*) FROM conversations v JOIN contacts c ON c.business_id = v.business_id AND c.id = "
                  "v.contact_id WHERE v.business_id = " +
                  B() + " AND c.channel_id = v.channel_id"),
            2)
      << "expected each conversation on its contact's channel";
}

TEST_F(ConversationThreadingTest, ContactNameAndPhoneAreKept) {
  IngestRequest r = OneMessage(whatsapp_, "15551005", "wamid.n1");
  r.parsed.messages[0].contact_name = "Ana";
  r.parsed.messages[0].contact_phone = "+15551005";
  writer_->SubmitSync(std::move(r));
  writer_->SubmitSync(OneMessage(whatsapp_, "15551005", "wamid.n2"));  // no profile this time

  EXPECT_EQ(Value("SELECT name || ' ' || phone FROM contacts WHERE business_id = " + B()), "Ana +15551005")
      << "expected the profile name and phone kept when a later message carries none";
}

TEST_F(ConversationThreadingTest, ResolvedConversationIsNotReopened) {
  writer_->SubmitSync(OneMessage(whatsapp_, "15551006", "wamid.r1"));
  std::int64_t old = ConversationOf("wamid.r1");
  Sql("UPDATE conversations SET status = 'resolved', resolved_at = now() WHERE business_id = " + B() +
      " AND id = " + std::to_string(old));

  writer_->SubmitSync(OneMessage(whatsapp_, "15551006", "wamid.r2"));
  std::int64_t fresh = ConversationOf("wamid.r2");
  EXPECT_NE(fresh, old) << "expected a message after resolve to open a new conversation";
  EXPECT_EQ(StatusOf(old), "resolved") << "expected the resolved conversation to stay resolved";
  EXPECT_NE(
      Value("SELECT resolved_at FROM conversations WHERE business_id = " + B() + " AND id = " + std::to_string(old)),
      "<null>")
      << "expected resolved_at kept";
  EXPECT_EQ(StatusOf(fresh), "waiting") << "expected the new conversation to wait";
  EXPECT_EQ(ConversationOf("wamid.r1"), old) << "expected the old message to stay in the resolved conversation";
  EXPECT_EQ(Count("SELECT count(*) FROM messages WHERE business_id = " + B() +
                  " AND conversation_id = " + std::to_string(old)),
            1)
      << "expected the resolved conversation to keep exactly its own message";

  writer_->SubmitSync(OneMessage(whatsapp_, "15551006", "wamid.r3"));
  EXPECT_EQ(ConversationOf("wamid.r3"), fresh) << "expected the next message to join the new open conversation";
  EXPECT_EQ(Conversations(), 2) << "expected exactly the resolved and the new conversation";
  EXPECT_EQ(Contacts(), 1) << "expected the same contact for both conversations";
}

TEST_F(ConversationThreadingTest, RedeliveryAfterResolveDoesNotOpenAConversation) {
  writer_->SubmitSync(OneMessage(whatsapp_, "15551007", "wamid.d1"));
  Sql("UPDATE conversations SET status = 'resolved', resolved_at = now() WHERE business_id = " + B());

  auto out = writer_->SubmitSync(OneMessage(whatsapp_, "15551007", "wamid.d1"));
  EXPECT_EQ(out.duplicates, 1) << "expected a late re-delivery to count as a duplicate";
  EXPECT_EQ(Conversations(), 1) << "expected a re-delivered message not to open a new conversation";
}

}  // namespace
}  // namespace sb::pgtest
