#pragma once
/// Webhook bodies written for these tests in the shapes Meta documents
/// (Messenger Platform, Instagram Messaging, WhatsApp Cloud API). Non-ASCII
/// text is written as \uXXXX escapes, as Meta sends it.
#include <nlohmann/json.hpp>
#include <string_view>

#include "sb/common/json/limited_parse.hpp"
#include "sb/gateway/envelope.hpp"
#include "sb/gateway/webhook_parser.hpp"

namespace sb::gateway::samples {

struct Sample {
  std::string_view name;
  ChannelKind kind;
  std::string_view body;
};

// ---- Messenger -----------------------------------------------------------

inline constexpr std::string_view kMessengerText = R"({"object":"page","entry":[{"id":"PAGE1",
 "time":1700000000123,"messaging":[{"sender":{"id":"PSID1"},"recipient":{"id":"PAGE1"},
 "timestamp":1700000000100,"message":{"mid":"m_text1",
 "text":"\u00bfD\u00f3nde est\u00e1 mi pedido? \ud83d\udce6"}}]}]})";

inline constexpr std::string_view kMessengerQuickReply = R"({"object":"page","entry":[{
 "id":"PAGE1","time":1700000000123,"messaging":[{"sender":{"id":"PSID1"},
 "recipient":{"id":"PAGE1"},"timestamp":1700000000200,"message":{"mid":"m_qr1",
 "text":"Track my order","quick_reply":{"payload":"TRACK_ORDER"}}}]}]})";

inline constexpr std::string_view kMessengerImage = R"({"object":"page","entry":[{"id":"PAGE1",
 "time":1700000000123,"messaging":[{"sender":{"id":"PSID1"},"recipient":{"id":"PAGE1"},
 "timestamp":1700000000300,"message":{"mid":"m_img1","attachments":[{"type":"image",
 "payload":{"url":"https:\/\/scontent.example\/img1.jpg"}},{"type":"image",
 "payload":{"url":"https://scontent.example/img2.jpg"}}]}}]}]})";

inline constexpr std::string_view kMessengerSticker = R"({"object":"page","entry":[{"id":"PAGE1",
 "time":1700000000123,"messaging":[{"sender":{"id":"PSID1"},"recipient":{"id":"PAGE1"},
 "timestamp":1700000000400,"message":{"mid":"m_sticker1","sticker_id":369239263222822,
 "attachments":[{"type":"image","payload":{"url":"https://scontent.example/like.png",
 "sticker_id":369239263222822}}]}}]}]})";

inline constexpr std::string_view kMessengerLocation = R"({"object":"page","entry":[{
 "id":"PAGE1","time":1700000000123,"messaging":[{"sender":{"id":"PSID1"},
 "recipient":{"id":"PAGE1"},"timestamp":1700000000450,"message":{"mid":"m_loc1",
 "attachments":[{"type":"location","payload":{"coordinates":{"lat":52.37,"long":9.73}}}]}}]}]})";

inline constexpr std::string_view kMessengerPostback = R"({"object":"page","entry":[{"id":"PAGE1",
 "time":1700000000123,"messaging":[{"sender":{"id":"PSID2"},"recipient":{"id":"PAGE1"},
 "timestamp":1700000000500,"postback":{"mid":"m_pb1","title":"Get Started",
 "payload":"GET_STARTED","referral":{"ref":"summer","ad_id":"6045246247433",
 "source":"ADS","type":"OPEN_THREAD",
 "ads_context_data":{"ad_title":"Summer sale","photo_url":"https://x.example/p.jpg"}}}}]}]})";

inline constexpr std::string_view kMessengerPostbackNoMid = R"({"object":"page","entry":[{
 "id":"PAGE1","time":1700000000123,"messaging":[{"sender":{"id":"PSID2"},
 "recipient":{"id":"PAGE1"},"timestamp":1700000000600,
 "postback":{"title":"Menu","payload":"MENU"}}]}]})";

