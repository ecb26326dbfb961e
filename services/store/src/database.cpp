#include "sb/store/database.hpp"

#include <spdlog/spdlog.h>

#include <condition_variable>
#include <deque>
#include <mutex>
#include <stdexcept>
#include <thread>
#include <unordered_map>
#include <utility>
#include <vector>

#include "sb/common/async_bridge.hpp"
#include "sb_sql_files.hpp"
#include "session.hpp"

namespace sb::store {

namespace asio = boost::asio;
using Clock = std::chrono::steady_clock;

const std::string& Sql(std::string_view name) {
  static const auto* statements = [] {
    auto* map = new std::unordered_map<std::string, std::string>();
    for (const auto& [path, text] : embedded::kFiles) {
      constexpr std::string_view kPrefix = "queries/";
      if (path.substr(0, kPrefix.size()) != kPrefix) continue;
      std::string key(path.substr(kPrefix.size()));
      key.resize(key.size() - 4);  // ".sql"
      map->emplace(std::move(key), std::string(text));
    }
    return map;
  }();
  auto it = statements->find(std::string(name));
  if (it == statements->end()) {
    spdlog::critical("unknown SQL statement '{}'", name);
    std::abort();
  }
  return it->second;
}

bool PrepareSwitch::TurnOffFor(const std::exception& e, bool prepared, std::string_view pool) {
  const auto* sql = dynamic_cast<const pqxx::sql_error*>(&e);
  // 26000: no such prepared statement; 42P05: it exists already.
  if (!prepared || !sql || (sql->sqlstate() != "26000" && sql->sqlstate() != "42P05")) return false;
  if (!on_.exchange(false)) return true;
  spdlog::warn(
      "{}: a prepared statement did not stay on its connection ({}); statements run unprepared from now on "
      "(behind a transaction-pooling pgbouncer, set SWITCHBOARD_DB_PREPARE=off)",
      pool, sql->what());
  return true;
}

void Session::RunAfterCommit() noexcept {
  for (auto& f : after_commit_) {
    try {
      f();
    } catch (const std::exception& e) {
      spdlog::error("after a commit: {}", e.what());
    }
  }
}

std::string StatementTimeoutPrefix(std::chrono::milliseconds statement_timeout) {
  return "SET LOCAL statement_timeout = " + std::to_string(statement_timeout.count()) + "; ";
}

std::string WithLiterals(std::string_view sql, const std::vector<std::string>& literals) {
  std::string out;
  out.reserve(sql.size() + 16 * literals.size());
  for (std::size_t i = 0; i < sql.size();) {
    if (sql.substr(i, 2) == "--") {
      // A comment is copied as it is: a value written into it could end
      // the line and run as SQL.
      auto eol = sql.find('\n', i);
      if (eol == std::string_view::npos) eol = sql.size();
      out += sql.substr(i, eol - i);
      i = eol;
      continue;
    }
    if (sql[i] != '$' || i + 1 == sql.size() || sql[i + 1] < '0' || sql[i + 1] > '9') {
      out += sql[i++];
      continue;
    }
    std::size_t end = i + 1;
    std::size_t n = 0;
    while (end < sql.size() && sql[end] >= '0' && sql[end] <= '9')
      n = n * 10 + static_cast<std::size_t>(sql[end++] - '0');
    if (n == 0 || n > literals.size()) {
      throw std::invalid_argument("statement names $" + std::to_string(n) + " but has " +
                                  std::to_string(literals.size()) + " values");
    }
    out += literals[n - 1];
    i = end;
  }
  return out;
}

TransactionBlock::TransactionBlock(pqxx::connection& conn, const std::string& name,
                                   std::chrono::milliseconds statement_timeout)
    : conn_(conn), opening_("BEGIN; " + StatementTimeoutPrefix(statement_timeout)) {
  tx_.emplace(conn, name);
}

TransactionBlock::~TransactionBlock() {
  if (open_) RollBack();
}

std::string TransactionBlock::TakeOpening() {
  open_ = true;  // BEGIN may succeed and what follows it fail
  return std::exchange(opening_, {});
}

void TransactionBlock::Open() {
  if (opening_.empty()) return;
  // On failure the block stays open for its destructor to roll back: the
  // Session that asked holds a reference to tx_ until then.
  tx_->exec0(TakeOpening());
}

void TransactionBlock::Commit() {
  opening_.clear();  // a block that never began has nothing to commit
  if (!open_) return;
  open_ = false;  // a COMMIT that fails ends the block as well
  tx_->exec0("COMMIT");
}

void TransactionBlock::RollBack() noexcept {
  open_ = false;
  // After a failed statement libpqxx refuses further ones on that object:
  // the ROLLBACK goes through a new one.
  tx_.reset();
  try {
    if (conn_.is_open()) pqxx::nontransaction(conn_).exec0("ROLLBACK");
  } catch (const std::exception&) {
    conn_.disconnect();  // in an unknown state: its owner opens a new one
  }
}

std::string WithConnectionDefaults(std::string url, std::string_view application_name) {
  auto add = [&url](std::string_view key, std::string_view value) {
    if (url.find(std::string(key) + "=") != std::string::npos) return;
    url += url.find('?') == std::string::npos ? '?' : '&';
    url += std::string(key) + "=" + std::string(value);
  };
  if (url.rfind("postgres", 0) == 0) {
    add("connect_timeout", "2");
    add("keepalives_idle", "10");
    add("keepalives_interval", "3");
    add("keepalives_count", "3");
    add("application_name", application_name);
  }
  return url;
}

namespace {

struct Job {
  std::string name;
  std::function<void(Session&)> work;
  std::function<void(std::exception_ptr)> done;
  Clock::time_point deadline;
  bool one_trip = false;  // RunInOneTrip
};

}  // namespace

class Database::Impl {
 public:
  explicit Impl(DbOptions options) : options_(std::move(options)) {
    options_.url = WithConnectionDefaults(options_.url);
    for (int i = 0; i < options_.pool_size; ++i) threads_.emplace_back([this] { Loop(); });
  }

