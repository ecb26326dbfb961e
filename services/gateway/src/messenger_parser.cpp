// Messenger and Instagram webhooks share the Messenger Platform shape:
// entry[].messaging[] and entry[].standby[] events, each with sender,
// recipient, timestamp and one event object (message, postback, reaction,
// delivery, read, ...). Instagram may also wrap such an event in
// entry[].changes[] {field, value}.
#include <nlohmann/json.hpp>

#include "parsers.hpp"

namespace sb::gateway::parse {
namespace {

struct EventContext {
  ChannelKind kind;
  const ChannelRef& channel;
  std::int64_t entry_ts_ms;
  ParsedWebhook& out;
};

std::string AttachmentType(std::string_view type) {
  if (type == "image" || type == "audio" || type == "video" || type == "location" || type == "sticker") {
    return std::string(type);
  }
  if (type == "file") return "document";
  // fallback (a shared link), template, share, story_mention, ig_reel, ...
  return "unsupported";
}

std::optional<Referral> MessengerReferral(const Json* referral) {
  if (referral == nullptr || !referral->is_object()) return std::nullopt;
  Referral out;
  out.source = String(*referral, "source");
  out.ad_id = Id(*referral, "ad_id");
  out.ref = String(*referral, "ref");
  out.source_url = String(*referral, "referer_uri");
  if (const Json* ads = FindObject(*referral, "ads_context_data")) {
    out.headline = String(*ads, "ad_title");
  }
  return out;
}

InboundMessage NewMessage(const EventContext& ctx, const std::string& sender, std::string mid, std::int64_t ts_ms) {
  InboundMessage m;
  m.channel = ctx.channel;
  m.contact_external_id = sender;
  m.provider_message_id = std::move(mid);
  m.provider_ts_ms = ts_ms;
  return m;
}

void AddEvent(const EventContext& ctx, const std::string& sender, std::int64_t ts_ms, std::string kind,
              const Json& data, std::optional<Referral> referral = {}) {
  ConversationEvent e;
  e.channel = ctx.channel;
  e.contact_external_id = sender;
  e.kind = std::move(kind);
  e.ts_ms = ts_ms;
  e.data_json = CompactJson(data);
  e.referral = std::move(referral);
  ctx.out.events.push_back(std::move(e));
}

void OnMessage(const EventContext& ctx, const std::string& sender, std::int64_t ts_ms, const Json& message) {
  auto mid = Id(message, "mid");
  if (!mid) {
    ++ctx.out.ignored;
    return;
  }
  InboundMessage m = NewMessage(ctx, sender, std::move(*mid), ts_ms);
  m.text = String(message, "text");
  if (const Json* reply_to = FindObject(message, "reply_to")) m.reply_to = String(*reply_to, "mid");
  m.referral = MessengerReferral(Find(message, "referral"));

  const Json* first_attachment = nullptr;
  if (const Json* attachments = FindArray(message, "attachments")) {
    for (const auto& a : *attachments) {
      if (a.is_object()) {
        first_attachment = &a;
        break;
      }
    }
  }
  if (first_attachment != nullptr) {
    if (const Json* payload = FindObject(*first_attachment, "payload")) {
      m.media_url = String(*payload, "url");
    }
    if (!m.media_url) m.media_url = String(*first_attachment, "url");
  }

  if (const Json* quick_reply = FindObject(message, "quick_reply")) {
    m.type = "quick_reply";
    m.payload = String(*quick_reply, "payload");
  } else if (Find(message, "sticker_id") != nullptr) {
    // Messenger sends a sticker as an image attachment plus sticker_id.
    m.type = "sticker";
  } else if (first_attachment != nullptr) {
    m.type = AttachmentType(String(*first_attachment, "type").value_or(""));
  } else if (m.text) {
    m.type = "text";
  } else {
    // An Instagram unsend (is_deleted) or a message shape we do not know yet.
    m.type = "unsupported";
  }
  ctx.out.messages.push_back(std::move(m));
}

void OnPostback(const EventContext& ctx, const std::string& sender, std::int64_t ts_ms, const Json& postback) {
  auto referral = MessengerReferral(Find(postback, "referral"));
  auto mid = Id(postback, "mid");
  if (!mid) {
    // Older postbacks carry no mid: nothing to deduplicate a message by.
    AddEvent(ctx, sender, ts_ms, "postback", postback, std::move(referral));
    return;
  }
  InboundMessage m = NewMessage(ctx, sender, std::move(*mid), ts_ms);
  m.type = "postback";
  m.text = String(postback, "title");
  m.payload = String(postback, "payload");
  m.referral = std::move(referral);
  ctx.out.messages.push_back(std::move(m));
}

void OnDelivery(const EventContext& ctx, const std::optional<std::string>& sender, std::int64_t ts_ms,
                const Json& delivery) {
  const Json* mids = FindArray(delivery, "mids");
  const std::int64_t watermark = TimeMs(delivery, "watermark").value_or(ts_ms);
  bool any = false;
  if (mids != nullptr) {
    for (const auto& mid : *mids) {
      if (!mid.is_string() || mid.get_ref<const std::string&>().empty()) continue;
      StatusUpdate s;
      s.channel = ctx.channel;
      s.provider_message_id = CleanText(mid.get<std::string>());
      s.status = "delivered";
      s.ts_ms = watermark;
      s.recipient_external_id = sender;
      ctx.out.statuses.push_back(std::move(s));
      any = true;
    }
  }
  // A watermark alone says "everything before this was delivered"; reads
  // supersede it, so it is not worth a store round trip.
  if (!any) ++ctx.out.ignored;
}

void OnRead(const EventContext& ctx, const std::string& sender, std::int64_t ts_ms, const Json& read) {
  bool any = false;
  if (auto watermark = TimeMs(read, "watermark")) {
    ctx.out.watermarks.push_back(ReadWatermark{ctx.channel, sender, *watermark});
    any = true;
  }
  // Instagram reports "seen" per message id instead of a watermark.
  if (auto mid = Id(read, "mid")) {
    StatusUpdate s;
    s.channel = ctx.channel;
    s.provider_message_id = std::move(*mid);
    s.status = "read";
    s.ts_ms = ts_ms;
    s.recipient_external_id = sender;
    ctx.out.statuses.push_back(std::move(s));
    any = true;
  }
  if (!any) ++ctx.out.ignored;
}

void OnEvent(const EventContext& ctx, const Json& event) {
  if (!event.is_object()) {
    ++ctx.out.ignored;
    return;
  }
  const Json* sender_obj = FindObject(event, "sender");
  const auto sender = sender_obj != nullptr ? Id(*sender_obj, "id") : std::nullopt;
  const std::int64_t ts_ms = TimeMs(event, "timestamp").value_or(ctx.entry_ts_ms);

  if (const Json* delivery = FindObject(event, "delivery")) {
    OnDelivery(ctx, sender, ts_ms, *delivery);
    return;
  }
  const Json* message = FindObject(event, "message");
  if (message != nullptr && IsTrue(*message, "is_echo")) {
    ++ctx.out.echoes;
    return;
  }
  // Everything below belongs to a contact; without one (a checkbox-plugin
  // opt-in names only a user_ref) there is no conversation to attach it to.
  if (!sender) {
    ++ctx.out.ignored;
    return;
  }
  if (message != nullptr) return OnMessage(ctx, *sender, ts_ms, *message);
  if (const Json* postback = FindObject(event, "postback")) {
    return OnPostback(ctx, *sender, ts_ms, *postback);
  }
  if (const Json* read = FindObject(event, "read")) return OnRead(ctx, *sender, ts_ms, *read);
  if (const Json* reaction = FindObject(event, "reaction")) {
    return AddEvent(ctx, *sender, ts_ms, "reaction", *reaction);
  }
  if (const Json* optin = FindObject(event, "optin")) {
    return AddEvent(ctx, *sender, ts_ms, "optin", *optin);
  }
  if (const Json* referral = FindObject(event, "referral")) {
    return AddEvent(ctx, *sender, ts_ms, "referral", *referral, MessengerReferral(referral));
  }
  if (const Json* linking = FindObject(event, "account_linking")) {
    return AddEvent(ctx, *sender, ts_ms, "account_linking", *linking);
  }
  // Handover, game_play, checkout_update, message_request, policy notices...
  ++ctx.out.ignored;
}

// Instagram change fields that carry a Messenger Platform event as `value`.
bool IsMessagingField(std::string_view field) { return field.starts_with("messag") || field == "standby"; }

}  // namespace

Result<ParsedWebhook> ParseMessengerPlatform(ChannelKind kind, const Json& body) {
  ParsedWebhook out;
  const Json* entries = FindArray(body, "entry");
  if (entries == nullptr) return out;
  for (const auto& entry : *entries) {
    const ChannelRef channel{String(entry, "id").value_or(""), false};
    AddChannel(out, channel);
    const EventContext ctx{kind, channel, TimeMs(entry, "time").value_or(0), out};

    for (std::string_view list : {"messaging", "standby"}) {
      if (const Json* events = FindArray(entry, list)) {
        for (const auto& event : *events) OnEvent(ctx, event);
      }
    }
    if (const Json* changes = FindArray(entry, "changes")) {
      for (const auto& change : *changes) {
        const auto field = String(change, "field");
        const Json* value = FindObject(change, "value");
        if (kind == ChannelKind::kInstagram && field && IsMessagingField(*field) && value != nullptr) {
          OnEvent(ctx, *value);
        } else {
          // Page feed, leadgen, Instagram comments and mentions: not messages.
          ++out.ignored;
        }
      }
    }
  }
  return out;
}

}  // namespace sb::gateway::parse
