#include <nlohmann/json.hpp>

#include <algorithm>
#include <array>
#include <cctype>
#include <stdexcept>

#include "audit_record.hpp"

namespace sb::store {

namespace {

bool NamesSecret(std::string key) {
  std::transform(key.begin(), key.end(), key.begin(), [](unsigned char c) { return std::tolower(c); });
  static constexpr std::array<std::string_view, 6> kWords = {"secret",  "token",      "password",
                                                             "api_key", "credential", "authorization"};
  return std::any_of(kWords.begin(), kWords.end(),
                     [&](std::string_view w) { return key.find(w) != std::string::npos; });
}

void Redact(nlohmann::json& node) {
  if (node.is_object()) {
    for (auto& [key, value] : node.items()) {
      if (NamesSecret(key) && !value.is_null()) {
        value = "[redacted]";
      } else {
        Redact(value);
      }
    }
  } else if (node.is_array()) {
    for (auto& item : node) Redact(item);
  }
}

template <class T>
nlohmann::json Nullable(const std::optional<T>& v) {
  return v ? nlohmann::json(*v) : nlohmann::json();
}

// The summary as recorded: a JSON object, secrets redacted.
nlohmann::json Redacted(const std::string& summary_json) {
  auto summary = nlohmann::json::parse(summary_json, nullptr, false);
  if (!summary.is_object()) return nlohmann::json::object();
  Redact(summary);
  return summary;
}

}  // namespace

std::string RedactSummary(const std::string& summary_json) { return Redacted(summary_json).dump(); }

void RecordAudit(Session& s, const AuditEntry& entry, const std::string* created_json) {
  std::int64_t business_id = entry.business_id;
  std::optional<std::string> resource_id = entry.resource_id;
  if (created_json && (!resource_id || business_id == 0)) {
    auto created = nlohmann::json::parse(*created_json, nullptr, false);
    if (created.is_object() && created.contains("id") && created["id"].is_number_integer()) {
      auto id = created["id"].get<std::int64_t>();
      if (!resource_id) resource_id = std::to_string(id);
      if (business_id == 0 && entry.resource_type == "business") business_id = id;
    }
  }
  // A row that names no business cannot be read by anyone: a programming
  // error, not input.
  if (business_id <= 0) throw std::logic_error("audit entry for '" + entry.action + "' names no business");
  auto row =
      nlohmann::json{{"business_id", business_id},
                     {"actor_type", entry.actor_type},
                     {"actor_id", Nullable(entry.actor_id)},
                     {"action", entry.action},
                     {"resource_type", entry.resource_type},
                     {"resource_id", Nullable(resource_id)},
                     {"summary", Redacted(entry.summary_json)},
                     {"request_id", entry.request_id.empty() ? nlohmann::json() : nlohmann::json(entry.request_id)}};
  s.Exec("audit/record", row.dump());
}

boost::asio::awaitable<Page> AuditRepository::List(std::int64_t business_id, std::optional<std::int64_t> before,
                                                   int limit) {
  auto param = nlohmann::json{{"business_id", business_id}, {"before", Nullable(before)}, {"limit", limit}}.dump();
  Page page;
  co_await db_.Run("audit/list", [&](Session& s) { page = ToPage(s.Exec("audit/list", param), limit); });
  co_return page;
}

}  // namespace sb::store