  ~Impl() { Stop(); }

  void Stop() {
    {
      std::lock_guard lock(mu_);
      if (stopping_) return;
      stopping_ = true;
    }
    cv_.notify_all();
    for (auto& t : threads_) t.join();
  }

  void Enqueue(Job job) {
    if (!TryEnqueue(job)) job.done(std::make_exception_ptr(Unavailable("database queue is full")));
  }

  /// False, leaving `job` as it was, when the queue is full or stopping.
  bool TryEnqueue(Job& job) {
    {
      std::unique_lock lock(mu_);
      if (stopping_ || queue_.size() >= options_.max_queue) return false;
      queue_.push_back(std::move(job));
    }
    cv_.notify_one();
    return true;
  }

  Clock::time_point LastSuccess() const { return Clock::time_point(Clock::duration(last_success_.load())); }
  std::size_t InUse() const { return in_use_.load(); }
  std::size_t Queued() const {
    std::lock_guard lock(mu_);
    return queue_.size();
  }

  const DbOptions& options() const { return options_; }

 private:
  void Loop() {
    std::unique_ptr<pqxx::connection> conn;
    for (;;) {
      Job job;
      {
        std::unique_lock lock(mu_);
        cv_.wait(lock, [&] { return stopping_ || !queue_.empty(); });
        if (queue_.empty()) return;  // stopping and drained
        job = std::move(queue_.front());
        queue_.pop_front();
      }
      if (Clock::now() > job.deadline) {
        job.done(std::make_exception_ptr(Unavailable("timed out waiting for a database connection")));
        continue;
      }
      ++in_use_;
      job.done(Execute(conn, job));
      --in_use_;
    }
  }

