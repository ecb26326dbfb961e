// Conversation events: a standalone referral sets the referral of the
// contact's open or next conversation; reactions and other events are kept
// with the open conversation.
#include "pg_fixture.hpp"

namespace sb::pgtest {
namespace {

gateway::ConversationEvent Event(const TestChannel& channel, const std::string& contact, const std::string& kind,
                                 const std::string& data_json) {
  gateway::ConversationEvent e;
  e.channel = channel.ref;
  e.contact_external_id = contact;
  e.kind = kind;
  e.ts_ms = 1700000000000;
  e.data_json = data_json;
  return e;
}

gateway::ConversationEvent AdReferral(const TestChannel& channel, const std::string& contact,
                                      const std::string& ad_id) {
  auto e = Event(channel, contact, "referral", R"({"source":"ADS","type":"OPEN_THREAD","ad_id":")" + ad_id + R"("})");
  e.referral = gateway::Referral{};
  e.referral->source = "ADS";
  e.referral->ad_id = ad_id;
  return e;
}

class ConversationEventsTest : public StoreDb {
 protected:
  std::string B() { return std::to_string(business_); }

  store::IngestOutcome SubmitEvent(gateway::ConversationEvent e) {
    IngestRequest r = Request(ChannelKind::kMessenger, R"({"object":"page","event":")" + e.kind + "\"}", {messenger_});
    r.parsed.events.push_back(std::move(e));
    return writer_->SubmitSync(std::move(r));
  }

  std::string PendingAdOf(const std::string& contact) {
    return Value("SELECT pending_referral ->> 'ad_id' FROM contacts WHERE business_id = " + B() +
                 " AND external_id = " + conn_->quote(contact));
  }

  /// The ad id of the referral of the conversation holding this message.
  std::string ConversationAdOf(const std::string& provider_id) {
    return Value(
        "SELECT v.referral ->> 'ad_id' FROM conversations v JOIN messages m ON m.business_id = "
        "v.business_id AND m.conversation_id = v.id WHERE m.business_id = " +
        B() + " AND m.provider_message_id = " + conn_->quote(provider_id));
  }

  std::string ConversationOf(const std::string& provider_id) {
    return Value("SELECT conversation_id FROM messages WHERE business_id = " + B() +
                 " AND provider_message_id = " + conn_->quote(provider_id));
  }