inline constexpr std::string_view kMessengerEcho = R"({"object":"page","entry":[{"id":"PAGE1",
 "time":1700000000123,"messaging":[{"sender":{"id":"PAGE1"},"recipient":{"id":"PSID1"},
 "timestamp":1700000000700,"message":{"is_echo":true,"app_id":1517776481860111,
 "metadata":"agent-42","mid":"m_echo1","text":"Your order shipped"}}]}]})";

inline constexpr std::string_view kMessengerReplyWithAdReferral = R"({"object":"page","entry":[{
 "id":"PAGE1","time":1700000000123,"messaging":[{"sender":{"id":"PSID3"},
 "recipient":{"id":"PAGE1"},"timestamp":1700000000800,"message":{"mid":"m_reply1",
 "text":"Is this in stock?","reply_to":{"mid":"m_ours1"},"referral":{"product":{"id":"P1"},
 "ad_id":"23851234567890","source":"ADS","type":"OPEN_THREAD","ref":"fb_ad",
 "referer_uri":"https://m.me/page1"}}}]}]})";

inline constexpr std::string_view kMessengerReferral = R"({"object":"page","entry":[{"id":"PAGE1",
 "time":1700000000123,"messaging":[{"sender":{"id":"PSID4"},"recipient":{"id":"PAGE1"},
 "timestamp":1700000000900,"referral":{"ref":"blackfriday","ad_id":"777","source":"ADS",
 "type":"OPEN_THREAD"}}]}]})";

inline constexpr std::string_view kMessengerReaction = R"({"object":"page","entry":[{"id":"PAGE1",
 "time":1700000000123,"messaging":[{"sender":{"id":"PSID1"},"recipient":{"id":"PAGE1"},
 "timestamp":1700000001000,"reaction":{"mid":"m_ours2","action":"react","reaction":"love",
 "emoji":"\u2764\ufe0f"}}]}]})";

inline constexpr std::string_view kMessengerOptin = R"({"object":"page","entry":[{"id":"PAGE1",
 "time":1700000000123,"messaging":[{"sender":{"id":"PSID5"},"recipient":{"id":"PAGE1"},
 "timestamp":1700000001100,"optin":{"type":"notification_messages","payload":"DEALS",
 "notification_messages_token":"tok","token_expiry_timestamp":1800000000000}}]}]})";

inline constexpr std::string_view kMessengerAccountLinking = R"({"object":"page","entry":[{
 "id":"PAGE1","time":1700000000123,"messaging":[{"sender":{"id":"PSID6"},
 "recipient":{"id":"PAGE1"},"timestamp":1700000001200,
 "account_linking":{"status":"linked","authorization_code":"code-1"}}]}]})";

inline constexpr std::string_view kMessengerDelivery = R"({"object":"page","entry":[{"id":"PAGE1",
 "time":1700000000123,"messaging":[{"sender":{"id":"PSID1"},"recipient":{"id":"PAGE1"},
 "delivery":{"mids":["m_out1","m_out2"],"watermark":1700000001300}}]}]})";

inline constexpr std::string_view kMessengerRead = R"({"object":"page","entry":[{"id":"PAGE1",
 "time":1700000000123,"messaging":[{"sender":{"id":"PSID1"},"recipient":{"id":"PAGE1"},
 "timestamp":1700000001400,"read":{"watermark":1700000001350}}]}]})";

