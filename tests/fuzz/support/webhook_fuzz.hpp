#pragma once
// One channel parser over arbitrary bytes, as the webhook handler drives it:
// the limited JSON parser, then ParseWebhook for the route's kind. Neither
// may throw; a failure is `invalid_shape`; what is parsed must be storable:
// every item names a channel the body names, every string is valid UTF-8
// without U+0000 (PostgreSQL text holds neither), ids are non-empty, times
// are in range and event data is JSON again.
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cstdint>
#include <optional>
#include <string>

#include "fuzz_checks.hpp"
#include "sb/common/json/limited_parse.hpp"
#include "sb/gateway/webhook_parser.hpp"

namespace sb::fuzz {

constexpr std::int64_t kMaxTimeMs = 253'402'300'799'999;  // 9999-12-31T23:59:59.999Z

inline void CheckText(std::string_view field, std::string_view value) {
  SB_FUZZ_CHECK(value.find('\0') == std::string_view::npos, std::string(field) + " holds U+0000");
  SB_FUZZ_CHECK(IsValidUtf8(value), std::string(field) + " is not valid UTF-8");
}

inline void CheckMaybeText(std::string_view field, const std::optional<std::string>& value) {
  if (value) CheckText(field, *value);
}

inline void CheckId(std::string_view field, std::string_view value) {
  SB_FUZZ_CHECK(!value.empty(), std::string(field) + " is empty");
  CheckText(field, value);
}

inline void CheckTime(std::string_view field, std::int64_t ms) {
  SB_FUZZ_CHECK(ms >= 0 && ms <= kMaxTimeMs, std::string(field) + " out of range: " + std::to_string(ms));
}

inline void CheckReferral(const std::optional<gateway::Referral>& referral) {
  if (!referral) return;
  CheckMaybeText("referral.source", referral->source);
  CheckMaybeText("referral.ad_id", referral->ad_id);
  CheckMaybeText("referral.ctwa_clid", referral->ctwa_clid);
  CheckMaybeText("referral.ref", referral->ref);
  CheckMaybeText("referral.headline", referral->headline);
  CheckMaybeText("referral.source_url", referral->source_url);
}

inline int FuzzWebhook(gateway::ChannelKind kind, const std::uint8_t* data, std::size_t size) {
  auto json = json::ParseLimited(AsText(data, size));
  if (!json) return 0;
  auto parsed = gateway::ParseWebhook(kind, json.value());
  if (!parsed) {
    SB_FUZZ_CHECK(parsed.error().code == "invalid_shape", parsed.error().code);
    return 0;
  }
  const auto& out = parsed.value();
  const auto named = [&](const gateway::ChannelRef& ref) {
    SB_FUZZ_CHECK(std::find(out.channels.begin(), out.channels.end(), ref) != out.channels.end(),
                  "an item names a channel missing from channels: " + ref.external_id);
  };
  for (const auto& ref : out.channels) {
    CheckId("channel.external_id", ref.external_id);
    SB_FUZZ_CHECK(!ref.account_level || kind == gateway::ChannelKind::kWhatsapp, "account-level ref outside WhatsApp");
    SB_FUZZ_CHECK(std::count(out.channels.begin(), out.channels.end(), ref) == 1, "channel listed twice");
  }
  for (const auto& m : out.messages) {
    named(m.channel);
    CheckId("message.contact_external_id", m.contact_external_id);
    CheckId("message.provider_message_id", m.provider_message_id);
    CheckId("message.type", m.type);
    CheckTime("message.provider_ts_ms", m.provider_ts_ms);
    CheckMaybeText("message.contact_name", m.contact_name);
    CheckMaybeText("message.contact_phone", m.contact_phone);
    CheckMaybeText("message.text", m.text);
    CheckMaybeText("message.payload", m.payload);
    CheckMaybeText("message.media_id", m.media_id);
    CheckMaybeText("message.media_url", m.media_url);
    CheckMaybeText("message.reply_to", m.reply_to);
    CheckReferral(m.referral);
    if (m.order) {
      CheckMaybeText("order.catalog_id", m.order->catalog_id);
      CheckMaybeText("order.text", m.order->text);
      for (const auto& item : m.order->items) {
        CheckId("order.items.sku", item.sku);
        CheckText("order.items.currency", item.currency);
        SB_FUZZ_CHECK(item.quantity >= 0, "negative quantity");
        SB_FUZZ_CHECK(item.price_cents >= 0, "negative price");
      }
    }
  }
  for (const auto& s : out.statuses) {
    named(s.channel);
    CheckId("status.provider_message_id", s.provider_message_id);
    CheckId("status.status", s.status);
    CheckTime("status.ts_ms", s.ts_ms);
    CheckMaybeText("status.recipient_external_id", s.recipient_external_id);
    CheckMaybeText("status.error", s.error);
  }
  for (const auto& w : out.watermarks) {
    named(w.channel);
    CheckId("watermark.contact_external_id", w.contact_external_id);
    CheckTime("watermark.watermark_ms", w.watermark_ms);
  }
  for (const auto& e : out.events) {
    named(e.channel);
    CheckText("event.contact_external_id", e.contact_external_id);
    CheckId("event.kind", e.kind);
    CheckTime("event.ts_ms", e.ts_ms);
    CheckText("event.data_json", e.data_json);
    auto data_json = json::ParseLimited(e.data_json);
    SB_FUZZ_CHECK(data_json.ok(), "event data is not JSON: " + e.data_json);
    CheckReferral(e.referral);
  }
  SB_FUZZ_CHECK(out.echoes >= 0 && out.ignored >= 0, "negative counts");
  return 0;
}

}  // namespace sb::fuzz
