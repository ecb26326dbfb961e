// WhatsApp Cloud API webhooks: entry[].changes[] {field, value}. A
// "messages" change carries value.metadata.phone_number_id (the channel),
// contacts[], messages[] and statuses[]; account-level changes
// (message_template_status_update, account_update, phone_number_*) name only
// the WhatsApp Business Account in entry.id.
#include <algorithm>
#include <cctype>
#include <nlohmann/json.hpp>

#include "parsers.hpp"

namespace sb::gateway::parse {
namespace {

struct ChangeContext {
  const ChannelRef& channel;
  const Json& value;
  ParsedWebhook& out;
};

// Types we store as themselves; anything else (unknown, unsupported, system,
// request_welcome, revoke, edit, ephemeral, ...) is kept as "unsupported".
bool IsKnownType(std::string_view type) {
  static constexpr std::string_view kKnown[] = {"text",        "image",   "audio",    "video",
                                                "document",    "sticker", "location", "contacts",
                                                "interactive", "button",  "order",    "reaction"};
  return std::find(std::begin(kKnown), std::end(kKnown), type) != std::end(kKnown);
}

bool IsMedia(std::string_view type) {
  return type == "image" || type == "audio" || type == "video" || type == "document" || type == "sticker";
}

std::optional<std::string> ContactName(const Json& value, const std::optional<std::string>& wa_id,
                                       const std::optional<std::string>& user_id) {
  const Json* contacts = FindArray(value, "contacts");
  if (contacts == nullptr) return std::nullopt;
  for (const auto& contact : *contacts) {
    const bool match =
        (wa_id && Id(contact, "wa_id") == wa_id) || (!wa_id && user_id && String(contact, "user_id") == user_id);
    if (!match) continue;
    const Json* profile = FindObject(contact, "profile");
    return profile != nullptr ? String(*profile, "name") : std::nullopt;
  }
  return std::nullopt;
}

Referral WhatsappReferral(const Json& referral) {
  Referral out;
  out.source = String(referral, "source_type");
  out.ad_id = Id(referral, "source_id");
  out.ctwa_clid = String(referral, "ctwa_clid");
  out.source_url = String(referral, "source_url");
  out.headline = String(referral, "headline");
  return out;
}

Order WhatsappOrder(const Json& order) {
  Order out;
  out.catalog_id = Id(order, "catalog_id");
  out.text = String(order, "text");
  if (out.text && out.text->empty()) out.text.reset();
  const Json* items = FindArray(order, "product_items");
  if (items == nullptr) return out;
  for (const auto& item : *items) {
    auto sku = Id(item, "product_retailer_id");
    if (!sku) continue;
    OrderItem o;
    o.sku = std::move(*sku);
    o.currency = String(item, "currency").value_or("");
    // Unreadable quantities and prices are kept as 0: the item still says
    // what was ordered, and the body is archived for a later reprocess.
    if (const Json* quantity = Find(item, "quantity")) o.quantity = Count(*quantity).value_or(0);
    if (const Json* price = Find(item, "item_price")) {
      o.price_cents = MinorUnits(*price, o.currency).value_or(0);
    }
    out.items.push_back(std::move(o));
  }
  return out;
}

void FillInteractive(InboundMessage& m, const Json& interactive) {
  for (std::string_view reply : {"button_reply", "list_reply"}) {
    if (const Json* r = FindObject(interactive, reply)) {
      m.text = String(*r, "title");
      m.payload = Id(*r, "id");
      return;
    }
  }
  if (const Json* nfm = FindObject(interactive, "nfm_reply")) {  // a WhatsApp Flow completed
    m.text = String(*nfm, "body");
    m.payload = String(*nfm, "response_json");
    return;
  }
  if (const Json* call = FindObject(interactive, "call_permission_reply")) {
    m.payload = String(*call, "response");
  }
}

void FillContent(InboundMessage& m, std::string_view type, const Json& msg) {
  const Json* body = FindObject(msg, type);
  if (body == nullptr) return;  // e.g. type "interactive" with value-level errors only
  if (type == "text") {
    m.text = String(*body, "body");
  } else if (IsMedia(type)) {
    m.media_id = Id(*body, "id");
    m.text = String(*body, "caption");
  } else if (type == "interactive") {
    FillInteractive(m, *body);
  } else if (type == "button") {
    m.text = String(*body, "text");
    m.payload = String(*body, "payload");
  } else if (type == "order") {
    m.order = WhatsappOrder(*body);
    m.text = m.order->text;
  } else if (type == "reaction") {
    m.reply_to = String(*body, "message_id");
    m.text = String(*body, "emoji");  // "" or absent: the reaction was removed
  } else if (type == "revoke" || type == "edit") {
    m.reply_to = String(*body, "original_message_id");
  }
}

void OnMessage(const ChangeContext& ctx, const Json& msg) {
  auto id = Id(msg, "id");
  const auto from = Id(msg, "from");
  const auto from_user_id = Id(msg, "from_user_id");  // business-scoped user id (BSUID)
  if (!id || (!from && !from_user_id)) {
    ++ctx.out.ignored;
    return;
  }
  InboundMessage m;
  m.channel = ctx.channel;
  m.contact_external_id = from ? *from : *from_user_id;
  m.contact_phone = from;
  m.contact_name = ContactName(ctx.value, from, from_user_id);
  m.provider_message_id = std::move(*id);
  m.provider_ts_ms = TimeMs(msg, "timestamp").value_or(0);

  const std::string type = String(msg, "type").value_or("");
  m.type = IsKnownType(type) ? type : "unsupported";
  if (!type.empty()) FillContent(m, type, msg);
  if (const Json* context = FindObject(msg, "context"); context != nullptr && !m.reply_to) {
    m.reply_to = String(*context, "id");
  }
  if (const Json* referral = FindObject(msg, "referral")) m.referral = WhatsappReferral(*referral);
  ctx.out.messages.push_back(std::move(m));
}

std::optional<std::string> StatusError(const Json& status) {
  const Json* errors = FindArray(status, "errors");
  if (errors == nullptr || errors->empty()) return std::nullopt;
  const Json& first = errors->front();
  auto title = String(first, "title");
  if (!title) title = String(first, "message");
  std::optional<std::string> code;
  if (const Json* c = Find(first, "code")) {
    if (auto n = Count(*c)) code = std::to_string(*n);
    if (c->is_string()) code = CleanText(c->get<std::string>());
  }
  if (code && title) return *code + ": " + *title;
  if (code) return code;
  return title;
}

void OnStatus(const ChangeContext& ctx, const Json& st) {
  auto id = Id(st, "id");
  auto status = String(st, "status");
  if (!id || !status || status->empty()) {  // an empty status updates nothing
    ++ctx.out.ignored;
    return;
  }
  StatusUpdate s;
  s.channel = ctx.channel;
  s.provider_message_id = std::move(*id);
  std::transform(status->begin(), status->end(), status->begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  s.status = std::move(*status);
  s.ts_ms = TimeMs(st, "timestamp").value_or(0);
  s.recipient_external_id = Id(st, "recipient_id");
  s.error = StatusError(st);
  ctx.out.statuses.push_back(std::move(s));
}

// The channel a change names; an empty one names none.
std::optional<std::string> PhoneNumberId(const Json* value) {
  if (value == nullptr) return std::nullopt;
  const Json* metadata = FindObject(*value, "metadata");
  auto id = metadata != nullptr ? String(*metadata, "phone_number_id") : std::nullopt;
  if (id && id->empty()) return std::nullopt;
  return id;
}

}  // namespace

Result<ParsedWebhook> ParseWhatsapp(const Json& body) {
  ParsedWebhook out;
  const Json* entries = FindArray(body, "entry");
  if (entries == nullptr) return out;
  for (std::size_t i = 0; i < entries->size(); ++i) {
    const Json& entry = (*entries)[i];
    const ChannelRef account{String(entry, "id").value_or(""), true};
    const Json* changes = FindArray(entry, "changes");
    if (changes == nullptr || changes->empty()) {
      AddChannel(out, account);
      continue;
    }
    for (std::size_t j = 0; j < changes->size(); ++j) {
      const Json& change = (*changes)[j];
      const auto field = String(change, "field").value_or("");
      const Json* value = FindObject(change, "value");
      const Json* messages = value != nullptr ? FindArray(*value, "messages") : nullptr;
      const Json* statuses = value != nullptr ? FindArray(*value, "statuses") : nullptr;
      const auto phone_number_id = PhoneNumberId(value);
      if (field == "messages" && (messages != nullptr || statuses != nullptr) && !phone_number_id) {
        return Error{"invalid_shape", "entry[" + std::to_string(i) + "].changes[" + std::to_string(j) +
                                          "].value.metadata.phone_number_id must be a non-empty string"};
      }
      const ChannelRef channel = phone_number_id ? ChannelRef{*phone_number_id, false} : account;
      AddChannel(out, channel);
      if (value == nullptr) {
        ++out.ignored;
        continue;
      }
      const ChangeContext ctx{channel, *value, out};
      if (field == "smb_message_echoes") {
        // Sent by the business from the WhatsApp Business app: not customers.
        const Json* echoes = FindArray(*value, "message_echoes");
        if (echoes == nullptr) echoes = messages;
        out.echoes += echoes != nullptr ? static_cast<int>(echoes->size()) : 0;
        continue;
      }
      const bool take_messages = field == "messages" && messages != nullptr;
      if (take_messages) {
        for (const auto& msg : *messages) OnMessage(ctx, msg);
      }
      // Call statuses (field "calls") come in the same statuses[] shape.
      if (statuses != nullptr) {
        for (const auto& st : *statuses) OnStatus(ctx, st);
      }
      if (!take_messages && statuses == nullptr) ++out.ignored;
    }
  }
  return out;
}

}  // namespace sb::gateway::parse
