#include "sb/store/lifecycle_repository.hpp"

#include <nlohmann/json.hpp>

#include "audit_record.hpp"
#include "session.hpp"

namespace sb::store {

namespace {

struct Statements {
  std::string_view page, get, patch;
};

Statements For(SetupKind kind) {
  switch (kind) {
    case SetupKind::kQueues:
      return {"queues/page", "queues/get", "queues/patch"};
    case SetupKind::kAgents:
      return {"agents/page", "agents/get", "agents/patch"};
    case SetupKind::kOrders:
      return {"orders/page", "orders/get", "orders/patch"};
    case SetupKind::kProducts:
      return {"products/page", "products/get", "products/patch"};
    case SetupKind::kAds:
      return {"ads/page", "ads/get", "ads/patch"};
  }
  std::abort();  // every kind is listed above
}

std::string Id(std::int64_t v) { return std::to_string(v); }

std::optional<std::string> FirstValue(const pqxx::result& rows) {
  if (rows.empty() || rows[0][0].is_null()) return std::nullopt;
  return rows[0][0].as<std::string>();
}

// Offline, tokens revoked (every process told), open conversations back to
// waiting; false when the agent is not the business's.
bool Deactivate(Session& s, std::int64_t business_id, std::int64_t agent_id) {
  if (s.Exec("agents/deactivate", Id(business_id), Id(agent_id)).empty()) return false;
  s.Exec("agents/release_conversations", Id(business_id), Id(agent_id));
  s.Exec("tokens/notify_agent_revoked", Id(agent_id));
  return true;
}

}  // namespace

boost::asio::awaitable<Page> LifecycleRepository::List(SetupKind kind, const PageQuery& q) {
  auto statement = For(kind).page;
  auto param = nlohmann::json{
      {"business_id", q.business_id},
      {"after", q.after ? nlohmann::json(*q.after) : nlohmann::json()},
      {"limit",
       q.limit}}.dump();
  Page page;
  co_await db_.Run(statement, [&](Session& s) { page = ToPage(s.Exec(statement, param), q.limit); });
  co_return page;
}

boost::asio::awaitable<std::optional<std::string>> LifecycleRepository::Get(SetupKind kind, std::int64_t business_id,
                                                                            const std::string& key) {
  auto statement = For(kind).get;
  std::optional<std::string> out;
  co_await db_.Run(statement, [&](Session& s) { out = FirstValue(s.Exec(statement, Id(business_id), key)); });
  co_return out;
}

boost::asio::awaitable<std::optional<std::string>> LifecycleRepository::Patch(SetupKind kind,
                                                                              const std::string& params_json,
                                                                              const AuditEntry& audit) {
  auto statement = For(kind).patch;
  std::optional<std::string> out;
  co_await db_.Run(statement, [&](Session& s) {
    out = FirstValue(s.Exec(statement, params_json));
    if (out) RecordAudit(s, audit);
  });
  co_return out;
}

boost::asio::awaitable<std::optional<std::string>> LifecycleRepository::PatchAgent(
    const std::string& params_json, const std::optional<std::string>& queue_ids_json, bool deactivate,
    const AuditEntry& audit) {
  std::optional<std::string> out;
  co_await db_.Run("agents/patch", [&](Session& s) {
    auto found = s.Exec("agents/patch", params_json);
    if (found.empty()) return;
    auto business = nlohmann::json::parse(params_json).at("business_id").get<std::int64_t>();
    auto id = found[0][0].as<std::int64_t>();
    if (queue_ids_json) s.Exec("agents/set_queues", Id(business), Id(id), *queue_ids_json);
    if (deactivate) Deactivate(s, business, id);
    out = FirstValue(s.Exec("agents/get", Id(business), Id(id)));
    RecordAudit(s, audit);
  });
  co_return out;
}

boost::asio::awaitable<std::optional<std::string>> LifecycleRepository::DeactivateAgent(std::int64_t business_id,
                                                                                        std::int64_t agent_id,
                                                                                        const AuditEntry& audit) {
  std::optional<std::string> out;
  co_await db_.Run("agents/deactivate", [&](Session& s) {
    if (!Deactivate(s, business_id, agent_id)) return;
    out = FirstValue(s.Exec("agents/get", Id(business_id), Id(agent_id)));
    RecordAudit(s, audit);
  });
  co_return out;
}

boost::asio::awaitable<bool> LifecycleRepository::IsDefaultQueue(std::int64_t business_id, std::int64_t queue_id) {
  bool is_default = false;
  co_await db_.Run("queues/is_default", [&](Session& s) {
    is_default = !s.Exec("queues/is_default", Id(business_id), Id(queue_id)).empty();
  });
  co_return is_default;
}

boost::asio::awaitable<std::string> LifecycleRepository::RotateBusinessKey(std::int64_t business_id,
                                                                           const std::string& token_hash_hex,
                                                                           int grace_s, const AuditEntry& audit) {
  std::string out;
  co_await db_.Run("tokens/rotate_business", [&](Session& s) {
    out = s.Exec("tokens/rotate_business", Id(business_id), token_hash_hex, std::to_string(grace_s))[0][0]
              .as<std::string>();
    RecordAudit(s, audit);
  });
  co_return out;
}

boost::asio::awaitable<bool> LifecycleRepository::RotateAgentToken(std::int64_t business_id, std::int64_t agent_id,
                                                                   const std::string& token_hash_hex,
                                                                   const AuditEntry& audit) {
  bool rotated = false;
  co_await db_.Run("tokens/rotate_agent", [&](Session& s) {
    rotated = !s.Exec("tokens/rotate_agent", Id(business_id), Id(agent_id), token_hash_hex).empty();
    if (rotated) RecordAudit(s, audit);
  });
  co_return rotated;
}

boost::asio::awaitable<std::optional<std::string>> LifecycleRepository::EraseContact(std::int64_t business_id,
                                                                                     std::int64_t contact_id,
                                                                                     const AuditEntry& audit) {
  std::optional<std::string> out;
  co_await db_.Run("contacts/erase", [&](Session& s) {
    out = FirstValue(s.Exec("contacts/erase", Id(business_id), Id(contact_id)));
    if (!out) return;
    AuditEntry entry = audit;
    entry.summary_json = *out;
    RecordAudit(s, entry);
  });
  co_return out;
}

boost::asio::awaitable<std::vector<DeletionCandidate>> LifecycleRepository::DeletionCandidates(
    const std::string& user_id) {
  std::vector<DeletionCandidate> out;
  co_await db_.Run("data_deletion/candidates", [&](Session& s) {
    for (const auto& row : s.Exec("data_deletion/candidates", user_id)) {
      DeletionCandidate c;
      c.business_id = row[0].as<std::int64_t>();
      c.channel_id = row[1].as<std::int64_t>();
      c.app_secret_enc_hex = row[2].as<std::string>();
      c.contact_ids = nlohmann::json::parse(row[3].as<std::string>()).get<std::vector<std::int64_t>>();
      out.push_back(std::move(c));
    }
  });
  co_return out;
}

boost::asio::awaitable<int> LifecycleRepository::EraseForDataDeletion(const std::vector<ContactErasure>& contacts,
                                                                      const std::string& confirmation_code) {
  int erased = 0;
  co_await db_.Run("data_deletion/record", [&](Session& s) {
    erased = 0;
    for (const auto& c : contacts) {
      auto counts = FirstValue(s.Exec("contacts/erase", Id(c.business_id), Id(c.contact_id)));
      if (!counts) continue;
      ++erased;
      AuditEntry entry;
      entry.business_id = c.business_id;
      entry.actor_type = "meta";
      entry.action = "erase";
      entry.resource_type = "contact";
      entry.resource_id = Id(c.contact_id);
      auto summary = nlohmann::json::parse(*counts);
      summary["confirmation_code"] = confirmation_code;
      entry.summary_json = summary.dump();
      RecordAudit(s, entry);
    }
    s.Exec("data_deletion/record", confirmation_code, std::to_string(erased));
  });
  co_return erased;
}

boost::asio::awaitable<std::optional<std::string>> LifecycleRepository::DataDeletionStatus(
    const std::string& confirmation_code) {
  std::optional<std::string> out;
  co_await db_.Run("data_deletion/status",
                   [&](Session& s) { out = FirstValue(s.Exec("data_deletion/status", confirmation_code)); });
  co_return out;
}

}  // namespace sb::store
