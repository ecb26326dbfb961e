#pragma once
// Recording an audit row inside the transaction of the change it records.
#include "sb/store/audit.hpp"
#include "session.hpp"

namespace sb::store {

/// Inserts `entry` (summary redacted) in the session's transaction. Call it
/// in the same `db_.Run` lambda as the set-up change; a failure rolls both
/// back. `created_json`, when given, is the rendered row the change
/// returned: its "id" fills an unset resource id (and business id).
void RecordAudit(Session& s, const AuditEntry& entry, const std::string* created_json = nullptr);

}  // namespace sb::store
