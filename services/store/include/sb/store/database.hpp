#pragma once
/// The PostgreSQL connection pool: a few threads, each with its own
/// connection, in front of them a bounded queue. The event loop hands work
/// over with `co_await db.Run(...)` and never blocks on the database.
#include <boost/asio/awaitable.hpp>

#include <atomic>
#include <chrono>
#include <exception>
#include <functional>
#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>

namespace sb::store {

/// The database cannot be reached, or answered too late: retry later (503).
class Unavailable : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

/// A statement or a lock wait ran past its timeout: the database is there,
/// this work took too long (503 like Unavailable).
class Timeout : public Unavailable {
 public:
  using Unavailable::Unavailable;
};

/// A lock wait ran past lock_timeout: another transaction holds a row this
/// work needs.
class LockTimeout : public Timeout {
 public:
  using Timeout::Timeout;
};

/// A unique key already exists (409 where the API says so).
class Conflict : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

class Session;  // a transaction on one pooled connection; store-internal

struct DbOptions {
  std::string url;
  int pool_size = 4;
  std::size_t max_queue = 2048;
  std::chrono::milliseconds queue_timeout{3000};      // waiting for a connection
  std::chrono::milliseconds statement_timeout{5000};  // per transaction
  // Each statement is prepared once per connection and then only bound and
  // run (no parse and plan per call). Off for a transaction-pooling
  // pgbouncer (before 1.21), which cannot keep a prepared statement.
  bool prepare = true;
  std::string name = "database";  // in log lines about the pool
};

/// libpq URL with connect_timeout and TCP keepalives added unless present, so
/// a dead server is noticed in seconds rather than minutes; application_name
/// (unless present) tells an operator's pg_stat_activity who is who.
std::string WithConnectionDefaults(std::string url, std::string_view application_name = "switchboard");

class Database {
 public:
  explicit Database(DbOptions options);
  ~Database();
  Database(const Database&) = delete;
  Database& operator=(const Database&) = delete;

  /// Runs `work` in one transaction on a pool thread and resumes the caller
  /// on its own executor. Commits when `work` returns; rolls back and
  /// rethrows when it throws. Throws Unavailable when the queue is full, the
  /// wait passes queue_timeout, or the connection fails; Conflict on a
  /// unique violation. `name` labels logs and metrics.
  boost::asio::awaitable<void> Run(std::string_view name, std::function<void(Session&)> work);

  /// The same, blocking the calling thread (for CLI commands and start-up).
  void RunSync(std::string_view name, const std::function<void(Session&)>& work);

  /// Runs `work`, which runs exactly one statement through
  /// Session::ExecInOneTrip, in a transaction of its own sent together with
  /// its statement timeout as one query: one round trip where Run takes
  /// three (BEGIN and the timeout, the statement, COMMIT). Fails as Run does.
  boost::asio::awaitable<void> RunInOneTrip(std::string_view name, std::function<void(Session&)> work);
  /// The same, without a coroutine: `done` is called on a pool thread once
  /// the work committed (with nullptr) or failed (with what Run would throw).
  /// False, and `done` never called, when the queue is full or the pool
  /// stopping.
  bool PostInOneTrip(std::string_view name, std::function<void(Session&)> work,
                     std::function<void(std::exception_ptr)> done);
  /// The same, blocking the calling thread.
  void RunSyncInOneTrip(std::string_view name, const std::function<void(Session&)>& work);

  /// What the pool was opened with (URL defaults added).
  const DbOptions& Options() const;

  /// When a statement last succeeded (steady clock); for /readyz.
  std::chrono::steady_clock::time_point LastSuccess() const;
  std::size_t InUse() const;
  std::size_t Queued() const;

  /// Finishes queued work and joins the threads.
  void Stop();

  class Impl;

 private:
  boost::asio::awaitable<void> RunJob(std::string_view name, std::function<void(Session&)> work, bool one_trip);
  void RunSyncJob(std::string_view name, const std::function<void(Session&)>& work, bool one_trip);

  std::unique_ptr<Impl> impl_;
};

}  // namespace sb::store