// Two pages in one POST; several events per entry; an echo and a standby
// message (another app owns the thread).
inline constexpr std::string_view kMessengerBatch = R"({"object":"page","entry":[
 {"id":"PAGE1","time":1700000002000,"messaging":[
  {"sender":{"id":"PSID1"},"recipient":{"id":"PAGE1"},"timestamp":1700000002001,
   "message":{"mid":"m_b1","text":"one"}},
  {"sender":{"id":"PAGE1"},"recipient":{"id":"PSID1"},"timestamp":1700000002002,
   "message":{"mid":"m_b2","text":"echo","is_echo":true}},
  {"sender":{"id":"PSID7"},"recipient":{"id":"PAGE1"},"timestamp":1700000002003,
   "message":{"mid":"m_b3","text":"two"}}]},
 {"id":"PAGE2","time":1700000002000,"standby":[
  {"sender":{"id":"PSID8"},"recipient":{"id":"PAGE2"},"timestamp":1700000002004,
   "message":{"mid":"m_b4","text":"three"}}],
  "messaging":[{"sender":{"id":"PSID8"},"recipient":{"id":"PAGE2"},"timestamp":1700000002005,
   "pass_thread_control":{"new_owner_app_id":"123","metadata":"to inbox"}}]},
 {"id":"PAGE3","time":1700000002000}]})";

// ---- Instagram -----------------------------------------------------------

inline constexpr std::string_view kInstagramText = R"({"object":"instagram","entry":[{
 "id":"IGID1","time":1700000003000,"messaging":[{"sender":{"id":"IGSID1"},
 "recipient":{"id":"IGID1"},"timestamp":1700000003001,"message":{"mid":"ig_m1",
 "text":"Gr\u00fc\u00dfe \ud83d\ude00 \u4f60\u597d"}}]}]})";

inline constexpr std::string_view kInstagramStoryMention = R"({"object":"instagram","entry":[{
 "id":"IGID1","time":1700000003000,"messaging":[{"sender":{"id":"IGSID1"},
 "recipient":{"id":"IGID1"},"timestamp":1700000003002,"message":{"mid":"ig_m2",
 "attachments":[{"type":"story_mention","payload":{"url":"https://lookaside.example/s"}}]}}]}]})";

inline constexpr std::string_view kInstagramSeen = R"({"object":"instagram","entry":[{
 "id":"IGID1","time":1700000003000,"messaging":[{"sender":{"id":"IGSID1"},
 "recipient":{"id":"IGID1"},"timestamp":1700000003003,"read":{"mid":"ig_out1"}}]}]})";

inline constexpr std::string_view kInstagramReactionAndUnsend = R"({"object":"instagram",
 "entry":[{"id":"IGID1","time":1700000003000,"messaging":[
 {"sender":{"id":"IGSID1"},"recipient":{"id":"IGID1"},"timestamp":1700000003004,
  "reaction":{"mid":"ig_out1","action":"react","reaction":"love","emoji":"\u2764"}},
 {"sender":{"id":"IGSID1"},"recipient":{"id":"IGID1"},"timestamp":1700000003005,
  "message":{"mid":"ig_m3","is_deleted":true}}]}]})";

// Instagram API with Instagram Login: events may arrive as changes[].
inline constexpr std::string_view kInstagramChanges = R"({"object":"instagram","entry":[{
 "id":"IGID2","time":1700000003000,"changes":[
 {"field":"messages","value":{"sender":{"id":"IGSID2"},"recipient":{"id":"IGID2"},
  "timestamp":"1700000003","message":{"mid":"ig_m4","text":"hi from changes"}}},
 {"field":"comments","value":{"from":{"id":"IGSID2","username":"someone"},
  "media":{"id":"M1","media_product_type":"FEED"},"id":"C1","text":"nice!"}}]}]})";

// ---- WhatsApp ------------------------------------------------------------

inline constexpr std::string_view kWhatsappText = R"({"object":"whatsapp_business_account",
 "entry":[{"id":"WABA1","changes":[{"field":"messages","value":{"messaging_product":"whatsapp",
 "metadata":{"display_phone_number":"15550001111","phone_number_id":"PNID1"},
 "contacts":[{"profile":{"name":"Jos\u00e9 Mu\u00f1oz"},"wa_id":"5215512345678"}],
 "messages":[{"from":"5215512345678","id":"wamid.text1","timestamp":"1700000004",
 "type":"text","text":{"body":"\u00bfTienen talla M? \ud83d\udc55"}}]}}]}]})";

