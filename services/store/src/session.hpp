#pragma once
// A transaction on a pooled connection, with the named-statement helpers the
// repositories use. The only place above libpqxx itself that sees its types.
#include <pqxx/pqxx>

#include <atomic>
#include <chrono>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

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

/// Whether a pool prepares its statements: on as configured until a
/// prepared statement turns out missing from, or already on, the server
/// connection (a transaction-pooling pgbouncer hands each transaction
/// whichever server connection is free), then off for good, said once.
class PrepareSwitch {
 public:
  explicit PrepareSwitch(bool on) : on_(on) {}
  bool on() const { return on_.load(std::memory_order_relaxed); }

  /// True when `e`, from a transaction that prepared its statements, is
  /// such a failure; turns preparing off (several transactions may meet it
  /// at once: each gets true, the first one says so).
  bool TurnOffFor(const std::exception& e, bool prepared, std::string_view pool);

 private:
  std::atomic<bool> on_;
};

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

/// "SET LOCAL statement_timeout = N; ": sent ahead of a transaction's first
/// statement in the same query.
std::string StatementTimeoutPrefix(std::chrono::milliseconds statement_timeout);

/// `sql` with each parameter $n replaced by literals[n - 1] (quoted by the
/// caller). Statement files are written so that `$` followed by a digit is
/// always a parameter. Throws std::invalid_argument for a $n without value.
std::string WithLiterals(std::string_view sql, const std::vector<std::string>& literals);

/// A transaction block begun together with its statement timeout, in one
/// round trip: libpqxx's transaction classes send BEGIN on their own, and a
/// round trip costs about 80 µs of a short pooled transaction here (context
/// switches on both sides included). Nothing is sent until the block's first
/// statement: a Session sends BEGIN and the timeout ahead of a one-trip
/// statement in the same query (one round trip fewer again), or alone before
/// any other. Rolled back when destroyed uncommitted.
class TransactionBlock {
 public:
  TransactionBlock(pqxx::connection& conn, const std::string& name, std::chrono::milliseconds statement_timeout);
  ~TransactionBlock();
  TransactionBlock(const TransactionBlock&) = delete;
  TransactionBlock& operator=(const TransactionBlock&) = delete;

  /// The transaction, begun first if it was not.
  pqxx::transaction_base& tx() {
    Open();
    return *tx_;
  }
  /// COMMIT; nothing to send when no statement ever ran in the block.
  void Commit();

 private:
  friend class Session;
  /// Sends BEGIN and the timeout alone, unless they went already.
  void Open();
  /// BEGIN and the timeout ("BEGIN; SET LOCAL ...; ") for the caller to send
  /// ahead of its first statement, the block open from then on; empty once
  /// they were sent or taken.
  std::string TakeOpening();
  void RollBack() noexcept;

  pqxx::connection& conn_;
  std::optional<pqxx::nontransaction> tx_;
  std::string opening_;
  bool open_ = false;
};

class Session {
 public:
  /// With `prepare`, each named statement is prepared on the connection the
  /// first time it runs there and only bound and executed after that.
  explicit Session(pqxx::transaction_base& tx, bool prepare = false, std::string one_trip_prefix = {})
      : tx_(tx), prepare_(prepare), one_trip_prefix_(std::move(one_trip_prefix)) {}
  /// In `block`, which begins with the session's first statement.
  Session(TransactionBlock& block, bool prepare) : tx_(*block.tx_), prepare_(prepare), block_(&block) {}

  template <class... Args>
  pqxx::result Exec(std::string_view name, Args&&... args) {
    if (block_) block_->Open();
    if (!prepare_ || PlannedEachCall(name)) return tx_.exec_params(Sql(name), std::forward<Args>(args)...);
    return tx_.exec_prepared(Prepared(name), std::forward<Args>(args)...);
  }
  pqxx::transaction_base& tx() {
    if (block_) block_->Open();
    return tx_;
  }

  /// Runs named statement `name` with `args` written into its text as
  /// quoted literals, as one simple query behind the prefix
  /// Database::RunInOneTrip gives (its statement timeout), or as a
  /// transaction block's first statement behind its BEGIN; not prepared.
  template <class... Args>
  pqxx::result ExecInOneTrip(std::string_view name, const Args&... args) {
    return ExecInOneTripAfter("", name, args...);
  }
  /// The same, with `first` (statements without results, each ending in
  /// "; ", such as "SAVEPOINT x; ") sent ahead of it in the same query.
  template <class... Args>
  pqxx::result ExecInOneTripAfter(std::string_view first, std::string_view name, const Args&... args) {
    std::string statement = std::string(first) + WithLiterals(Sql(name), {Literal(args)...});
    std::string opening = block_ ? block_->TakeOpening() : one_trip_prefix_;
    return tx_.exec(opening + statement);
  }

  /// Runs `f` after this transaction commits (never when it fails).
  void AfterCommit(std::function<void()> f) { after_commit_.push_back(std::move(f)); }
  /// The transaction committed: whatever a hook does, it stays committed.
  void RunAfterCommit() noexcept;

  /// The metrics statements read a range of hours the caller picks, under
  /// planner settings their transaction sets: planned for each call, never
  /// from a plan kept for another range.
  static bool PlannedEachCall(std::string_view name) { return name.starts_with("metrics/"); }

 private:
  template <class T>
  std::string Literal(const std::optional<T>& value) {
    return value ? Literal(*value) : std::string("NULL");
  }
  template <class T>
  std::string Literal(const T& value) {
    // Written out rather than with pqxx's quote(), whose inlined
    // concatenation g++ 12 misreads as an overflow (-Wstringop-overflow).
    std::string out(1, '\'');
    if constexpr (std::is_integral_v<T>) {
      out += std::to_string(value);
    } else {
      out += tx_.esc(std::string(value));
    }
    out += '\'';
    return out;
  }

  /// Defines statement `name` on this connection (libpqxx sends it to the
  /// server on first use; defining it again with the same text is a no-op).
  std::string Prepared(std::string_view name) {
    std::string key(name);
    tx_.conn().prepare(key, Sql(name));
    return key;
  }

  pqxx::transaction_base& tx_;
  bool prepare_;
  std::string one_trip_prefix_;
  TransactionBlock* block_ = nullptr;
  std::vector<std::function<void()>> after_commit_;
};

}  // namespace sb::store
