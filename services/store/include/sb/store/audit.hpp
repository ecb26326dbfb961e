#pragma once
/// The audit log of set-up changes: who (admin, a business key named by its
/// fingerprint, an agent id; never a token), what (action, resource type and
/// id, a redacted summary) and when.
///
/// Recording a change: build an AuditEntry where the caller is known (the
/// API layer: admin::AuditEntryFor), hand it to the repository method that
/// makes the change, and there call `RecordAudit(session, entry)` (from the
/// store-internal "audit_record.hpp") inside the same `db_.Run` as the change,
/// so both commit or neither does.
#include <boost/asio/awaitable.hpp>

#include <cstdint>
#include <optional>
#include <string>

#include "sb/store/database.hpp"
#include "sb/store/repositories.hpp"

namespace sb::store {

struct AuditEntry {
  std::int64_t business_id = 0;            // 0: the repository fills it in (a business being created)
  std::string actor_type;                  // admin | business_key | agent
  std::optional<std::string> actor_id;     // agent id, or the business key's fingerprint
  std::string action;                      // snake_case verb: create, update, replace, delete, rotate, ...
  std::string resource_type;               // snake_case noun: business, channel, queue, agent, routing, ...
  std::optional<std::string> resource_id;  // unset: the repository fills in the created row's id
  std::string summary_json = "{}";         // a JSON object; secrets in it are redacted when recorded
  std::string request_id;
};

/// `summary_json` with the value of every member whose name says it holds a
/// secret (secret, token, password, api_key, credential, authorization, in
/// any case, at any depth) replaced by "[redacted]". Invalid JSON becomes {}.
std::string RedactSummary(const std::string& summary_json);

class AuditRepository {
 public:
  explicit AuditRepository(Database& db) : db_(db) {}
  /// The business's audit rows, newest first, before the id cursor.
  boost::asio::awaitable<Page> List(std::int64_t business_id, std::optional<std::int64_t> before, int limit);

 private:
  Database& db_;
};

}  // namespace sb::store