inline constexpr std::string_view kWhatsappMedia = R"({"object":"whatsapp_business_account",
 "entry":[{"id":"WABA1","changes":[{"field":"messages","value":{"messaging_product":"whatsapp",
 "metadata":{"display_phone_number":"15550001111","phone_number_id":"PNID1"},
 "contacts":[{"profile":{"name":"Ana"},"wa_id":"34600111222"}],"messages":[
 {"from":"34600111222","id":"wamid.img","timestamp":"1700000005","type":"image",
  "image":{"caption":"this one","mime_type":"image/jpeg","sha256":"abc","id":"MEDIA_IMG"}},
 {"from":"34600111222","id":"wamid.aud","timestamp":"1700000006","type":"audio",
  "audio":{"mime_type":"audio/ogg; codecs=opus","sha256":"abc","id":"MEDIA_AUD","voice":true}},
 {"from":"34600111222","id":"wamid.vid","timestamp":"1700000007","type":"video",
  "video":{"caption":"unboxing","mime_type":"video/mp4","sha256":"abc","id":"MEDIA_VID"}},
 {"from":"34600111222","id":"wamid.doc","timestamp":"1700000008","type":"document",
  "document":{"caption":"invoice","filename":"inv.pdf","mime_type":"application/pdf",
  "sha256":"abc","id":"MEDIA_DOC"}},
 {"from":"34600111222","id":"wamid.stk","timestamp":"1700000009","type":"sticker",
  "sticker":{"mime_type":"image/webp","sha256":"abc","id":"MEDIA_STK","animated":false}}
 ]}}]}]})";

inline constexpr std::string_view kWhatsappLocationContacts = R"({
 "object":"whatsapp_business_account","entry":[{"id":"WABA1","changes":[{"field":"messages",
 "value":{"messaging_product":"whatsapp","metadata":{"display_phone_number":"15550001111",
 "phone_number_id":"PNID1"},"contacts":[{"profile":{"name":"Ana"},"wa_id":"34600111222"}],
 "messages":[
 {"from":"34600111222","id":"wamid.loc","timestamp":"1700000010","type":"location",
  "location":{"latitude":40.4168,"longitude":-3.7038,"name":"Sol","address":"Madrid"}},
 {"from":"34600111222","id":"wamid.con","timestamp":"1700000011","type":"contacts",
  "contacts":[{"name":{"formatted_name":"Bob","first_name":"Bob"},
  "phones":[{"phone":"+1 555 0100","type":"CELL","wa_id":"15550100"}]}]}]}}]}]})";

inline constexpr std::string_view kWhatsappInteractive = R"({"object":"whatsapp_business_account",
 "entry":[{"id":"WABA1","changes":[{"field":"messages","value":{"messaging_product":"whatsapp",
 "metadata":{"display_phone_number":"15550001111","phone_number_id":"PNID1"},
 "contacts":[{"profile":{"name":"Ana"},"wa_id":"34600111222"}],"messages":[
 {"context":{"from":"15550001111","id":"wamid.ours_menu"},"from":"34600111222",
  "id":"wamid.btnreply","timestamp":"1700000012","type":"interactive",
  "interactive":{"type":"button_reply","button_reply":{"id":"track","title":"Track order"}}},
 {"context":{"from":"15550001111","id":"wamid.ours_list"},"from":"34600111222",
  "id":"wamid.listreply","timestamp":"1700000013","type":"interactive",
  "interactive":{"type":"list_reply","list_reply":{"id":"size_m","title":"Size M",
  "description":"Medium"}}},
 {"context":{"from":"15550001111","id":"wamid.ours_tpl"},"from":"34600111222",
  "id":"wamid.button","timestamp":"1700000014","type":"button",
  "button":{"text":"Yes, ship it","payload":"CONFIRM_SHIP"}}]}}]}]})";

