// What an inbound message carries round-trips into its row: type, text,
// payload, media, reply-to, provider time, referral and order items.
#include <nlohmann/json.hpp>

#include "pg_fixture.hpp"

namespace sb::pgtest {
namespace {

class MessageFieldsTest : public StoreDb {
 protected:
  /// A column of the message with this provider id, as JSON where it is.
  std::string Column(const std::string& provider_id, const std::string& expression) {
    return Value("SELECT " + expression + " FROM messages WHERE business_id = " + std::to_string(business_) +
                 " AND provider_message_id = " + conn_->quote(provider_id));
  }
};

TEST_F(MessageFieldsTest, ReferralRoundTrips) {
  IngestRequest r = OneMessage(whatsapp_, "15554001", "wamid.ctwa", "I saw your ad");
  gateway::Referral ref;
  ref.source = "ad";
  ref.ad_id = "120200000001";
  ref.ctwa_clid = "ARAkLkA8rmlFeiCktEJQ";
  ref.ref = "spring-sale";
  ref.headline = "Spring sale";
  r.parsed.messages[0].referral = ref;
  writer_->SubmitSync(std::move(r));

  auto referral = nlohmann::json::parse(Column("wamid.ctwa", "referral::text"));
  EXPECT_EQ(referral.value("source", ""), "ad") << "expected referral.source stored; got " << referral;
  EXPECT_EQ(referral.value("ad_id", ""), "120200000001") << "expected referral.ad_id stored; got " << referral;
  EXPECT_EQ(referral.value("ctwa_clid", ""), "ARAkLkA8rmlFeiCktEJQ")
      << "expected referral.ctwa_clid stored; got " << referral;
  EXPECT_EQ(referral.value("ref", ""), "spring-sale") << "expected referral.ref stored; got " << referral;
  EXPECT_EQ(
      Value("SELECT v.referral ->> 'ad_id' FROM conversations v WHERE v.business_id = " + std::to_string(business_)),
      "120200000001")
      << "expected the conversation opened by the message to take its referral";
}

TEST_F(MessageFieldsTest, ReferralWithOnlyARefKeepsTheOtherKeysAsNull) {
  IngestRequest r = OneMessage(messenger_, "psid-ref", "m_ref");
  r.parsed.messages[0].referral = gateway::Referral{};
  r.parsed.messages[0].referral->ref = "qr-code-7";
  writer_->SubmitSync(std::move(r));

  auto referral = nlohmann::json::parse(Column("m_ref", "referral::text"));
  for (const char* key : {"source", "ad_id", "ctwa_clid", "ref"}) {
    EXPECT_TRUE(referral.contains(key)) << "expected key " << key << " in the stored referral " << referral;
  }
  EXPECT_TRUE(referral["ad_id"].is_null()) << "expected ad_id null when absent; got " << referral;
  EXPECT_EQ(referral.value("ref", ""), "qr-code-7");
}

TEST_F(MessageFieldsTest, OrderItemsRoundTrip) {
  IngestRequest r = OneMessage(whatsapp_, "15554002", "wamid.order");
  r.parsed.messages[0].type = "order";
  r.parsed.messages[0].text.reset();
  gateway::Order order;
  order.catalog_id = "cat-1";
  order.text = "two please";
  order.items.push_back({"SKU-RED", 2, 1999, "EUR"});
  order.items.push_back({"SKU-BLUE", 1, 50000, "EUR"});
  r.parsed.messages[0].order = order;
  writer_->SubmitSync(std::move(r));

  EXPECT_EQ(Column("wamid.order", "type"), "order");
  auto stored = nlohmann::json::parse(Column("wamid.order", "order_data::text"));
  ASSERT_TRUE(stored.contains("items") && stored["items"].is_array() && stored["items"].size() == 2)
      << "expected two order items; got " << stored;
  const auto& first = stored["items"][0];
  EXPECT_EQ(first.value("sku", ""), "SKU-RED") << "got " << stored;
  EXPECT_EQ(first.value("quantity", 0), 2) << "got " << stored;
  EXPECT_EQ(first.value("price_cents", 0), 1999) << "got " << stored;
  EXPECT_EQ(first.value("currency", ""), "EUR") << "got " << stored;
  EXPECT_EQ(stored["items"][1].value("sku", ""), "SKU-BLUE") << "expected items in body order; got " << stored;
  EXPECT_EQ(stored["items"][1].value("price_cents", 0), 50000) << "got " << stored;
  EXPECT_EQ(stored.value("catalog_id", ""), "cat-1") << "got " << stored;
  EXPECT_EQ(Column("wamid.order", "order_data -> 'items' -> 0 ->> 'quantity'"), "2")
      << "expected the quantity a JSON number reachable by SQL";
}

TEST_F(MessageFieldsTest, PlainFieldsRoundTrip) {
  IngestRequest r = OneMessage(messenger_, "psid-fields", "m_fields", "Olá 😀");
  auto& m = r.parsed.messages[0];
  m.type = "quick_reply";
  m.payload = "PAYLOAD_YES";
  m.media_url = "https://cdn.example/x.jpg";
  m.reply_to = "m_ours_earlier";
  m.provider_ts_ms = 1700000000123;
  writer_->SubmitSync(std::move(r));

  EXPECT_EQ(Column("m_fields", "type"), "quick_reply");
  EXPECT_EQ(Column("m_fields", "text"), "Olá 😀") << "expected non-ASCII text kept";
  EXPECT_EQ(Column("m_fields", "payload"), "PAYLOAD_YES");
  EXPECT_EQ(Column("m_fields", "media_url"), "https://cdn.example/x.jpg");
  EXPECT_EQ(Column("m_fields", "reply_to"), "m_ours_earlier");
  EXPECT_EQ(Column("m_fields", "(extract(epoch FROM provider_ts) * 1000)::bigint"), "1700000000123")
      << "expected the provider time kept to the millisecond";
  EXPECT_EQ(Column("m_fields", "status || ' ' || direction || ' ' || sender"), "received in customer");
  EXPECT_EQ(Column("m_fields", "referral IS NULL AND order_data IS NULL"), "t")
      << "expected no referral or order for a plain message";
}

TEST_F(MessageFieldsTest, MissingProviderTimeIsNull) {
  IngestRequest r = OneMessage(whatsapp_, "15554003", "wamid.notime");
  r.parsed.messages[0].provider_ts_ms = 0;
  r.parsed.messages[0].media_id = "media-123";
  r.parsed.messages[0].type = "image";
  writer_->SubmitSync(std::move(r));
  EXPECT_EQ(Column("wamid.notime", "provider_ts"), "<null>") << "expected no provider time when the body had none";
  EXPECT_EQ(Column("wamid.notime", "media_id"), "media-123");
  EXPECT_NE(Value("SELECT last_inbound_at FROM conversations WHERE business_id = " + std::to_string(business_)),
            "<null>")
      << "expected the messaging window to run from now without a provider time";
}

}  // namespace
}  // namespace sb::pgtest
