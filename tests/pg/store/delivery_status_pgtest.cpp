// Delivery statuses and read watermarks update our outbound messages and
// never move a status backwards; a status for an id not yet recorded waits
// in pending_statuses.
#include "pg_fixture.hpp"

namespace sb::pgtest {
namespace {

class DeliveryStatusTest : public StoreDb {
 protected:
  std::string B() { return std::to_string(business_); }

  /// Records an outbound agent message to `contact` as the send path would.
  void InsertOutbound(const TestChannel& channel, const std::string& contact, const std::string& provider_id,
                      const std::string& status, const std::string& sent_at_sql) {
    std::string ch = std::to_string(channel.key.channel_id);
    Sql("INSERT INTO contacts (business_id, channel_id, external_id) VALUES (" + B() + ", " + ch + ", " +
        conn_->quote(contact) + ") ON CONFLICT DO NOTHING");
    std::string contact_id = Value("SELECT id FROM contacts WHERE business_id = " + B() + " AND channel_id = " + ch +
                                   " AND external_id = " + conn_->quote(contact));
    Sql("INSERT INTO conversations (business_id, channel_id, contact_id, status) VALUES (" + B() + ", " + ch + ", " +
        contact_id + ", 'assigned') ON CONFLICT DO NOTHING");
    std::string conversation_id = Value("SELECT id FROM conversations WHERE business_id = " + B() +
                                        " AND contact_id = " + contact_id + " AND status <> 'resolved'");
    Sql("INSERT INTO messages (business_id, conversation_id, channel_id, contact_id, direction, sender, "
        "provider_message_id, type, text, status, sent_at) VALUES (" +
        B() + ", " + conversation_id + ", " + ch + ", " + contact_id + ", 'out', 'agent', " +
        conn_->quote(provider_id) + ", 'text', 'hi from us', " + conn_->quote(status) + ", " + sent_at_sql + ")");
  }

  std::string StatusOf(const std::string& provider_id) {
    return Value("SELECT status FROM messages WHERE business_id = " + B() +
                 " AND provider_message_id = " + conn_->quote(provider_id));
  }

  std::string PendingStatusOf(const std::string& provider_id) {
    pqxx::result rows = Sql("SELECT status FROM pending_statuses WHERE business_id = " + B() +
                            " AND provider_message_id = " + conn_->quote(provider_id));
    return rows.empty() ? "<none>" : rows[0][0].as<std::string>();
  }

  void SubmitStatuses(const TestChannel& channel, const std::string& provider_id,
                      const std::vector<std::string>& statuses) {
    IngestRequest r = Request(channel.kind, R"({"statuses":")" + provider_id + "\"}", {channel});
    for (const auto& s : statuses) r.parsed.statuses.push_back(Status(channel, provider_id, s));
    auto out = writer_->SubmitSync(std::move(r));
    EXPECT_EQ(out.messages, 0) << "expected a status body to store no customer message";
  }

