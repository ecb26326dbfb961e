#pragma once
// A transaction on a pooled connection, with the named-statement helpers the
// repositories use. The only place above libpqxx itself that sees its types.
#include <pqxx/pqxx>

#include <optional>
#include <string>
#include <string_view>

#include "sb/store/repositories.hpp"

namespace sb::store {

/// How a statement failed, as far as the caller's next step goes.
enum class DbFailure {
  kConnectionLost,  // the connection is gone: reconnect, answer "unavailable"
  kTimeout,         // a statement or lock wait timed out: answer "unavailable"
  kRetryable,       // serialization failure, deadlock, a stale partition plan: run again
  kOther,           // anything else: the statement or its data is at fault
};

/// The one place that reads SQLSTATEs for the store.
inline DbFailure ClassifyFailure(const std::exception& e) {
  if (dynamic_cast<const pqxx::broken_connection*>(&e) || dynamic_cast<const pqxx::in_doubt_error*>(&e)) {
    return DbFailure::kConnectionLost;
  }
  const auto* sql = dynamic_cast<const pqxx::sql_error*>(&e);
  if (!sql) return DbFailure::kOther;
  const std::string& state = sql->sqlstate();
  // 08xxx connection exceptions; 57P01..57P03 server shutting down or starting.
  if (state.rfind("08", 0) == 0 || state.rfind("57P", 0) == 0) return DbFailure::kConnectionLost;
  if (state == "57014" || state == "55P03") return DbFailure::kTimeout;  // statement / lock timeout
  if (state == "40001" || state == "40P01") return DbFailure::kRetryable;
  // A batch planned just before an archive partition was attached routes
  // rows to the default partition; planned again, it routes them right.
  if (state == "23514" && std::string_view(sql->what()).find("partition constraint") != std::string_view::npos) {
    return DbFailure::kRetryable;
  }
  return DbFailure::kOther;
}

/// The text of a named statement (`queries/<group>/<name>.sql`, named
/// "<group>/<name>"); aborts on an unknown name (a build error, really).
const std::string& Sql(std::string_view name);

/// A text column that may be NULL.
inline std::optional<std::string> OptionalText(const pqxx::field& f) {
  if (f.is_null()) return std::nullopt;
  return f.as<std::string>();
}

/// A page from rows of (cursor, rendered json) fetched with one row more
/// than `limit`: a full extra row means a next page, starting after the
/// last kept row's cursor (an id, or a key such as an order reference).
inline Page ToPage(const pqxx::result& rows, int limit) {
  Page page;
  for (const auto& row : rows) {
    if (static_cast<int>(page.items.size()) == limit) {
      page.next_cursor = rows[static_cast<pqxx::result::size_type>(limit - 1)][0].as<std::string>();
      break;
    }
    page.items.push_back(row[1].as<std::string>());
  }
  return page;
}

class Session {
 public:
  explicit Session(pqxx::work& tx) : tx_(tx) {}

  template <class... Args>
  pqxx::result Exec(std::string_view name, Args&&... args) {
    return tx_.exec_params(Sql(name), std::forward<Args>(args)...);
  }
  pqxx::work& tx() { return tx_; }

 private:
  pqxx::work& tx_;
};

}  // namespace sb::store
