#include "sb/store/group_commit_writer.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <thread>
#include <unordered_map>

#include "ingest_batch.hpp"
#include "sb/common/async_bridge.hpp"
#include "sb/common/metrics.hpp"
#include "session.hpp"

namespace sb::store {

using Clock = std::chrono::steady_clock;

namespace {

// A batch picked up just before its deadline still gets this long.
constexpr std::chrono::milliseconds kMinStatementTimeout{100};

struct Pending {
  IngestRequest request;
  std::size_t bytes = 0;
  Clock::time_point enqueued_at;
  IngestOutcome* outcome = nullptr;  // owned by the waiting caller
  async::Completion done;
};

}  // namespace

class GroupCommitWriter::Impl {
 public:
  Impl(Options options, metrics::Registry* registry) : options_(std::move(options)) {
    options_.database_url = WithConnectionDefaults(options_.database_url, "switchboard-ingest");
    if (options_.max_queue_delay.count() <= 0) options_.max_queue_delay = options_.statement_timeout / 4;
    commit_budget_ = options_.statement_timeout - options_.max_queue_delay;
    if (registry) {
      batch_size_ = &registry->GetHistogram("switchboard_ingest_batch_requests", "Webhook requests per group commit",
                                            {1, 2, 4, 8, 16, 32, 64, 128, 256, 512});
      commit_seconds_ = &registry->GetHistogram("switchboard_ingest_commit_seconds", "Time to commit one ingest batch",
                                                metrics::LatencyBuckets());
      failures_ =
          &registry->GetCounter("switchboard_ingest_batch_failures_total", "Ingest batches that could not commit");
      shed_ = &registry->GetCounter("switchboard_ingest_shed_total",
                                    "Webhooks answered 503 at once because the ingest queue was full or too old");
      registry->AddCallback([this](metrics::Registry& r) {
        r.GetGauge("switchboard_ingest_backlog_bytes", "Webhook body bytes waiting for a commit")
            .Set(static_cast<double>(BacklogBytes()));
      });
    }
    for (int i = 0; i < options_.writers; ++i) threads_.emplace_back([this] { Loop(); });
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

  void Enqueue(std::unique_ptr<Pending> p) {
    std::unique_lock lock(mu_);
    if (stopping_) {
      lock.unlock();
      p->done(std::make_exception_ptr(Unavailable("shutting down")));
      return;
    }
    // Shed load while the queue is older than it may be, or when the request
    // (which may have waited on a busy event loop before it got here) would
    // leave the queue with less than a full commit's time to its deadline:
    // it would likely get its 503 at the deadline anyway, holding a
    // connection and memory all that time.
    p->enqueued_at = Clock::now();
    const auto queue_age = queue_.empty() ? Clock::duration::zero() : p->enqueued_at - queue_.front()->enqueued_at;
    if (backlog_bytes_ + p->bytes > options_.max_backlog_bytes || queue_age > options_.max_queue_delay ||
        p->request.deadline - p->enqueued_at - queue_age < commit_budget_) {
      lock.unlock();
      if (shed_) shed_->Inc();
      p->done(std::make_exception_ptr(Overloaded("ingest backlog is full")));
      return;
    }
    backlog_bytes_ += p->bytes;
    queue_.push_back(std::move(p));
    // A gathering writer only needs waking once there are enough.
    const bool wake = !Gathering() || queue_.size() == 1 || queue_.size() == options_.gather_batch;
    lock.unlock();
    if (wake) cv_.notify_one();
  }

  std::size_t BacklogBytes() const {
    std::lock_guard lock(mu_);
    return backlog_bytes_;
  }

 private:
  bool Gathering() const { return options_.gather_delay.count() > 0; }

  void Loop() {
    std::unique_ptr<pqxx::connection> conn;
    for (;;) {
      std::vector<std::unique_ptr<Pending>> batch;
      {
        std::unique_lock lock(mu_);
        cv_.wait(lock, [&] { return stopping_ || !queue_.empty(); });
        if (queue_.empty()) return;
        if (Gathering() && queue_.size() < options_.gather_batch) {
          cv_.wait_until(lock, queue_.front()->enqueued_at + options_.gather_delay,
                         [&] { return stopping_ || queue_.size() >= options_.gather_batch; });
        }
        std::size_t bytes = 0;
        while (!queue_.empty() && batch.size() < options_.max_batch &&
               (batch.empty() || bytes + queue_.front()->bytes <= options_.max_batch_bytes)) {
          bytes += queue_.front()->bytes;
          batch.push_back(std::move(queue_.front()));
          queue_.pop_front();
        }
      }
      // A request whose deadline passed has been answered 503 by now in
      // spirit: Meta will retry, and committing it late is harmless (the
      // retry deduplicates), but we answer promptly instead of committing.
      auto now = Clock::now();
      std::vector<std::unique_ptr<Pending>> live;
      for (auto& p : batch) {
        if (now > p->request.deadline) {
          Finish(*p, std::make_exception_ptr(Unavailable("ingest deadline passed before commit")));
        } else {
          live.push_back(std::move(p));
        }
      }
      if (!live.empty()) Commit(conn, live);
    }
  }

  void Finish(Pending& p, std::exception_ptr error) {
    {
      std::lock_guard lock(mu_);
      backlog_bytes_ -= p.bytes;
    }
    p.done(std::move(error));
  }

  void Commit(std::unique_ptr<pqxx::connection>& conn, std::vector<std::unique_ptr<Pending>>& items) {
    std::vector<Pending*> all;
    for (auto& p : items) all.push_back(p.get());
    CommitSpan(conn, all, 0);
  }

  // Commits `items`; on a data error splits the batch in halves so one bad
  // body cannot fail the others.
  void CommitSpan(std::unique_ptr<pqxx::connection>& conn, const std::vector<Pending*>& items, int attempt) {
    auto start = Clock::now();
    const bool prepared = prepare_.on();
    try {
      Execute(conn, items, prepared);
      if (batch_size_) batch_size_->Observe(static_cast<double>(items.size()));
      if (commit_seconds_) commit_seconds_->Observe(std::chrono::duration<double>(Clock::now() - start).count());
      for (Pending* p : items) Finish(*p, nullptr);
      return;
    } catch (const std::exception& e) {
      if (failures_) failures_->Inc();
      if (prepare_.TurnOffFor(e, prepared, "ingest") && attempt < 3) return CommitSpan(conn, items, attempt + 1);
      switch (ClassifyFailure(e)) {
        case DbFailure::kConnectionLost:
        case DbFailure::kTimeout: {
          conn.reset();
          spdlog::warn("ingest: batch of {} not committed, database unavailable: {}", items.size(), e.what());
          for (Pending* p : items) Finish(*p, std::make_exception_ptr(Unavailable("database unavailable")));
          return;
        }
        case DbFailure::kRetryable:
          if (attempt < 3) return CommitSpan(conn, items, attempt + 1);
          for (Pending* p : items) Finish(*p, std::make_exception_ptr(Unavailable("database busy")));
          return;
        case DbFailure::kOther:
          if (items.size() == 1) {
            spdlog::error("ingest: request rejected by the database: {}", e.what());
            Finish(*items[0], std::make_exception_ptr(std::runtime_error("the database rejected this body")));
            return;
          }
          auto mid = items.begin() + static_cast<std::ptrdiff_t>(items.size() / 2);
          CommitSpan(conn, std::vector<Pending*>(items.begin(), mid), 0);
          CommitSpan(conn, std::vector<Pending*>(mid, items.end()), 0);
          return;
      }
    }
  }

  void Execute(std::unique_ptr<pqxx::connection>& conn, const std::vector<Pending*>& items, bool prepared) {
    std::vector<const IngestRequest*> requests;
    requests.reserve(items.size());
    for (Pending* p : items) requests.push_back(&p->request);
    IngestBatch batch = BuildIngestBatch(requests);

    if (!conn || !conn->is_open()) conn = std::make_unique<pqxx::connection>(options_.database_url);
    struct Inserted {
      bool counted = false;
      bool unrouted = false;  // its conversation waits for the router
    };
    std::unordered_map<std::string, Inserted> inserted;  // by message key
    auto record = [&inserted](const pqxx::result& rows) {
      for (const auto& row : rows) {
        inserted.emplace(MessageKey(row[0].as<std::int64_t>(), row[1].as<std::int64_t>(), row[2].c_str()),
                         Inserted{.unrouted = row[3].as<bool>()});
      }
    };
    // Statements may run until the earliest deadline in the batch, no
    // longer: past it the request should already have had its 503.
    auto deadline = Clock::time_point::max();
    for (const Pending* p : items) deadline = std::min(deadline, p->request.deadline);
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
    const auto timeout = std::clamp(left, kMinStatementTimeout, options_.statement_timeout);
    TransactionBlock block(*conn, "ingest", timeout);
    Session session(block, prepared);
    if (!batch.messages.empty()) {
      record(session.Exec("ingest/ingest_messages", batch.archives, batch.messages, pqxx::binarystring(batch.bodies)));
    }
    if (!batch.archive_only.empty()) {
      session.Exec("ingest/archive_bodies", batch.archive_only, pqxx::binarystring(batch.bodies));
    }
    if (!batch.statuses.empty()) session.Exec("ingest/apply_statuses", batch.statuses);
    if (!batch.watermarks.empty()) session.Exec("ingest/apply_watermarks", batch.watermarks);
    if (!batch.events.empty()) session.Exec("ingest/record_events", batch.events);
    block.Commit();

    // Map answers back: a message inserted by this batch counts for the
    // first request that carried it; every other copy is a duplicate.
    for (std::size_t k = 0; k < items.size(); ++k) {
      IngestOutcome& out = *items[k]->outcome;
      out = IngestOutcome{};
      const auto& r = items[k]->request;
      for (const auto& m : r.parsed.messages) {
        const ChannelKey* key = nullptr;
        for (const auto& [ref, ck] : r.channels) {
          if (ref == m.channel) key = &ck;
        }
        if (!key) continue;
        auto it = inserted.find(MessageKey(key->business_id, key->channel_id, m.provider_message_id));
        if (it != inserted.end() && !it->second.counted) {
          it->second.counted = true;
          ++out.messages;
          if (it->second.unrouted) ++out.to_route;
        } else {
          ++out.duplicates;
        }
      }
      out.statuses = static_cast<int>(r.parsed.statuses.size() + r.parsed.watermarks.size());
      out.events = static_cast<int>(r.parsed.events.size());
    }
  }

  Options options_;
  PrepareSwitch prepare_{options_.prepare};
  std::chrono::milliseconds commit_budget_;  // a commit's time: statement_timeout - max_queue_delay
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::unique_ptr<Pending>> queue_;
  std::size_t backlog_bytes_ = 0;
  bool stopping_ = false;
  std::vector<std::thread> threads_;
  metrics::Histogram* batch_size_ = nullptr;
  metrics::Histogram* commit_seconds_ = nullptr;
  metrics::Counter* failures_ = nullptr;
  metrics::Counter* shed_ = nullptr;
};

GroupCommitWriter::GroupCommitWriter(Options options, metrics::Registry* registry)
    : impl_(std::make_unique<Impl>(std::move(options), registry)) {}
GroupCommitWriter::~GroupCommitWriter() = default;

boost::asio::awaitable<IngestOutcome> GroupCommitWriter::Submit(IngestRequest request) {
  IngestOutcome outcome;
  auto pending = std::make_unique<Pending>();
  pending->bytes = request.body.size() + 256;
  pending->request = std::move(request);
  pending->outcome = &outcome;
  co_await async::AwaitCompletion([&](async::Completion done) {
    pending->done = std::move(done);
    impl_->Enqueue(std::move(pending));
  });
  co_return outcome;
}

IngestOutcome GroupCommitWriter::SubmitSync(IngestRequest request) {
  IngestOutcome outcome;
  std::mutex mu;
  std::condition_variable cv;
  bool finished = false;
  std::exception_ptr error;
  auto pending = std::make_unique<Pending>();
  pending->bytes = request.body.size() + 256;
  pending->request = std::move(request);
  pending->outcome = &outcome;
  pending->done = [&](std::exception_ptr e) {
    std::lock_guard lock(mu);
    error = std::move(e);
    finished = true;
    cv.notify_one();
  };
  impl_->Enqueue(std::move(pending));
  std::unique_lock lock(mu);
  cv.wait(lock, [&] { return finished; });
  if (error) std::rethrow_exception(error);
  return outcome;
}

void GroupCommitWriter::Stop() { impl_->Stop(); }
std::size_t GroupCommitWriter::BacklogBytes() const { return impl_->BacklogBytes(); }

}  // namespace sb::store
