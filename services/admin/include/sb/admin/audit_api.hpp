#pragma once
/// The audit log of set-up changes: GET /v1/audit, and AuditEntryFor, which
/// every set-up handler uses to say who made its change.
#include <boost/asio/awaitable.hpp>
#include <nlohmann/json_fwd.hpp>

#include <string>

#include "sb/admin/authenticator.hpp"
#include "sb/common/http/message.hpp"
#include "sb/store/audit.hpp"

namespace sb::admin {

/// The audit entry of a change `who` makes with `req`: actor (admin, the
/// business key's fingerprint, or the agent id; never the token), request
/// id, business. `summary` is a JSON object describing the change; members
/// naming secrets are redacted when recorded, but leave them out anyway.
/// Pass the entry to the repository method that makes the change.
store::AuditEntry AuditEntryFor(const Principal& who, const http::Request& req, std::string action,
                                std::string resource_type, const nlohmann::json& summary);
/// The audit entry of a PATCH or DELETE that applies `params` to resource
/// `resource_id`: action "deactivate" when it sets active to false, else
/// "update"; `params` is the summary.
store::AuditEntry AuditEntryForPatch(const Principal& who, const http::Request& req, std::string resource_type,
                                     std::string resource_id, const nlohmann::json& params);

class AuditApi {
 public:
  AuditApi(Authenticator& auth, store::AuditRepository& audit) : auth_(auth), audit_(audit) {}

  /// GET /v1/audit?limit=&cursor=: the business's changes, newest first.
  boost::asio::awaitable<http::Response> List(http::Request& req);

 private:
  Authenticator& auth_;
  store::AuditRepository& audit_;
};

}  // namespace sb::admin
