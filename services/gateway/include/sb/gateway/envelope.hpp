#pragma once
/// The normalized form of what a channel webhook carries, independent of the
/// channel kind. Produced by the parsers, consumed by the ingest path.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace sb::gateway {

enum class ChannelKind { kMessenger, kInstagram, kWhatsapp };

std::string_view ToString(ChannelKind kind);
/// "messenger" | "instagram" | "whatsapp"; nullopt for anything else.
std::optional<ChannelKind> ChannelKindFromString(std::string_view text);

/// Which registered channel an item belongs to, and so whose app secret must
/// verify the body for the item to be kept.
struct ChannelRef {
  /// Page id (Messenger), Instagram account id, WhatsApp phone_number_id; or,
  /// when `account_level`, the WhatsApp Business Account id (entry.id).
  std::string external_id;
  bool account_level = false;

  friend bool operator==(const ChannelRef&, const ChannelRef&) = default;
};

struct Referral {
  std::optional<std::string> source;     // "ADS", "SHORTLINK", "ad", ...
  std::optional<std::string> ad_id;      // Messenger ad_id / WhatsApp source_id
  std::optional<std::string> ctwa_clid;  // WhatsApp click id
  std::optional<std::string> ref;        // m.me ?ref= parameter
  std::optional<std::string> headline;
  std::optional<std::string> source_url;
};

struct OrderItem {
  std::string sku;  // product_retailer_id
  std::int64_t quantity = 0;
  std::int64_t price_cents = 0;  // item_price in minor units
  std::string currency;
};

struct Order {
  std::optional<std::string> catalog_id;
  std::optional<std::string> text;
  std::vector<OrderItem> items;
};

/// One inbound customer message (never an echo).
struct InboundMessage {
  ChannelRef channel;
  std::string contact_external_id;           // PSID / IGSID / wa_id
  std::optional<std::string> contact_name;   // WhatsApp contacts[].profile.name
  std::optional<std::string> contact_phone;  // WhatsApp wa_id is the phone
  std::string provider_message_id;           // mid / wamid
  std::int64_t provider_ts_ms = 0;           // 0 when the body gave none
  /// text, image, audio, video, document, sticker, location, contacts,
  /// interactive, button, postback, quick_reply, order, reaction, unsupported
  std::string type;
  std::optional<std::string> text;       // text body, caption, button/list title, postback title
  std::optional<std::string> payload;    // postback / quick reply / button payload
  std::optional<std::string> media_id;   // WhatsApp media id
  std::optional<std::string> media_url;  // Messenger/Instagram attachment URL
  std::optional<std::string> reply_to;   // provider id of the message replied/reacted to
  std::optional<Referral> referral;
  std::optional<Order> order;
};

/// Delivery state of one of our outbound messages (`statuses[]`,
/// `delivery.mids`).
struct StatusUpdate {
  ChannelRef channel;
  std::string provider_message_id;
  std::string status;  // sent | delivered | read | failed
  std::int64_t ts_ms = 0;
  std::optional<std::string> recipient_external_id;
  std::optional<std::string> error;  // "code: title" for failed
};

/// Messenger/Instagram `read.watermark`: our outbound messages to this
/// contact sent at or before `watermark_ms` are read.
struct ReadWatermark {
  ChannelRef channel;
  std::string contact_external_id;
  std::int64_t watermark_ms = 0;
};

/// Something that happened in a conversation that is not a customer message:
/// Messenger/Instagram reactions, opt-ins, standalone referrals, postbacks
/// without a mid are messages, not events.
struct ConversationEvent {
  ChannelRef channel;
  std::string contact_external_id;
  std::string kind;  // reaction | optin | referral | account_linking | ...
  std::int64_t ts_ms = 0;
  std::string data_json;             // the event's object as compact JSON
  std::optional<Referral> referral;  // set for kind == "referral"
};

/// Everything one webhook body carries, in body order.
struct ParsedWebhook {
  std::vector<ChannelRef> channels;  // distinct refs the body names, in order
  std::vector<InboundMessage> messages;
  std::vector<StatusUpdate> statuses;
  std::vector<ReadWatermark> watermarks;
  std::vector<ConversationEvent> events;
  int echoes = 0;   // is_echo / smb_message_echoes skipped
  int ignored = 0;  // events of kinds we do not handle (account updates, ...)
};

}  // namespace sb::gateway
