// Messenger and Instagram (Messenger Platform shape) normalization.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <string>

#include "webhook_samples.hpp"

namespace sb::gateway {
namespace {

using samples::ParseBody;

ParsedWebhook MustParse(ChannelKind kind, std::string_view body) {
  auto parsed = ParseBody(kind, body);
  if (!parsed.ok()) {
    ADD_FAILURE() << "expected the body to parse, got " << parsed.error().code << ": " << parsed.error().message;
    return {};
  }
  return std::move(parsed).value();
}

TEST(MessengerParser, TextWithEscapedNonAsciiBecomesUtf8) {
  auto p = MustParse(ChannelKind::kMessenger, samples::kMessengerText);
  ASSERT_EQ(p.messages.size(), 1u);
  const auto& m = p.messages[0];
  EXPECT_EQ(m.channel, (ChannelRef{"PAGE1", false}));
  EXPECT_EQ(m.contact_external_id, "PSID1");
  EXPECT_EQ(m.provider_message_id, "m_text1");
  EXPECT_EQ(m.provider_ts_ms, 1700000000100);
  EXPECT_EQ(m.type, "text");
  EXPECT_EQ(m.text, "\u00bfD\u00f3nde est\u00e1 mi pedido? \U0001F4E6");
  EXPECT_FALSE(m.contact_name.has_value());
  EXPECT_EQ(p.channels, (std::vector<ChannelRef>{{"PAGE1", false}}));
}

TEST(MessengerParser, QuickReplyKeepsTextAndPayload) {
  auto p = MustParse(ChannelKind::kMessenger, samples::kMessengerQuickReply);
  ASSERT_EQ(p.messages.size(), 1u);
  EXPECT_EQ(p.messages[0].type, "quick_reply");
  EXPECT_EQ(p.messages[0].text, "Track my order");
  EXPECT_EQ(p.messages[0].payload, "TRACK_ORDER");
}

TEST(MessengerParser, FirstAttachmentGivesTypeAndUrl) {
  auto p = MustParse(ChannelKind::kMessenger, samples::kMessengerImage);
  ASSERT_EQ(p.messages.size(), 1u);
  EXPECT_EQ(p.messages[0].type, "image");
  EXPECT_EQ(p.messages[0].media_url, "https://scontent.example/img1.jpg");
  EXPECT_FALSE(p.messages[0].text.has_value());
}

TEST(MessengerParser, StickerAndLocation) {
  auto sticker = MustParse(ChannelKind::kMessenger, samples::kMessengerSticker);
  ASSERT_EQ(sticker.messages.size(), 1u);
  EXPECT_EQ(sticker.messages[0].type, "sticker");
  EXPECT_EQ(sticker.messages[0].media_url, "https://scontent.example/like.png");
  auto location = MustParse(ChannelKind::kMessenger, samples::kMessengerLocation);
  ASSERT_EQ(location.messages.size(), 1u);
  EXPECT_EQ(location.messages[0].type, "location");
}

struct AttachmentCase {
  const char* attachment_type;
  const char* expected_type;
};

class MessengerAttachmentTypes : public testing::TestWithParam<AttachmentCase> {};

TEST_P(MessengerAttachmentTypes, MapsToEnvelopeType) {
  const std::string body = R"({"object":"page","entry":[{"id":"P","messaging":[{"sender":{"id":"U"},)"
                           R"("timestamp":1700000000000,"message":{"mid":"m1","attachments":[{"type":")" +
                           std::string(GetParam().attachment_type) + R"(","payload":{"url":"https://x/1"}}]}}]}]})";
  auto p = MustParse(ChannelKind::kMessenger, body);
  ASSERT_EQ(p.messages.size(), 1u);
  EXPECT_EQ(p.messages[0].type, GetParam().expected_type) << GetParam().attachment_type;
  EXPECT_EQ(p.messages[0].media_url, "https://x/1");
}