  void SubmitWatermark(const TestChannel& channel, const std::string& contact, std::int64_t watermark_ms) {
    IngestRequest r = Request(channel.kind, R"({"read":)" + std::to_string(watermark_ms) + "}", {channel});
    r.parsed.watermarks.push_back(gateway::ReadWatermark{channel.ref, contact, watermark_ms});
    writer_->SubmitSync(std::move(r));
  }
};

TEST_F(DeliveryStatusTest, StatusesNeverMoveBackwards) {
  InsertOutbound(whatsapp_, "15553001", "wamid.out1", "sent", "now() - interval '1 minute'");

  SubmitStatuses(whatsapp_, "wamid.out1", {"delivered"});
  EXPECT_EQ(StatusOf("wamid.out1"), "delivered") << "expected sent -> delivered";

  SubmitStatuses(whatsapp_, "wamid.out1", {"sent"});
  EXPECT_EQ(StatusOf("wamid.out1"), "delivered") << "expected a late 'sent' not to move delivered backwards";

  SubmitStatuses(whatsapp_, "wamid.out1", {"read"});
  EXPECT_EQ(StatusOf("wamid.out1"), "read") << "expected delivered -> read";

  SubmitStatuses(whatsapp_, "wamid.out1", {"delivered"});
  EXPECT_EQ(StatusOf("wamid.out1"), "read") << "expected a late 'delivered' not to move read backwards";
  EXPECT_EQ(PendingStatusOf("wamid.out1"), "<none>") << "expected no pending status for a recorded id";
}

TEST_F(DeliveryStatusTest, SeveralStatusesOfOneIdInOneBodyKeepTheFurthest) {
  InsertOutbound(whatsapp_, "15553002", "wamid.out2", "sent", "now() - interval '1 minute'");
  SubmitStatuses(whatsapp_, "wamid.out2", {"read", "delivered", "sent"});
  EXPECT_EQ(StatusOf("wamid.out2"), "read") << "expected the furthest status of the body to win, whatever its order";
}

TEST_F(DeliveryStatusTest, FailedStatusKeepsItsError) {
  InsertOutbound(whatsapp_, "15553003", "wamid.out3", "sent", "now()");
  IngestRequest r = Request(ChannelKind::kWhatsapp, R"({"failed":1})", {whatsapp_});
  r.parsed.statuses.push_back(Status(whatsapp_, "wamid.out3", "failed"));
  r.parsed.statuses.back().error = "131026: Message undeliverable";
  writer_->SubmitSync(std::move(r));
  EXPECT_EQ(StatusOf("wamid.out3"), "failed");
  EXPECT_EQ(Value("SELECT error FROM messages WHERE business_id = " + B() + " AND provider_message_id = 'wamid.out3'"),
            "131026: Message undeliverable")
      << "expected the failure's error recorded on the message";
}

TEST_F(DeliveryStatusTest, StatusForUnknownIdWaitsInPendingStatuses) {
  SubmitStatuses(whatsapp_, "wamid.notyet", {"delivered"});
  EXPECT_EQ(PendingStatusOf("wamid.notyet"), "delivered") << "expected the status kept for an id not yet recorded";
  EXPECT_EQ(Value("SELECT channel_id FROM pending_statuses WHERE business_id = " + B() +
                  " AND provider_message_id = 'wamid.notyet'"),
            std::to_string(whatsapp_.key.channel_id))
      << "expected the pending status on the channel it came from";

  SubmitStatuses(whatsapp_, "wamid.notyet", {"read"});
  EXPECT_EQ(PendingStatusOf("wamid.notyet"), "read") << "expected a pending status to move forward";
  SubmitStatuses(whatsapp_, "wamid.notyet", {"sent"});
  EXPECT_EQ(PendingStatusOf("wamid.notyet"), "read") << "expected a pending status never to move backwards";
  EXPECT_EQ(Count("SELECT count(*) FROM messages WHERE business_id = " + B()), 0)
      << "expected a status never to create a message";
}

TEST_F(DeliveryStatusTest, PlayedStatusIsIgnored) {
  InsertOutbound(whatsapp_, "15553004", "wamid.voice", "delivered", "now() - interval '1 minute'");
  SubmitStatuses(whatsapp_, "wamid.voice", {"played"});
  EXPECT_EQ(StatusOf("wamid.voice"), "delivered") << "expected 'played' not to change a delivery status";

  SubmitStatuses(whatsapp_, "wamid.unknown-voice", {"played"});
  EXPECT_EQ(PendingStatusOf("wamid.unknown-voice"), "<none>") << "expected 'played' not to be kept as pending";
}

TEST_F(DeliveryStatusTest, StatusOnAnotherChannelDoesNotTouchOurMessage) {
  InsertOutbound(whatsapp_, "15553005", "wamid.samename", "sent", "now()");
  TestChannel other = CreateChannel(business_, "whatsapp");
  SubmitStatuses(other, "wamid.samename", {"read"});
  EXPECT_EQ(StatusOf("wamid.samename"), "sent") << "expected a status to apply only on its own channel";
  EXPECT_EQ(PendingStatusOf("wamid.samename"), "read") << "expected it pending on the other channel";
}

TEST_F(DeliveryStatusTest, ReadWatermarkMarksMessagesSentAtOrBeforeIt) {
  InsertOutbound(messenger_, "psid-reader", "m_before", "delivered", "now() - interval '2 minutes'");
  InsertOutbound(messenger_, "psid-reader", "m_before_sent", "sent", "now() - interval '3 minutes'");
  InsertOutbound(messenger_, "psid-reader", "m_failed", "failed", "now() - interval '3 minutes'");
  InsertOutbound(messenger_, "psid-reader", "m_after", "sent", "now()");
  InsertOutbound(messenger_, "psid-other", "m_other", "delivered", "now() - interval '2 minutes'");
  std::int64_t watermark = Count("SELECT (extract(epoch FROM now() - interval '1 minute') * 1000)::bigint");

  SubmitWatermark(messenger_, "psid-reader", watermark);
  EXPECT_EQ(StatusOf("m_before"), "read") << "expected a delivered message sent before the watermark to be read";
  EXPECT_EQ(StatusOf("m_before_sent"), "read") << "expected a sent message sent before the watermark to be read";
  EXPECT_EQ(StatusOf("m_after"), "sent") << "expected a message sent after the watermark to stay sent";
  EXPECT_EQ(StatusOf("m_failed"), "failed") << "expected a failed message to stay failed";
  EXPECT_EQ(StatusOf("m_other"), "delivered") << "expected another contact's messages untouched";
}

}  // namespace
}  // namespace sb::pgtest