inline constexpr std::string_view kWhatsappOrder = R"({"object":"whatsapp_business_account",
 "entry":[{"id":"WABA1","changes":[{"field":"messages","value":{"messaging_product":"whatsapp",
 "metadata":{"display_phone_number":"15550001111","phone_number_id":"PNID1"},
 "contacts":[{"profile":{"name":"Ana"},"wa_id":"34600111222"}],"messages":[
 {"from":"34600111222","id":"wamid.order","timestamp":"1700000015","type":"order",
  "order":{"catalog_id":"CAT1","text":"Please deliver after 6pm","product_items":[
   {"product_retailer_id":"SKU-TEE","quantity":2,"item_price":12.5,"currency":"EUR"},
   {"product_retailer_id":"SKU-CAP","quantity":"1","item_price":"19.99","currency":"EUR"},
   {"product_retailer_id":"SKU-JP","quantity":3,"item_price":1200,"currency":"JPY"}]}}]}}]}]})";

inline constexpr std::string_view kWhatsappReactionReply = R"({
 "object":"whatsapp_business_account","entry":[{"id":"WABA1","changes":[{"field":"messages",
 "value":{"messaging_product":"whatsapp","metadata":{"display_phone_number":"15550001111",
 "phone_number_id":"PNID1"},"contacts":[{"profile":{"name":"Ana"},"wa_id":"34600111222"}],
 "messages":[
 {"from":"34600111222","id":"wamid.react","timestamp":"1700000016","type":"reaction",
  "reaction":{"message_id":"wamid.ours1","emoji":"\ud83d\udc4d"}},
 {"context":{"from":"15550001111","id":"wamid.ours2"},"from":"34600111222",
  "id":"wamid.reply","timestamp":"1700000017","type":"text","text":{"body":"yes"}}]}}]}]})";

inline constexpr std::string_view kWhatsappReferral = R"({"object":"whatsapp_business_account",
 "entry":[{"id":"WABA1","changes":[{"field":"messages","value":{"messaging_product":"whatsapp",
 "metadata":{"display_phone_number":"15550001111","phone_number_id":"PNID1"},
 "contacts":[{"profile":{"name":"Ana"},"wa_id":"34600111222"}],"messages":[
 {"referral":{"source_url":"https://fb.me/ad1","source_id":"120200000000001",
  "source_type":"ad","headline":"Black Friday -40%","body":"Shop now","media_type":"image",
  "image_url":"https://x.example/i.jpg","ctwa_clid":"ARAkLkA8rmlFeiCktEJQ"},
  "from":"34600111222","id":"wamid.ad","timestamp":"1700000018","type":"text",
  "text":{"body":"Hi, I saw your ad"}}]}}]}]})";

inline constexpr std::string_view kWhatsappStatuses = R"({"object":"whatsapp_business_account",
 "entry":[{"id":"WABA1","changes":[{"field":"messages","value":{"messaging_product":"whatsapp",
 "metadata":{"display_phone_number":"15550001111","phone_number_id":"PNID1"},"statuses":[
 {"id":"wamid.out1","status":"sent","timestamp":"1700000019","recipient_id":"34600111222",
  "conversation":{"id":"C1","origin":{"type":"service"}},
  "pricing":{"billable":true,"pricing_model":"CBP","category":"service"}},
 {"id":"wamid.out1","status":"delivered","timestamp":"1700000020",
  "recipient_id":"34600111222"},
 {"id":"wamid.out1","status":"read","timestamp":"1700000021","recipient_id":"34600111222"},
 {"id":"wamid.out2","status":"failed","timestamp":"1700000022","recipient_id":"34600111222",
  "errors":[{"code":131047,"title":"Re-engagement message","message":"Re-engagement message",
  "error_data":{"details":"More than 24 hours have passed"}}]}]}}]}]})";