INSTANTIATE_TEST_SUITE_P(Table, MessengerAttachmentTypes,
                         testing::Values(AttachmentCase{"image", "image"}, AttachmentCase{"audio", "audio"},
                                         AttachmentCase{"video", "video"}, AttachmentCase{"file", "document"},
                                         AttachmentCase{"location", "location"}, AttachmentCase{"sticker", "sticker"},
                                         AttachmentCase{"fallback", "unsupported"},
                                         AttachmentCase{"template", "unsupported"},
                                         AttachmentCase{"share", "unsupported"},
                                         AttachmentCase{"ig_reel", "unsupported"}));

TEST(MessengerParser, PostbackWithMidIsAMessageWithAdReferral) {
  auto p = MustParse(ChannelKind::kMessenger, samples::kMessengerPostback);
  ASSERT_EQ(p.messages.size(), 1u);
  const auto& m = p.messages[0];
  EXPECT_EQ(m.type, "postback");
  EXPECT_EQ(m.provider_message_id, "m_pb1");
  EXPECT_EQ(m.text, "Get Started");
  EXPECT_EQ(m.payload, "GET_STARTED");
  ASSERT_TRUE(m.referral.has_value());
  EXPECT_EQ(m.referral->source, "ADS");
  EXPECT_EQ(m.referral->ad_id, "6045246247433");
  EXPECT_EQ(m.referral->ref, "summer");
  EXPECT_EQ(m.referral->headline, "Summer sale");
  EXPECT_TRUE(p.events.empty());
}

TEST(MessengerParser, PostbackWithoutMidIsAnEvent) {
  auto p = MustParse(ChannelKind::kMessenger, samples::kMessengerPostbackNoMid);
  EXPECT_TRUE(p.messages.empty());
  ASSERT_EQ(p.events.size(), 1u);
  EXPECT_EQ(p.events[0].kind, "postback");
  EXPECT_EQ(p.events[0].contact_external_id, "PSID2");
  EXPECT_EQ(p.events[0].ts_ms, 1700000000600);
  auto data = nlohmann::json::parse(p.events[0].data_json);
  EXPECT_EQ(data["payload"], "MENU");
}

TEST(MessengerParser, EchoIsCountedNotStored) {
  auto p = MustParse(ChannelKind::kMessenger, samples::kMessengerEcho);
  EXPECT_TRUE(p.messages.empty());
  EXPECT_EQ(p.echoes, 1);
  EXPECT_EQ(p.channels.size(), 1u);
}

TEST(MessengerParser, ReplyToAndMessageReferral) {
  auto p = MustParse(ChannelKind::kMessenger, samples::kMessengerReplyWithAdReferral);
  ASSERT_EQ(p.messages.size(), 1u);
  const auto& m = p.messages[0];
  EXPECT_EQ(m.reply_to, "m_ours1");
  ASSERT_TRUE(m.referral.has_value());
  EXPECT_EQ(m.referral->ad_id, "23851234567890");
  EXPECT_EQ(m.referral->ref, "fb_ad");
  EXPECT_EQ(m.referral->source_url, "https://m.me/page1");
  EXPECT_FALSE(m.referral->ctwa_clid.has_value());
}

TEST(MessengerParser, StandaloneReferralIsAnEventWithReferral) {
  auto p = MustParse(ChannelKind::kMessenger, samples::kMessengerReferral);
  EXPECT_TRUE(p.messages.empty());
  ASSERT_EQ(p.events.size(), 1u);
  EXPECT_EQ(p.events[0].kind, "referral");
  ASSERT_TRUE(p.events[0].referral.has_value());
  EXPECT_EQ(p.events[0].referral->ad_id, "777");
  EXPECT_EQ(p.events[0].referral->ref, "blackfriday");
}

