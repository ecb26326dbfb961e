#include "load_phase.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <deque>

#include "api_connection.hpp"

namespace sb::loadgen {
namespace asio = boost::asio;

std::atomic<bool> g_stop_requested{false};

AckLog::AckLog(const std::string& path) : path_(path) {
  if (!path_.empty()) file_ = std::fopen(path_.c_str(), "a");
}

AckLog::~AckLog() {
  if (file_ != nullptr) std::fclose(file_);
}

void AckLog::Write(std::string_view lines) {
  if (file_ == nullptr || lines.empty()) return;
  std::lock_guard lock(mutex_);
  std::fwrite(lines.data(), 1, lines.size(), file_);
  std::fflush(file_);
}

void PhaseResult::Merge(PhaseResult&& other) {
  scheduled += other.scheduled;
  sent += other.sent;
  acknowledged += other.acknowledged;
  timeouts += other.timeouts;
  expired_in_queue += other.expired_in_queue;
  connect_errors += other.connect_errors;
  io_errors += other.io_errors;
  for (const auto& [status, n] : other.non_200) non_200[status] += n;
  max_retry_after = std::max(max_retry_after, other.max_retry_after);
  latency.Merge(other.latency);
  answer_latency.Merge(other.answer_latency);
  failed.insert(failed.end(), std::make_move_iterator(other.failed.begin()),
                std::make_move_iterator(other.failed.end()));
  finished = std::max(finished, other.finished);
}

namespace {

constexpr auto kUseTuple = asio::as_tuple(asio::use_awaitable);
constexpr std::size_t kResponseBodyLimit = 1 << 20;
constexpr std::size_t kAckFlushBytes = 64 * 1024;
constexpr Clock::duration kMinConnectBackoff = std::chrono::milliseconds(10);
constexpr Clock::duration kMaxConnectBackoff = std::chrono::seconds(1);

class PhaseRunner {
 public:
  PhaseRunner(PhaseConfig config, const WebhookPayloadFactory& factory, AckLog& acks, LiveCounters& live)
      : config_(std::move(config)), factory_(factory), acks_(acks), live_(live), job_ready_(io_) {
    // Idle workers wait on this timer; it never expires, cancel_one() wakes one.
    job_ready_.expires_at(Clock::time_point::max());
    result_.finished = config_.start;
  }

  PhaseResult Run() {
    if (config_.mode == PhaseConfig::Mode::kList) {
      for (auto& payload : config_.payloads) queue_.push_back(Job{payload.index, config_.start, std::move(payload)});
      result_.scheduled = queue_.size();
      config_.payloads.clear();
    }
    if (config_.mode == PhaseConfig::Mode::kOpen) {
      asio::co_spawn(io_, Schedule(), asio::detached);
    }
    for (unsigned i = 0; i < config_.connections; ++i) {
      asio::co_spawn(io_, Work(), asio::detached);
    }
    io_.run();
    result_.finished = Clock::now();
    // Re-deliveries still queued when the phase hit its stop time stay failed.
    for (auto& job : queue_) {
      if (job.payload) Fail(std::move(*job.payload));
    }
    acks_.Write(ack_buffer_);
    return std::move(result_);
  }

 private:
  struct Job {
    std::uint64_t index = 0;
    Clock::time_point scheduled;
    std::optional<Payload> payload;  // set for re-deliveries, built on demand otherwise
  };

  bool PastStop(Clock::time_point t) const {
    return g_stop_requested.load(std::memory_order_relaxed) || (config_.stop_at && t >= *config_.stop_at);
  }

  // Claims the next request index shared by all threads; nullopt past the limit.
  std::optional<std::uint64_t> ClaimIndex() {
    const std::uint64_t index = config_.next_index->fetch_add(1, std::memory_order_relaxed);
    if (config_.request_limit && index >= *config_.request_limit) return std::nullopt;
    return index;
  }

  asio::awaitable<void> Schedule() {
    asio::steady_timer timer(io_);
    const auto first = config_.start + std::chrono::duration_cast<Clock::duration>(config_.first_offset);
    for (std::uint64_t k = 0;;) {
      const auto now = Clock::now();
      Clock::time_point due;
      // Catch up on every request that is due: timer wake-ups are late at high rates.
      for (;;) {
        due = first + std::chrono::duration_cast<Clock::duration>(config_.interval * static_cast<double>(k));
        if (due > now) break;
        std::optional<std::uint64_t> index;
        if (PastStop(due) || !(index = ClaimIndex())) {
          scheduling_done_ = true;
          job_ready_.cancel();
          co_return;
        }
        queue_.push_back(Job{*index, due, std::nullopt});
        ++result_.scheduled;
        ++k;
        job_ready_.cancel_one();
      }
      timer.expires_at(due);
      co_await timer.async_wait(kUseTuple);
    }
  }