  void ResolveAll() {
    Sql("UPDATE conversations SET status = 'resolved', resolved_at = now() WHERE business_id = " + B() +
        " AND status <> 'resolved'");
  }
};

TEST_F(ConversationEventsTest, StandaloneReferralWaitsForTheNextConversation) {
  auto out = SubmitEvent(AdReferral(messenger_, "psid-ad", "ad-42"));
  EXPECT_EQ(out.events, 1);
  EXPECT_EQ(PendingAdOf("psid-ad"), "ad-42") << "expected the referral to wait on the contact";
  EXPECT_EQ(Value("SELECT pending_referral ->> 'source' FROM contacts WHERE business_id = " + B()), "ADS");
  EXPECT_EQ(Count("SELECT count(*) FROM conversations WHERE business_id = " + B()), 0)
      << "expected a referral alone not to open a conversation";
  EXPECT_EQ(Count("SELECT count(*) FROM conversation_events WHERE business_id = " + B() +
                  " AND kind = 'referral' AND conversation_id IS NULL"),
            1)
      << "expected the referral event recorded without a conversation";

  writer_->SubmitSync(OneMessage(messenger_, "psid-ad", "m_after_ad"));
  EXPECT_EQ(ConversationAdOf("m_after_ad"), "ad-42") << "expected the next conversation to take the pending referral";
  EXPECT_EQ(PendingAdOf("psid-ad"), "<null>") << "expected the pending referral consumed by the new conversation";

  writer_->SubmitSync(OneMessage(messenger_, "psid-ad", "m_same_conversation"));
  EXPECT_EQ(ConversationAdOf("m_same_conversation"), "ad-42") << "expected the referral kept on the open conversation";

  ResolveAll();
  writer_->SubmitSync(OneMessage(messenger_, "psid-ad", "m_after_resolve"));
  EXPECT_NE(ConversationOf("m_after_resolve"), ConversationOf("m_after_ad")) << "expected a new conversation";
  EXPECT_EQ(ConversationAdOf("m_after_resolve"), "<null>")
      << "expected a later conversation not to inherit the consumed referral";
}

TEST_F(ConversationEventsTest, ReferralAfterResolveWaitsOnTheExistingContact) {
  writer_->SubmitSync(OneMessage(messenger_, "psid-back", "m_first"));
  ResolveAll();
  SubmitEvent(AdReferral(messenger_, "psid-back", "ad-7"));
  EXPECT_EQ(ConversationAdOf("m_first"), "<null>") << "expected a resolved conversation not to take a referral";
  EXPECT_EQ(PendingAdOf("psid-back"), "ad-7") << "expected the referral to wait on the contact";
  EXPECT_EQ(Count("SELECT count(*) FROM contacts WHERE business_id = " + B()), 1)
      << "expected the existing contact, not a second one";

  writer_->SubmitSync(OneMessage(messenger_, "psid-back", "m_second"));
  EXPECT_EQ(ConversationAdOf("m_second"), "ad-7");
  EXPECT_EQ(PendingAdOf("psid-back"), "<null>");
}

TEST_F(ConversationEventsTest, ReferralOfTheMessageItselfWinsOverThePendingOne) {
  SubmitEvent(AdReferral(messenger_, "psid-two-ads", "ad-old"));
  IngestRequest r = OneMessage(messenger_, "psid-two-ads", "m_with_ad");
  r.parsed.messages[0].referral = gateway::Referral{};
  r.parsed.messages[0].referral->source = "ADS";
  r.parsed.messages[0].referral->ad_id = "ad-new";
  writer_->SubmitSync(std::move(r));
  EXPECT_EQ(ConversationAdOf("m_with_ad"), "ad-new") << "expected the message's own referral on the conversation";
  EXPECT_EQ(PendingAdOf("psid-two-ads"), "<null>") << "expected the pending referral consumed all the same";
}

TEST_F(ConversationEventsTest, ReferralWhileAConversationIsOpenSetsItsReferral) {
  writer_->SubmitSync(OneMessage(messenger_, "psid-open", "m_open"));
  EXPECT_EQ(ConversationAdOf("m_open"), "<null>");

  SubmitEvent(AdReferral(messenger_, "psid-open", "ad-99"));
  EXPECT_EQ(ConversationAdOf("m_open"), "ad-99") << "expected the open conversation's referral set directly";
  EXPECT_EQ(PendingAdOf("psid-open"), "<null>") << "expected nothing left pending on the contact";
  EXPECT_EQ(Count("SELECT count(*) FROM conversation_events WHERE business_id = " + B() +
                  " AND kind = 'referral' AND conversation_id = " + ConversationOf("m_open")),
            1)
      << "expected the referral event recorded in the open conversation";
}

TEST_F(ConversationEventsTest, ReferralAndMessageInOneBody) {
  IngestRequest r = Request(ChannelKind::kMessenger, R"({"object":"page","both":1})", {messenger_});
  r.parsed.events.push_back(AdReferral(messenger_, "psid-both", "ad-both"));
  r.parsed.messages.push_back(Text(messenger_, "psid-both", "m_both"));
  auto out = writer_->SubmitSync(std::move(r));
  EXPECT_EQ(out.messages, 1);
  EXPECT_EQ(out.events, 1);
  EXPECT_EQ(ConversationAdOf("m_both"), "ad-both")
      << "expected the conversation opened by the body to get its referral";
  EXPECT_EQ(PendingAdOf("psid-both"), "<null>") << "expected nothing left pending for a later conversation";
}

TEST_F(ConversationEventsTest, ReactionIsRecordedInTheOpenConversation) {
  writer_->SubmitSync(OneMessage(messenger_, "psid-react", "m_liked"));
  std::string conversation = ConversationOf("m_liked");

  auto out = SubmitEvent(Event(messenger_, "psid-react", "reaction",
                               R"({"mid":"m_ours","action":"react","reaction":"love","emoji":"❤"})"));
  EXPECT_EQ(out.events, 1) << "expected one event counted";
  pqxx::result rows =
      Sql("SELECT conversation_id, channel_id, contact_external_id, data ->> 'emoji', "
          "data ->> 'mid' FROM conversation_events WHERE business_id = " +
          B() + " AND kind = 'reaction'");
  ASSERT_EQ(rows.size(), 1u) << "expected one reaction event stored";
  EXPECT_EQ(rows[0][0].as<std::string>(""), conversation) << "expected the event in the open conversation";
  EXPECT_EQ(rows[0][1].as<std::int64_t>(), messenger_.key.channel_id);
  EXPECT_EQ(rows[0][2].as<std::string>(), "psid-react");
  EXPECT_EQ(rows[0][3].as<std::string>(), "❤") << "expected the event's data kept as JSON";
  EXPECT_EQ(rows[0][4].as<std::string>(), "m_ours");
  EXPECT_EQ(Count("SELECT count(*) FROM messages WHERE business_id = " + B()), 1)
      << "expected a Messenger reaction not to be stored as a message";
}

TEST_F(ConversationEventsTest, EventOfAnUnknownContactIsKeptWithoutConversation) {
  SubmitEvent(Event(messenger_, "psid-stranger", "optin", R"({"ref":"newsletter"})"));
  EXPECT_EQ(Count("SELECT count(*) FROM conversation_events WHERE business_id = " + B() +
                  " AND kind = 'optin' AND conversation_id IS NULL AND data ->> 'ref' = 'newsletter'"),
            1)
      << "expected the opt-in kept without a conversation";
  EXPECT_EQ(Count("SELECT count(*) FROM conversations WHERE business_id = " + B()), 0)
      << "expected an opt-in not to open a conversation";
}

TEST_F(ConversationEventsTest, EventDataWithANulEscapeIsStored) {
  // jsonb cannot hold U+0000; the event is kept all the same.
  SubmitEvent(Event(messenger_, "psid-nul", "optin", R"({"ref":"a\u0000b"})"));
  EXPECT_EQ(Count("SELECT count(*) FROM conversation_events WHERE business_id = " + B() + " AND kind = 'optin'"), 1)
      << "expected an event whose data has a \\u0000 escape stored, not rejected";
}

TEST_F(ConversationEventsTest, EventDataKeepsAnEscapedBackslash) {
  // The JSON text "a\\u0000b" is the eight characters a \ u 0 0 0 0 b: no NUL.
  SubmitEvent(Event(messenger_, "psid-backslash", "optin", R"({"ref":"a\\u0000b"})"));
  EXPECT_EQ(Value("SELECT data ->> 'ref' FROM conversation_events WHERE business_id = " + B()), "a\\u0000b")
      << "expected an escaped backslash followed by u0000 kept as text";
}

}  // namespace
}  // namespace sb::pgtest