TEST(MessengerParser, ReactionOptinAccountLinkingAreEvents) {
  struct Case {
    std::string_view body;
    const char* kind;
    const char* contact;
  };
  for (const auto& c :
       {Case{samples::kMessengerReaction, "reaction", "PSID1"}, Case{samples::kMessengerOptin, "optin", "PSID5"},
        Case{samples::kMessengerAccountLinking, "account_linking", "PSID6"}}) {
    auto p = MustParse(ChannelKind::kMessenger, c.body);
    EXPECT_TRUE(p.messages.empty()) << c.kind;
    ASSERT_EQ(p.events.size(), 1u) << c.kind;
    EXPECT_EQ(p.events[0].kind, c.kind);
    EXPECT_EQ(p.events[0].contact_external_id, c.contact);
    EXPECT_TRUE(nlohmann::json::accept(p.events[0].data_json)) << p.events[0].data_json;
  }
  auto reaction = MustParse(ChannelKind::kMessenger, samples::kMessengerReaction);
  ASSERT_EQ(reaction.events.size(), 1u);
  auto data = nlohmann::json::parse(reaction.events[0].data_json);
  EXPECT_EQ(data["emoji"], "\xE2\x9D\xA4\xEF\xB8\x8F");
  EXPECT_EQ(data["mid"], "m_ours2");
}

TEST(MessengerParser, DeliveryMidsBecomeStatuses) {
  auto p = MustParse(ChannelKind::kMessenger, samples::kMessengerDelivery);
  ASSERT_EQ(p.statuses.size(), 2u);
  EXPECT_EQ(p.statuses[0].provider_message_id, "m_out1");
  EXPECT_EQ(p.statuses[1].provider_message_id, "m_out2");
  for (const auto& s : p.statuses) {
    EXPECT_EQ(s.status, "delivered");
    EXPECT_EQ(s.ts_ms, 1700000001300);
    EXPECT_EQ(s.recipient_external_id, "PSID1");
  }
}

TEST(MessengerParser, ReadWatermark) {
  auto p = MustParse(ChannelKind::kMessenger, samples::kMessengerRead);
  ASSERT_EQ(p.watermarks.size(), 1u);
  EXPECT_EQ(p.watermarks[0].contact_external_id, "PSID1");
  EXPECT_EQ(p.watermarks[0].watermark_ms, 1700000001350);
  EXPECT_TRUE(p.statuses.empty());
}

TEST(MessengerParser, BatchKeepsEveryMessageAndEveryChannel) {
  auto p = MustParse(ChannelKind::kMessenger, samples::kMessengerBatch);
  ASSERT_EQ(p.messages.size(), 3u);
  EXPECT_EQ(p.messages[0].provider_message_id, "m_b1");
  EXPECT_EQ(p.messages[1].provider_message_id, "m_b3");
  EXPECT_EQ(p.messages[1].contact_external_id, "PSID7");
  EXPECT_EQ(p.messages[2].provider_message_id, "m_b4");  // from standby[]
  EXPECT_EQ(p.messages[2].channel.external_id, "PAGE2");
  EXPECT_EQ(p.echoes, 1);
  EXPECT_EQ(p.ignored, 1);  // pass_thread_control
  EXPECT_EQ(p.channels, (std::vector<ChannelRef>{{"PAGE1", false}, {"PAGE2", false}, {"PAGE3", false}}));
}

TEST(MessengerParser, TimestampFallsBackToEntryTimeThenZero) {
  auto p = MustParse(ChannelKind::kMessenger,
                     R"({"object":"page","entry":[{"id":"P","time":1700000000,"messaging":[
                     {"sender":{"id":"U"},"message":{"mid":"a","text":"x"}},
                     {"sender":{"id":"U"},"timestamp":"2021-09-08T06:34:04+0000",
                      "message":{"mid":"b","text":"y"}}]},
                     {"id":"Q","messaging":[{"sender":{"id":"U"},"message":{"mid":"c"}}]}]})");
  ASSERT_EQ(p.messages.size(), 3u);
  EXPECT_EQ(p.messages[0].provider_ts_ms, 1700000000000);
  EXPECT_EQ(p.messages[1].provider_ts_ms, 1700000000000);
  EXPECT_EQ(p.messages[2].provider_ts_ms, 0);
  EXPECT_EQ(p.messages[2].type, "unsupported");
}