inline constexpr std::string_view kWhatsappUnsupported = R"({"object":"whatsapp_business_account",
 "entry":[{"id":"WABA1","changes":[{"field":"messages","value":{"messaging_product":"whatsapp",
 "metadata":{"display_phone_number":"15550001111","phone_number_id":"PNID1"},
 "contacts":[{"profile":{"name":"Ana"},"wa_id":"34600111222"}],"messages":[
 {"from":"34600111222","id":"wamid.unk","timestamp":"1700000023","type":"unknown",
  "errors":[{"code":131051,"title":"Message type unknown"}]},
 {"from":"34600111222","id":"wamid.uns","timestamp":"1700000024","type":"unsupported",
  "unsupported":{"type":"poll"}},
 {"from":"34600111222","id":"wamid.sys","timestamp":"1700000025","type":"system",
  "system":{"body":"User changed number","wa_id":"34600999888","type":"user_changed_number"}},
 {"from":"34600111222","id":"wamid.welcome","timestamp":"1700000026",
  "type":"request_welcome"},
 {"from":"34600111222","id":"wamid.hologram","timestamp":"1700000027",
  "type":"hologram","hologram":{"id":"H"}}]}}]}]})";

inline constexpr std::string_view kWhatsappEchoes = R"({"object":"whatsapp_business_account",
 "entry":[{"id":"WABA1","changes":[{"field":"smb_message_echoes","value":{
 "messaging_product":"whatsapp","metadata":{"display_phone_number":"15550001111",
 "phone_number_id":"PNID1"},"message_echoes":[{"from":"15550001111","to":"34600111222",
 "id":"wamid.echo1","timestamp":"1700000028","type":"text","text":{"body":"on its way"}}]}}]}]})";

inline constexpr std::string_view kWhatsappAccountLevel = R"({
 "object":"whatsapp_business_account","entry":[{"id":"WABA9","time":1700000029,"changes":[
 {"field":"message_template_status_update","value":{"event":"APPROVED",
  "message_template_id":12345678,"message_template_name":"order_update",
  "message_template_language":"en_US","reason":null}},
 {"field":"account_update","value":{"phone_number":"15550001111","event":"VERIFIED_ACCOUNT"}}
 ]}]})";

// Two WABAs, two numbers, several messages and a status in one POST.
inline constexpr std::string_view kWhatsappBatch = R"({"object":"whatsapp_business_account",
 "entry":[
 {"id":"WABA1","changes":[{"field":"messages","value":{"messaging_product":"whatsapp",
  "metadata":{"display_phone_number":"15550001111","phone_number_id":"PNID1"},
  "contacts":[{"profile":{"name":"Ana"},"wa_id":"111"},{"profile":{"name":"Ben"},"wa_id":"222"}],
  "messages":[
   {"from":"111","id":"wamid.b1","timestamp":"1700000030","type":"text","text":{"body":"a"}},
   {"from":"222","id":"wamid.b2","timestamp":"1700000031","type":"text","text":{"body":"b"}}]}}]},
 {"id":"WABA2","changes":[{"field":"messages","value":{"messaging_product":"whatsapp",
  "metadata":{"display_phone_number":"15550002222","phone_number_id":"PNID2"},
  "contacts":[{"profile":{"name":"Cy"},"wa_id":"333"}],
  "messages":[
   {"from":"333","id":"wamid.b3","timestamp":1700000032,"type":"text","text":{"body":"c"}}],
  "statuses":[{"id":"wamid.out9","status":"delivered","timestamp":"1700000033",
   "recipient_id":"333"}]}}]}]})";

inline constexpr std::string_view kWhatsappNulText = R"({"object":"whatsapp_business_account",
 "entry":[{"id":"WABA1","changes":[{"field":"messages","value":{"messaging_product":"whatsapp",
 "metadata":{"display_phone_number":"15550001111","phone_number_id":"PNID1"},
 "contacts":[{"profile":{"name":"A\u0000na"},"wa_id":"34600111222"}],"messages":[
 {"from":"34600111222","id":"wamid.nul","timestamp":"1700000034","type":"text",
  "text":{"body":"a\u0000b"}}]}}]}]})";

