#include "ingest_batch.hpp"

#include <algorithm>

#include "sb/common/json/writer.hpp"

namespace sb::store {
namespace {

using json::Writer;

void WriteMillis(Writer& w, std::int64_t ms) {
  if (ms > 0) {
    w.Int(ms);
  } else {
    w.Null();
  }
}

void WriteReferral(Writer& w, const std::optional<gateway::Referral>& r) {
  if (!r) {
    w.Null();
    return;
  }
  w.BeginObject();
  w.Key("source").OptionalString(r->source).Key("ad_id").OptionalString(r->ad_id);
  w.Key("ctwa_clid").OptionalString(r->ctwa_clid).Key("ref").OptionalString(r->ref);
  if (r->headline) w.Key("headline").String(*r->headline);
  if (r->source_url) w.Key("source_url").String(*r->source_url);
  w.EndObject();
}

void WriteOrder(Writer& w, const std::optional<gateway::Order>& o) {
  if (!o) {
    w.Null();
    return;
  }
  w.BeginObject()
      .Key("catalog_id")
      .OptionalString(o->catalog_id)
      .Key("text")
      .OptionalString(o->text)
      .Key("items")
      .BeginArray();
  for (const auto& item : o->items) {
    w.BeginObject();
    w.Key("sku").String(item.sku).Key("quantity").Int(item.quantity);
    w.Key("price_cents").Int(item.price_cents).Key("currency").String(item.currency);
    w.EndObject();
  }
  w.EndArray().EndObject();
}

// Event data comes compact from the parser; PostgreSQL's jsonb refuses the
// \u0000 escape, so it becomes U+FFFD like every other NUL.
std::string SafeJson(std::string data) {
  for (auto pos = data.find("\\u0000"); pos != std::string::npos; pos = data.find("\\u0000", pos + 1)) {
    // An escape only when the backslash is not itself escaped: count the
    // run of backslashes ending at `pos`.
    std::size_t run = 0;
    while (run < pos && data[pos - run - 1] == '\\') ++run;
    if (run % 2 == 0) data.replace(pos, 6, "\\ufffd");
  }
  return data.empty() ? "{}" : data;
}

const ChannelKey* Find(const IngestRequest& r, const gateway::ChannelRef& ref) {
  for (const auto& [known, key] : r.channels) {
    if (known == ref) return &key;
  }
  return nullptr;
}

// The rows of one array, written as they come: "[{...},{...}]".
class Rows {
 public:
  Rows() : w_(text_) { w_.BeginArray(); }
  Rows(const Rows&) = delete;
  Rows& operator=(const Rows&) = delete;
  Writer& Add() {
    ++count_;
    return w_;
  }
  int count() const { return count_; }
  // "[rows]", or empty when there are none (the statement is then skipped).
  std::string Take() {
    if (count_ == 0) return {};
    w_.EndArray();
    return std::move(text_);
  }

