// WhatsApp Cloud API normalization.
#include <gtest/gtest.h>

#include <map>
#include <string>

#include "webhook_samples.hpp"

namespace sb::gateway {
namespace {

using samples::ParseBody;

ParsedWebhook MustParse(std::string_view body) {
  auto parsed = ParseBody(ChannelKind::kWhatsapp, body);
  if (!parsed.ok()) {
    ADD_FAILURE() << "expected the body to parse, got " << parsed.error().code << ": " << parsed.error().message;
    return {};
  }
  return std::move(parsed).value();
}

std::map<std::string, InboundMessage> ById(const ParsedWebhook& p) {
  std::map<std::string, InboundMessage> out;
  for (const auto& m : p.messages) out[m.provider_message_id] = m;
  return out;
}

TEST(WhatsappParser, TextWithContactNameAndPhone) {
  auto p = MustParse(samples::kWhatsappText);
  ASSERT_EQ(p.messages.size(), 1u);
  const auto& m = p.messages[0];
  EXPECT_EQ(m.channel, (ChannelRef{"PNID1", false}));
  EXPECT_EQ(m.contact_external_id, "5215512345678");
  EXPECT_EQ(m.contact_phone, "5215512345678");
  EXPECT_EQ(m.contact_name, "Jos\xC3\xA9 Mu\xC3\xB1oz");
  EXPECT_EQ(m.provider_message_id, "wamid.text1");
  EXPECT_EQ(m.provider_ts_ms, 1700000004000);
  EXPECT_EQ(m.type, "text");
  EXPECT_EQ(m.text, "\xC2\xBFTienen talla M? \xF0\x9F\x91\x95");
  EXPECT_EQ(p.channels, (std::vector<ChannelRef>{{"PNID1", false}}));
}

TEST(WhatsappParser, MediaIdsAndCaptions) {
  struct Case {
    const char* id;
    const char* type;
    const char* media_id;
    std::optional<std::string> caption;
  };
  const Case cases[] = {{"wamid.img", "image", "MEDIA_IMG", "this one"},
                        {"wamid.aud", "audio", "MEDIA_AUD", std::nullopt},
                        {"wamid.vid", "video", "MEDIA_VID", "unboxing"},
                        {"wamid.doc", "document", "MEDIA_DOC", "invoice"},
                        {"wamid.stk", "sticker", "MEDIA_STK", std::nullopt}};
  auto by_id = ById(MustParse(samples::kWhatsappMedia));
  ASSERT_EQ(by_id.size(), std::size(cases));
  for (const auto& c : cases) {
    const auto& m = by_id[c.id];
    EXPECT_EQ(m.type, c.type) << c.id;
    EXPECT_EQ(m.media_id, c.media_id) << c.id;
    EXPECT_EQ(m.text, c.caption) << c.id;
    EXPECT_EQ(m.contact_name, "Ana") << c.id;
  }
}

TEST(WhatsappParser, LocationAndContacts) {
  auto by_id = ById(MustParse(samples::kWhatsappLocationContacts));
  EXPECT_EQ(by_id["wamid.loc"].type, "location");
  EXPECT_EQ(by_id["wamid.con"].type, "contacts");
  // The shared contacts[] (a vCard) are not the sender's profile.
  EXPECT_EQ(by_id["wamid.con"].contact_name, "Ana");
}

TEST(WhatsappParser, InteractiveRepliesAndTemplateButtons) {
  auto by_id = ById(MustParse(samples::kWhatsappInteractive));
  const auto& button_reply = by_id["wamid.btnreply"];
  EXPECT_EQ(button_reply.type, "interactive");
  EXPECT_EQ(button_reply.text, "Track order");
  EXPECT_EQ(button_reply.payload, "track");
  EXPECT_EQ(button_reply.reply_to, "wamid.ours_menu");
  const auto& list_reply = by_id["wamid.listreply"];
  EXPECT_EQ(list_reply.type, "interactive");
  EXPECT_EQ(list_reply.text, "Size M");
  EXPECT_EQ(list_reply.payload, "size_m");
  const auto& button = by_id["wamid.button"];
  EXPECT_EQ(button.type, "button");
  EXPECT_EQ(button.text, "Yes, ship it");
  EXPECT_EQ(button.payload, "CONFIRM_SHIP");
  EXPECT_EQ(button.reply_to, "wamid.ours_tpl");
}

TEST(WhatsappParser, OrderItemsInMinorUnits) {
  auto p = MustParse(samples::kWhatsappOrder);
  ASSERT_EQ(p.messages.size(), 1u);
  const auto& m = p.messages[0];
  EXPECT_EQ(m.type, "order");
  EXPECT_EQ(m.text, "Please deliver after 6pm");
  ASSERT_TRUE(m.order.has_value());
  EXPECT_EQ(m.order->catalog_id, "CAT1");
  EXPECT_EQ(m.order->text, "Please deliver after 6pm");
  ASSERT_EQ(m.order->items.size(), 3u);
  EXPECT_EQ(m.order->items[0].sku, "SKU-TEE");
  EXPECT_EQ(m.order->items[0].quantity, 2);
  EXPECT_EQ(m.order->items[0].price_cents, 1250);
  EXPECT_EQ(m.order->items[0].currency, "EUR");
  EXPECT_EQ(m.order->items[1].sku, "SKU-CAP");
  EXPECT_EQ(m.order->items[1].quantity, 1);
  EXPECT_EQ(m.order->items[1].price_cents, 1999);
  EXPECT_EQ(m.order->items[2].price_cents, 1200);  // JPY has no minor unit
  EXPECT_EQ(m.order->items[2].quantity, 3);
}

TEST(WhatsappParser, OrderPriceTable) {
  struct Case {
    const char* price;
    const char* currency;
    std::int64_t cents;
  };
  const Case cases[] = {{"30", "ILS", 3000},     {"12.5", "EUR", 1250}, {"\"19.99\"", "USD", 1999},
                        {"\"0.005\"", "USD", 1}, {"0.1", "USD", 10},    {"\"7\"", "USD", 700},
                        {"1.234", "KWD", 1234},  {"-5", "USD", 0},      {"\"abc\"", "USD", 0},
                        {"null", "USD", 0},      {"1e300", "USD", 0},   {"\"12.\"", "USD", 1200}};
  for (const auto& c : cases) {
    const std::string body = R"({"object":"whatsapp_business_account","entry":[{"id":"W","changes":[{)"
                             R"("field":"messages","value":{"metadata":{"phone_number_id":"P"},"messages":[{)"
                             R"("from":"1","id":"o","type":"order","order":{"product_items":[{)"
                             R"("product_retailer_id":"S","quantity":1,"item_price":)" +
                             std::string(c.price) + R"(,"currency":")" + c.currency + R"("}]}}]}}]}]})";
    auto p = MustParse(body);
    ASSERT_EQ(p.messages.size(), 1u) << c.price;
    ASSERT_TRUE(p.messages[0].order.has_value());
    ASSERT_EQ(p.messages[0].order->items.size(), 1u);
    EXPECT_EQ(p.messages[0].order->items[0].price_cents, c.cents) << c.price << " " << c.currency;
  }
}

TEST(WhatsappParser, ReactionIsAMessageAndContextIsReplyTo) {
  auto by_id = ById(MustParse(samples::kWhatsappReactionReply));
  const auto& reaction = by_id["wamid.react"];
  EXPECT_EQ(reaction.type, "reaction");
  EXPECT_EQ(reaction.reply_to, "wamid.ours1");
  EXPECT_EQ(reaction.text, "\xF0\x9F\x91\x8D");
  const auto& reply = by_id["wamid.reply"];
  EXPECT_EQ(reply.type, "text");
  EXPECT_EQ(reply.reply_to, "wamid.ours2");
}

TEST(WhatsappParser, ClickToWhatsappReferral) {
  auto p = MustParse(samples::kWhatsappReferral);
  ASSERT_EQ(p.messages.size(), 1u);
  ASSERT_TRUE(p.messages[0].referral.has_value());
  const auto& r = *p.messages[0].referral;
  EXPECT_EQ(r.source, "ad");
  EXPECT_EQ(r.ad_id, "120200000000001");
  EXPECT_EQ(r.ctwa_clid, "ARAkLkA8rmlFeiCktEJQ");
  EXPECT_EQ(r.source_url, "https://fb.me/ad1");
  EXPECT_EQ(r.headline, "Black Friday -40%");
}

TEST(WhatsappParser, StatusesIncludingFailedWithError) {
  auto p = MustParse(samples::kWhatsappStatuses);
  ASSERT_EQ(p.statuses.size(), 4u);
  EXPECT_TRUE(p.messages.empty());
  const char* expected[] = {"sent", "delivered", "read", "failed"};
  for (std::size_t i = 0; i < 4; ++i) {
    EXPECT_EQ(p.statuses[i].status, expected[i]);
    EXPECT_EQ(p.statuses[i].recipient_external_id, "34600111222");
    EXPECT_EQ(p.statuses[i].channel, (ChannelRef{"PNID1", false}));
  }
  EXPECT_EQ(p.statuses[0].ts_ms, 1700000019000);
  EXPECT_FALSE(p.statuses[0].error.has_value());
  EXPECT_EQ(p.statuses[3].provider_message_id, "wamid.out2");
  EXPECT_EQ(p.statuses[3].error, "131047: Re-engagement message");
}

// Found by the whatsapp_webhook fuzz target: a status without a value
// updates nothing and is skipped, not stored as an empty status.
TEST(WhatsappParser, AnEmptyStatusIsIgnored) {
  auto p = MustParse(R"({"object":"whatsapp_business_account","entry":[{"id":"WABA1","changes":[{"field":"messages",
    "value":{"messaging_product":"whatsapp","metadata":{"phone_number_id":"PNID1"},"statuses":[
    {"id":"wamid.out1","status":"sent","timestamp":"1700000019","recipient_id":"34600111222"},
    {"id":"wamid.out1","status":"","recipient_id":"34600111222"}]}}]}]})");
  ASSERT_EQ(p.statuses.size(), 1u);
  EXPECT_EQ(p.statuses[0].status, "sent");
  EXPECT_EQ(p.ignored, 1);
}