/// Every body above that parses OK with its kind, for table and fuzz tests.
inline constexpr Sample kAll[] = {
    {"messenger_text", ChannelKind::kMessenger, kMessengerText},
    {"messenger_quick_reply", ChannelKind::kMessenger, kMessengerQuickReply},
    {"messenger_image", ChannelKind::kMessenger, kMessengerImage},
    {"messenger_sticker", ChannelKind::kMessenger, kMessengerSticker},
    {"messenger_location", ChannelKind::kMessenger, kMessengerLocation},
    {"messenger_postback", ChannelKind::kMessenger, kMessengerPostback},
    {"messenger_postback_no_mid", ChannelKind::kMessenger, kMessengerPostbackNoMid},
    {"messenger_echo", ChannelKind::kMessenger, kMessengerEcho},
    {"messenger_reply_ad_referral", ChannelKind::kMessenger, kMessengerReplyWithAdReferral},
    {"messenger_referral", ChannelKind::kMessenger, kMessengerReferral},
    {"messenger_reaction", ChannelKind::kMessenger, kMessengerReaction},
    {"messenger_optin", ChannelKind::kMessenger, kMessengerOptin},
    {"messenger_account_linking", ChannelKind::kMessenger, kMessengerAccountLinking},
    {"messenger_delivery", ChannelKind::kMessenger, kMessengerDelivery},
    {"messenger_read", ChannelKind::kMessenger, kMessengerRead},
    {"messenger_batch", ChannelKind::kMessenger, kMessengerBatch},
    {"instagram_text", ChannelKind::kInstagram, kInstagramText},
    {"instagram_story_mention", ChannelKind::kInstagram, kInstagramStoryMention},
    {"instagram_seen", ChannelKind::kInstagram, kInstagramSeen},
    {"instagram_reaction_unsend", ChannelKind::kInstagram, kInstagramReactionAndUnsend},
    {"instagram_changes", ChannelKind::kInstagram, kInstagramChanges},
    {"whatsapp_text", ChannelKind::kWhatsapp, kWhatsappText},
    {"whatsapp_media", ChannelKind::kWhatsapp, kWhatsappMedia},
    {"whatsapp_location_contacts", ChannelKind::kWhatsapp, kWhatsappLocationContacts},
    {"whatsapp_interactive", ChannelKind::kWhatsapp, kWhatsappInteractive},
    {"whatsapp_order", ChannelKind::kWhatsapp, kWhatsappOrder},
    {"whatsapp_reaction_reply", ChannelKind::kWhatsapp, kWhatsappReactionReply},
    {"whatsapp_referral", ChannelKind::kWhatsapp, kWhatsappReferral},
    {"whatsapp_statuses", ChannelKind::kWhatsapp, kWhatsappStatuses},
    {"whatsapp_unsupported", ChannelKind::kWhatsapp, kWhatsappUnsupported},
    {"whatsapp_echoes", ChannelKind::kWhatsapp, kWhatsappEchoes},
    {"whatsapp_account_level", ChannelKind::kWhatsapp, kWhatsappAccountLevel},
    {"whatsapp_batch", ChannelKind::kWhatsapp, kWhatsappBatch},
    {"whatsapp_nul_text", ChannelKind::kWhatsapp, kWhatsappNulText},
};

/// Bytes to envelopes the way the gateway does it: ParseLimited, then
/// ParseWebhook.
inline Result<ParsedWebhook> ParseBody(ChannelKind kind, std::string_view body) {
  auto json = sb::json::ParseLimited(body);
  if (!json.ok()) return json.error();
  return ParseWebhook(kind, json.value());
}

}  // namespace sb::gateway::samples