 private:
  std::string text_;
  Writer w_;
  int count_ = 0;
};

}  // namespace

std::string MessageKey(std::int64_t business_id, std::int64_t channel_id, const std::string& provider_id) {
  return std::to_string(business_id) + ":" + std::to_string(channel_id) + ":" + provider_id;
}

IngestBatch BuildIngestBatch(const std::vector<const IngestRequest*>& requests) {
  Rows archives, archive_only, messages, statuses, watermarks, events;

  std::string bodies;
  std::int64_t body_offset = 0, body_length = 0;  // of the request being written
  auto write_archive = [&](Writer& w, const IngestRequest& r, std::int64_t business, int a) {
    w.BeginObject().Key("a").Int(a).Key("business_id").Int(business).Key("kind").String(gateway::ToString(r.kind));
    if (r.archived) {
      w.Key("id").Int(r.archived->id).Key("received_at").String(r.archived->received_at);
    } else {
      w.Key("off").Int(body_offset).Key("len").Int(body_length);
    }
    w.EndObject();
  };

  for (const IngestRequest* r : requests) {
    const auto& p = r->parsed;
    // The body travels once, raw, however many businesses' rows name it.
    body_offset = static_cast<std::int64_t>(bodies.size());
    body_length = r->archived ? 0 : static_cast<std::int64_t>(r->body.size());
    if (!r->archived) bodies += r->body;
    // One archive row per business the body concerns. A business that got
    // messages from it has its row inserted with them (they refer to it).
    std::vector<std::pair<std::int64_t, int>> archive_of;  // business -> "a", -1: archive only
    for (const auto& [ref, key] : r->channels) {
      auto business = key.business_id;
      if (std::any_of(archive_of.begin(), archive_of.end(), [&](auto& x) { return x.first == business; })) continue;
      bool has_messages = std::any_of(p.messages.begin(), p.messages.end(), [&](const auto& m) {
        const ChannelKey* k = Find(*r, m.channel);
        return k && k->business_id == business;
      });
      int a = has_messages ? archives.count() : -1;
      archive_of.emplace_back(business, a);
      write_archive(has_messages ? archives.Add() : archive_only.Add(), *r, business, a);
    }
    auto archive_index_of = [&](std::int64_t business) {
      for (auto& [b, a] : archive_of) {
        if (b == business) return a;
      }
      return -1;
    };
    for (const auto& m : p.messages) {
      const ChannelKey* key = Find(*r, m.channel);
      if (!key) continue;
      auto& w = messages.Add();
      w.BeginObject().Key("i").Int(messages.count()).Key("a").Int(archive_index_of(key->business_id));
      w.Key("business_id").Int(key->business_id).Key("channel_id").Int(key->channel_id);
      w.Key("contact").String(m.contact_external_id).Key("name").OptionalString(m.contact_name);
      w.Key("phone").OptionalString(m.contact_phone).Key("pmid").String(m.provider_message_id).Key("ts");
      WriteMillis(w, m.provider_ts_ms);
      w.Key("type").String(m.type).Key("text").OptionalString(m.text).Key("payload").OptionalString(m.payload);
      w.Key("media_id").OptionalString(m.media_id).Key("media_url").OptionalString(m.media_url).Key("referral");
      WriteReferral(w, m.referral);
      w.Key("order");
      WriteOrder(w, m.order);
      w.Key("reply_to").OptionalString(m.reply_to).EndObject();
    }
    for (const auto& s : p.statuses) {
      const ChannelKey* key = Find(*r, s.channel);
      if (!key) continue;
      auto& w = statuses.Add();
      w.BeginObject().Key("business_id").Int(key->business_id).Key("channel_id").Int(key->channel_id);
      w.Key("pmid").String(s.provider_message_id).Key("status").String(s.status).Key("ts");
      WriteMillis(w, s.ts_ms);
      w.Key("error").OptionalString(s.error).EndObject();
    }
    for (const auto& wm : p.watermarks) {
      const ChannelKey* key = Find(*r, wm.channel);
      if (!key) continue;
      auto& w = watermarks.Add();
      w.BeginObject().Key("business_id").Int(key->business_id).Key("channel_id").Int(key->channel_id);
      w.Key("contact").String(wm.contact_external_id).Key("wm").Int(wm.watermark_ms).EndObject();
    }
    for (const auto& e : p.events) {
      const ChannelKey* key = Find(*r, e.channel);
      if (!key) continue;
      auto& w = events.Add();
      w.BeginObject().Key("i").Int(events.count()).Key("business_id").Int(key->business_id);
      w.Key("channel_id").Int(key->channel_id).Key("contact").String(e.contact_external_id);
      w.Key("kind").String(e.kind).Key("ts");
      WriteMillis(w, e.ts_ms);
      w.Key("data").Raw(SafeJson(e.data_json)).Key("referral");
      WriteReferral(w, e.referral);
      w.EndObject();
    }
  }

  IngestBatch batch;
  batch.bodies = std::move(bodies);
  // Every archive row in `archives` belongs to a business that has a
  // message here, so the two are empty together.
  batch.archives = archives.Take();
  batch.messages = messages.Take();
  batch.archive_only = archive_only.Take();
  batch.statuses = statuses.Take();
  batch.watermarks = watermarks.Take();
  batch.events = events.Take();
  return batch;
}

}  // namespace sb::store