TEST(WhatsappParser, UnknownTypesAreUnsupportedMessages) {
  auto p = MustParse(samples::kWhatsappUnsupported);
  ASSERT_EQ(p.messages.size(), 5u);
  for (const auto& m : p.messages) {
    EXPECT_EQ(m.type, "unsupported") << m.provider_message_id;
    EXPECT_FALSE(m.provider_message_id.empty());
  }
}

TEST(WhatsappParser, SmbEchoesAreNotCustomerMessages) {
  auto p = MustParse(samples::kWhatsappEchoes);
  EXPECT_TRUE(p.messages.empty());
  EXPECT_EQ(p.echoes, 1);
  EXPECT_EQ(p.channels, (std::vector<ChannelRef>{{"PNID1", false}}));
}

TEST(WhatsappParser, AccountLevelChangesNameTheBusinessAccount) {
  auto p = MustParse(samples::kWhatsappAccountLevel);
  EXPECT_TRUE(p.messages.empty());
  EXPECT_TRUE(p.statuses.empty());
  EXPECT_EQ(p.ignored, 2);
  EXPECT_EQ(p.channels, (std::vector<ChannelRef>{{"WABA9", true}}));
}

TEST(WhatsappParser, BatchOfEntriesAndNumbers) {
  auto p = MustParse(samples::kWhatsappBatch);
  ASSERT_EQ(p.messages.size(), 3u);
  EXPECT_EQ(p.messages[0].contact_name, "Ana");
  EXPECT_EQ(p.messages[1].contact_name, "Ben");
  EXPECT_EQ(p.messages[2].contact_name, "Cy");
  EXPECT_EQ(p.messages[2].channel.external_id, "PNID2");
  EXPECT_EQ(p.messages[2].provider_ts_ms, 1700000032000);
  ASSERT_EQ(p.statuses.size(), 1u);
  EXPECT_EQ(p.statuses[0].channel.external_id, "PNID2");
  EXPECT_EQ(p.channels, (std::vector<ChannelRef>{{"PNID1", false}, {"PNID2", false}}));
}

