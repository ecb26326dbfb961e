#include "ingest_batch.hpp"

#include <optional>

namespace sb::store {
namespace {

using nlohmann::json;

json Nullable(const std::optional<std::string>& v) { return v ? json(*v) : json(nullptr); }
json Millis(std::int64_t ms) { return ms > 0 ? json(ms) : json(nullptr); }

json ReferralJson(const gateway::Referral& r) {
  json out = {{"source", Nullable(r.source)},
              {"ad_id", Nullable(r.ad_id)},
              {"ctwa_clid", Nullable(r.ctwa_clid)},
              {"ref", Nullable(r.ref)}};
  if (r.headline) out["headline"] = *r.headline;
  if (r.source_url) out["source_url"] = *r.source_url;
  return out;
}

json OrderJson(const gateway::Order& o) {
  json items = json::array();
  for (const auto& item : o.items) {
    items.push_back({{"sku", item.sku},
                     {"quantity", item.quantity},
                     {"price_cents", item.price_cents},
                     {"currency", item.currency}});
  }
  return {{"catalog_id", Nullable(o.catalog_id)}, {"text", Nullable(o.text)}, {"items", std::move(items)}};
}

const ChannelKey* Find(const IngestRequest& r, const gateway::ChannelRef& ref) {
  for (const auto& [known, key] : r.channels) {
    if (known == ref) return &key;
  }
  return nullptr;
}

}  // namespace

std::string MessageKey(std::int64_t business_id, std::int64_t channel_id, const std::string& provider_id) {
  return std::to_string(business_id) + ":" + std::to_string(channel_id) + ":" + provider_id;
}

IngestBatch BuildIngestBatch(const std::vector<const IngestRequest*>& requests) {
  IngestBatch b;
  json archives = json::array();
  json archive_only = json::array();
  json messages = json::array();
  json statuses = json::array();
  json watermarks = json::array();
  json events = json::array();
  int message_index = 0;
  int event_index = 0;
  for (const IngestRequest* r : requests) {
    const auto& p = r->parsed;
    int count = 0;
    // One archive row per business the body concerns.
    std::vector<std::int64_t> businesses;
    for (const auto& [ref, key] : r->channels) {
      if (std::find(businesses.begin(), businesses.end(), key.business_id) == businesses.end()) {
        businesses.push_back(key.business_id);
      }
    }
    std::vector<std::pair<std::int64_t, int>> archive_index;  // business -> "a"
    for (auto business : businesses) {
      bool has_messages = false;
      for (const auto& m : p.messages) {
        const ChannelKey* key = Find(*r, m.channel);
        if (key && key->business_id == business) has_messages = true;
      }
      json row = {{"business_id", business}, {"kind", gateway::ToString(r->kind)}};
      if (r->archived) {
        row["id"] = r->archived->id;
        row["received_at"] = r->archived->received_at;
      } else {
        row["body"] = r->body;
      }
      if (has_messages) {
        int a = static_cast<int>(archives.size());
        row["a"] = a;
        archive_index.emplace_back(business, a);
        archives.push_back(std::move(row));
      } else {
        archive_only.push_back(std::move(row));
      }
    }
    auto archive_of = [&](std::int64_t business) {
      for (auto& [b2, a] : archive_index) {
        if (b2 == business) return a;
      }
      return -1;
    };
    for (const auto& m : p.messages) {
      const ChannelKey* key = Find(*r, m.channel);
      if (!key) continue;
      ++count;
      messages.push_back({{"i", message_index++},
                          {"a", archive_of(key->business_id)},
                          {"business_id", key->business_id},
                          {"channel_id", key->channel_id},
                          {"contact", m.contact_external_id},
                          {"name", Nullable(m.contact_name)},
                          {"phone", Nullable(m.contact_phone)},
                          {"pmid", m.provider_message_id},
                          {"ts", Millis(m.provider_ts_ms)},
                          {"type", m.type},
                          {"text", Nullable(m.text)},
                          {"payload", Nullable(m.payload)},
                          {"media_id", Nullable(m.media_id)},
                          {"media_url", Nullable(m.media_url)},
                          {"referral", m.referral ? ReferralJson(*m.referral) : json(nullptr)},
                          {"order", m.order ? OrderJson(*m.order) : json(nullptr)},
                          {"reply_to", Nullable(m.reply_to)}});
    }
    b.message_counts.push_back(count);
    for (const auto& s : p.statuses) {
      const ChannelKey* key = Find(*r, s.channel);
      if (!key) continue;
      statuses.push_back({{"business_id", key->business_id},
                          {"channel_id", key->channel_id},
                          {"pmid", s.provider_message_id},
                          {"status", s.status},
                          {"ts", Millis(s.ts_ms)},
                          {"error", Nullable(s.error)}});
    }
    for (const auto& w : p.watermarks) {
      const ChannelKey* key = Find(*r, w.channel);
      if (!key) continue;
      watermarks.push_back({{"business_id", key->business_id},
                            {"channel_id", key->channel_id},
                            {"contact", w.contact_external_id},
                            {"wm", w.watermark_ms}});
    }
    for (const auto& e : p.events) {
      const ChannelKey* key = Find(*r, e.channel);
      if (!key) continue;
      json data = json::parse(e.data_json, nullptr, false);
      if (data.is_discarded()) data = json::object();
      events.push_back({{"i", event_index++},
                        {"business_id", key->business_id},
                        {"channel_id", key->channel_id},
                        {"contact", e.contact_external_id},
                        {"kind", e.kind},
                        {"ts", Millis(e.ts_ms)},
                        {"data", std::move(data)},
                        {"referral", e.referral ? ReferralJson(*e.referral) : json(nullptr)}});
    }
  }
  if (!messages.empty()) b.messages_param = {{"archives", std::move(archives)}, {"messages", std::move(messages)}};
  // Bodies whose business got no message still need their archive row; when
  // a batch has no messages at all, every archive row goes this way.
  if (b.messages_param.is_null()) {
    for (auto& row : archives) archive_only.push_back(std::move(row));
  }
  if (!archive_only.empty()) b.archive_only_param = {{"archives", std::move(archive_only)}};
  if (!statuses.empty()) b.statuses_param = {{"statuses", std::move(statuses)}};
  if (!watermarks.empty()) b.watermarks_param = {{"watermarks", std::move(watermarks)}};
  if (!events.empty()) b.events_param = {{"events", std::move(events)}};
  return b;
}

}  // namespace sb::store