  std::exception_ptr Execute(std::unique_ptr<pqxx::connection>& conn, Job& job) {
    const bool prepared = prepare_.on();
    try {
      if (!conn || !conn->is_open()) conn = std::make_unique<pqxx::connection>(options_.url);
      if (job.one_trip) {
        // No BEGIN: the query's statements form one implicit transaction.
        pqxx::nontransaction tx(*conn, job.name);
        Session session(tx, prepared, StatementTimeoutPrefix(options_.statement_timeout));
        job.work(session);
        session.RunAfterCommit();
      } else {
        TransactionBlock block(*conn, job.name, options_.statement_timeout);
        Session session(block, prepared);
        job.work(session);
        block.Commit();
        session.RunAfterCommit();
      }
      last_success_.store(Clock::now().time_since_epoch().count());
      return nullptr;
    } catch (const pqxx::unique_violation& e) {
      return std::make_exception_ptr(Conflict(e.what()));
    } catch (const std::exception& e) {
      if (prepare_.TurnOffFor(e, prepared, options_.name)) {
        return std::make_exception_ptr(Unavailable("database statement not prepared on this connection"));
      }
      switch (ClassifyFailure(e)) {
        case DbFailure::kConnectionLost:
          conn.reset();
          spdlog::warn("database: {} failed: connection lost: {}", job.name, e.what());
          return std::make_exception_ptr(Unavailable("database connection failed"));
        case DbFailure::kTimeout:
          if (const auto* sql = dynamic_cast<const pqxx::sql_error*>(&e); sql && sql->sqlstate() == "55P03") {
            return std::make_exception_ptr(LockTimeout("database lock wait timed out"));
          }
          return std::make_exception_ptr(Timeout("database statement timed out"));
        case DbFailure::kRetryable:
        case DbFailure::kOther:
          break;
      }
      if (dynamic_cast<const pqxx::failure*>(&e)) {
        spdlog::error("database: {} failed: {}", job.name, e.what());
        return std::make_exception_ptr(std::runtime_error(std::string("database error in ") + job.name));
      }
      return std::current_exception();  // the work's own exception (HttpError, ...)
    }
  }

  DbOptions options_;
  PrepareSwitch prepare_{options_.prepare};
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::deque<Job> queue_;
  bool stopping_ = false;
  std::vector<std::thread> threads_;
  std::atomic<Clock::rep> last_success_{0};
  std::atomic<std::size_t> in_use_{0};
};

Database::Database(DbOptions options) : impl_(std::make_unique<Impl>(std::move(options))) {}
Database::~Database() = default;

asio::awaitable<void> Database::Run(std::string_view name, std::function<void(Session&)> work) {
  return RunJob(name, std::move(work), false);
}

asio::awaitable<void> Database::RunInOneTrip(std::string_view name, std::function<void(Session&)> work) {
  return RunJob(name, std::move(work), true);
}

asio::awaitable<void> Database::RunJob(std::string_view name, std::function<void(Session&)> work, bool one_trip) {
  auto deadline = Clock::now() + impl_->options().queue_timeout;
  co_await async::AwaitCompletion([&](async::Completion done) {
    impl_->Enqueue(Job{std::string(name), std::move(work), std::move(done), deadline, one_trip});
  });
}

bool Database::PostInOneTrip(std::string_view name, std::function<void(Session&)> work,
                             std::function<void(std::exception_ptr)> done) {
  Job job{std::string(name), std::move(work), std::move(done), Clock::now() + impl_->options().queue_timeout, true};
  return impl_->TryEnqueue(job);
}

void Database::RunSync(std::string_view name, const std::function<void(Session&)>& work) {
  RunSyncJob(name, work, false);
}

void Database::RunSyncInOneTrip(std::string_view name, const std::function<void(Session&)>& work) {
  RunSyncJob(name, work, true);
}

void Database::RunSyncJob(std::string_view name, const std::function<void(Session&)>& work, bool one_trip) {
  std::mutex mu;
  std::condition_variable cv;
  bool finished = false;
  std::exception_ptr error;
  impl_->Enqueue(Job{std::string(name), work,
                     [&](std::exception_ptr e) {
                       std::lock_guard lock(mu);
                       error = std::move(e);
                       finished = true;
                       cv.notify_one();
                     },
                     Clock::now() + impl_->options().queue_timeout, one_trip});
  std::unique_lock lock(mu);
  cv.wait(lock, [&] { return finished; });
  if (error) std::rethrow_exception(error);
}

const DbOptions& Database::Options() const { return impl_->options(); }
Clock::time_point Database::LastSuccess() const { return impl_->LastSuccess(); }
std::size_t Database::InUse() const { return impl_->InUse(); }
std::size_t Database::Queued() const { return impl_->Queued(); }
void Database::Stop() { impl_->Stop(); }

}  // namespace sb::store