TEST(MessengerParser, ItemsWithoutMidOrSenderAreIgnored) {
  auto p = MustParse(ChannelKind::kMessenger,
                     R"({"object":"page","entry":[{"id":"P","messaging":[
                     {"sender":{"id":"U"},"message":{"text":"no mid"}},
                     {"recipient":{"id":"P"},"optin":{"user_ref":"REF"}},
                     {"sender":{"id":"U"},"message_request":"accept"},
                     "not an object", 42, null]}]})");
  EXPECT_TRUE(p.messages.empty());
  EXPECT_TRUE(p.events.empty());
  EXPECT_EQ(p.ignored, 6);
}

TEST(InstagramParser, TextWithSurrogatePairEmoji) {
  auto p = MustParse(ChannelKind::kInstagram, samples::kInstagramText);
  ASSERT_EQ(p.messages.size(), 1u);
  EXPECT_EQ(p.messages[0].channel, (ChannelRef{"IGID1", false}));
  EXPECT_EQ(p.messages[0].contact_external_id, "IGSID1");
  EXPECT_EQ(p.messages[0].text, "Gr\u00fc\u00dfe \U0001F600 \u4f60\u597d");
}

TEST(InstagramParser, StoryMentionIsUnsupportedWithUrl) {
  auto p = MustParse(ChannelKind::kInstagram, samples::kInstagramStoryMention);
  ASSERT_EQ(p.messages.size(), 1u);
  EXPECT_EQ(p.messages[0].type, "unsupported");
  EXPECT_EQ(p.messages[0].media_url, "https://lookaside.example/s");
}

TEST(InstagramParser, SeenWithMidIsAReadStatus) {
  auto p = MustParse(ChannelKind::kInstagram, samples::kInstagramSeen);
  ASSERT_EQ(p.statuses.size(), 1u);
  EXPECT_EQ(p.statuses[0].provider_message_id, "ig_out1");
  EXPECT_EQ(p.statuses[0].status, "read");
  EXPECT_EQ(p.statuses[0].ts_ms, 1700000003003);
  EXPECT_TRUE(p.watermarks.empty());
}

TEST(InstagramParser, ReactionIsEventAndUnsendIsStillAMessage) {
  auto p = MustParse(ChannelKind::kInstagram, samples::kInstagramReactionAndUnsend);
  ASSERT_EQ(p.events.size(), 1u);
  EXPECT_EQ(p.events[0].kind, "reaction");
  ASSERT_EQ(p.messages.size(), 1u);
  EXPECT_EQ(p.messages[0].provider_message_id, "ig_m3");
  EXPECT_EQ(p.messages[0].type, "unsupported");
}

TEST(InstagramParser, ChangesCarryMessagingEventsAndCommentsAreIgnored) {
  auto p = MustParse(ChannelKind::kInstagram, samples::kInstagramChanges);
  ASSERT_EQ(p.messages.size(), 1u);
  EXPECT_EQ(p.messages[0].provider_message_id, "ig_m4");
  EXPECT_EQ(p.messages[0].provider_ts_ms, 1700000003000);
  EXPECT_EQ(p.messages[0].text, "hi from changes");
  EXPECT_EQ(p.ignored, 1);
}

TEST(MessengerParser, PageChangesAreNotMessagingEvents) {
  auto p = MustParse(ChannelKind::kMessenger,
                     R"({"object":"page","entry":[{"id":"P","changes":[{"field":"messages",
                     "value":{"sender":{"id":"U"},"message":{"mid":"x","text":"y"}}}]}]})");
  EXPECT_TRUE(p.messages.empty());
  EXPECT_EQ(p.ignored, 1);
}

}  // namespace
}  // namespace sb::gateway