  asio::awaitable<std::optional<Job>> NextJob() {
    switch (config_.mode) {
      case PhaseConfig::Mode::kClosed: {
        const auto now = Clock::now();
        if (PastStop(now)) co_return std::nullopt;
        const auto index = ClaimIndex();
        if (!index) co_return std::nullopt;
        ++result_.scheduled;
        co_return Job{*index, now, std::nullopt};
      }
      case PhaseConfig::Mode::kList:
        if (queue_.empty() || PastStop(Clock::now())) co_return std::nullopt;
        break;
      case PhaseConfig::Mode::kOpen:
        while (queue_.empty() || g_stop_requested.load(std::memory_order_relaxed)) {
          if (scheduling_done_) co_return std::nullopt;
          co_await job_ready_.async_wait(kUseTuple);
        }
        break;
    }
    Job job = std::move(queue_.front());
    queue_.pop_front();
    co_return job;
  }

  asio::awaitable<void> Work() {
    client::ApiConnection connection(io_.get_executor(), config_.endpoint, config_.host_header, /*bearer_token=*/"",
                                     "sb-loadgen", kResponseBodyLimit);
    Clock::duration connect_backoff{0};
    while (auto job = co_await NextJob()) {
      const auto now = Clock::now();
      if (config_.mode == PhaseConfig::Mode::kOpen && now - job->scheduled >= config_.timeout) {
        // It waited for a connection longer than the sender would wait for an
        // answer: to the sender this request has timed out.
        ++result_.expired_in_queue;
        ++result_.timeouts;
        Fail(job->index);
        continue;
      }
      Payload payload = job->payload ? std::move(*job->payload) : factory_.Make(job->index);
      ++result_.sent;
      live_.sent.fetch_add(1, std::memory_order_relaxed);
      const client::Header signature("X-Hub-Signature-256", payload.signature);
      const auto deadline = now + config_.timeout;
      const client::PostResult exchange = co_await connection.Post(config_.target, payload.body, deadline, signature);
      Record(*job, now, std::move(payload), exchange);
      if (exchange.connect_failed) {
        // Nobody listens: pause before the next attempt instead of burning
        // through the requests at the speed of a refused connect().
        connect_backoff = std::min(std::max(2 * connect_backoff, kMinConnectBackoff), kMaxConnectBackoff);
        asio::steady_timer pause(io_, connect_backoff);
        co_await pause.async_wait(kUseTuple);
      } else {
        connect_backoff = Clock::duration::zero();
      }
    }
    connection.Close();
  }

  void Record(const Job& job, Clock::time_point sent_at, Payload&& payload, const client::PostResult& exchange) {
    const auto now = Clock::now();
    if (exchange.status == 0) {
      if (exchange.timed_out) {
        ++result_.timeouts;
      } else if (exchange.connect_failed) {
        ++result_.connect_errors;
      } else {
        ++result_.io_errors;
      }
      Fail(std::move(payload));
      return;
    }
    result_.answer_latency.Record(now - sent_at);
    if (exchange.status != 200) {
      ++result_.non_200[exchange.status];
      result_.max_retry_after = std::max(result_.max_retry_after, exchange.retry_after);
      Fail(std::move(payload));
      return;
    }
    ++result_.acknowledged;
    live_.acknowledged.fetch_add(1, std::memory_order_relaxed);
    result_.latency.Record(now - job.scheduled);
    ack_buffer_ += payload.message_id;
    ack_buffer_ += '\n';
    if (ack_buffer_.size() >= kAckFlushBytes) {
      acks_.Write(ack_buffer_);
      ack_buffer_.clear();
    }
  }

  void Fail(Payload&& payload) {
    live_.failed.fetch_add(1, std::memory_order_relaxed);
    if (config_.keep_failed) result_.failed.push_back(std::move(payload));
  }

  void Fail(std::uint64_t never_sent_index) {
    live_.failed.fetch_add(1, std::memory_order_relaxed);
    if (config_.keep_failed) result_.failed.push_back(factory_.Make(never_sent_index));
  }

  PhaseConfig config_;
  const WebhookPayloadFactory& factory_;
  AckLog& acks_;
  LiveCounters& live_;
  asio::io_context io_{1};
  asio::steady_timer job_ready_;
  std::deque<Job> queue_;
  bool scheduling_done_ = false;
  std::string ack_buffer_;
  PhaseResult result_;
};

}  // namespace

PhaseResult RunPhase(PhaseConfig config, const WebhookPayloadFactory& factory, AckLog& acks, LiveCounters& live) {
  PhaseRunner runner(std::move(config), factory, acks, live);
  return runner.Run();
}

}  // namespace sb::loadgen
