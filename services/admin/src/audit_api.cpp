#include "sb/admin/audit_api.hpp"

#include <nlohmann/json.hpp>

#include <limits>

#include "sb/admin/conversation_api.hpp"
#include "sb/common/http/json_body.hpp"

namespace sb::admin {

store::AuditEntry AuditEntryFor(const Principal& who, const http::Request& req, std::string action,
                                std::string resource_type, const nlohmann::json& summary) {
  store::AuditEntry entry;
  entry.business_id = who.business_id;
  switch (who.role) {
    case Principal::Role::kAdmin:
      entry.actor_type = "admin";
      break;
    case Principal::Role::kBusiness:
      entry.actor_type = "business_key";
      if (!who.key_fingerprint.empty()) entry.actor_id = who.key_fingerprint;
      break;
    case Principal::Role::kAgent:
      entry.actor_type = "agent";
      if (who.agent_id) entry.actor_id = std::to_string(*who.agent_id);
      break;
  }
  entry.action = std::move(action);
  entry.resource_type = std::move(resource_type);
  entry.summary_json = summary.is_object() ? summary.dump() : "{}";
  entry.request_id = req.request_id;
  return entry;
}

store::AuditEntry AuditEntryForPatch(const Principal& who, const http::Request& req, std::string resource_type,
                                     std::string resource_id, const nlohmann::json& params) {
  bool deactivate = params.value("active", true) == false;
  auto entry = AuditEntryFor(who, req, deactivate ? "deactivate" : "update", std::move(resource_type), params);
  entry.resource_id = std::move(resource_id);
  return entry;
}

boost::asio::awaitable<http::Response> AuditApi::List(http::Request& req) {
  Principal who = co_await auth_.RequireBusiness(req);
  auto before = http::QueryInt(req, "cursor", 1, std::numeric_limits<std::int64_t>::max());
  auto limit = static_cast<int>(http::QueryInt(req, "limit", 1, 200).value_or(50));
  co_return PageResponse(co_await audit_.List(who.business_id, before, limit));
}

}  // namespace sb::admin