TEST(WhatsappParser, NulCharactersAreReplaced) {
  auto p = MustParse(samples::kWhatsappNulText);
  ASSERT_EQ(p.messages.size(), 1u);
  EXPECT_EQ(p.messages[0].text, "a\uFFFDb");
  EXPECT_EQ(p.messages[0].contact_name, "A\uFFFDna");
}

TEST(WhatsappParser, MissingPhoneNumberIdIsInvalidShape) {
  auto r = ParseBody(ChannelKind::kWhatsapp,
                     R"({"object":"whatsapp_business_account","entry":[{"id":"W","changes":[
                     {"field":"messages","value":{"metadata":{"phone_number_id":"P"},
                      "messages":[]}},
                     {"field":"messages","value":{"metadata":{"phone_number_id":5},
                      "statuses":[]}}]}]})");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, "invalid_shape");
  EXPECT_EQ(r.error().message, "entry[0].changes[1].value.metadata.phone_number_id must be a non-empty string");
}

TEST(WhatsappParser, ContactMatchedByWaIdNotPosition) {
  auto p = MustParse(R"({"object":"whatsapp_business_account","entry":[{"id":"W","changes":[
      {"field":"messages","value":{"metadata":{"phone_number_id":"P"},
       "contacts":[{"profile":{"name":"Someone else"},"wa_id":"999"}],
       "messages":[{"from":"111","id":"x","timestamp":"1700000000","type":"text",
       "text":{"body":"hi"}},
       {"from_user_id":"US.1","id":"y","type":"text","text":{"body":"bsuid only"}}]}}]}]})");
  ASSERT_EQ(p.messages.size(), 2u);
  EXPECT_FALSE(p.messages[0].contact_name.has_value());
  EXPECT_EQ(p.messages[1].contact_external_id, "US.1");
  EXPECT_FALSE(p.messages[1].contact_phone.has_value());
}

TEST(WhatsappParser, EmptyEntryNamesTheAccount) {
  auto p = MustParse(R"({"object":"whatsapp_business_account","entry":[{"id":"W1"},
      {"id":"W2","changes":[]},{"id":"W3","changes":[{"field":"messages","value":
      {"metadata":{"phone_number_id":"P3"},"messages":[{"id":"no-from"}]}}]}]})");
  EXPECT_TRUE(p.messages.empty());
  EXPECT_EQ(p.ignored, 1);
  EXPECT_EQ(p.channels, (std::vector<ChannelRef>{{"W1", true}, {"W2", true}, {"P3", false}}));
}

}  // namespace
}  // namespace sb::gateway
