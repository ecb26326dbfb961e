#include "queue_gauges.hpp"

#include <spdlog/spdlog.h>

#include <string>
#include <utility>
#include <vector>

namespace sb::app {

namespace {
constexpr const char* kDepth = "switchboard_queue_depth";
constexpr const char* kDepthHelp = "Conversations waiting in a queue (the deepest queues, by business and queue id)";
constexpr const char* kOldest = "switchboard_queue_oldest_wait_seconds";
constexpr const char* kOldestHelp = "How long the oldest waiting conversation of a queue has waited";
}  // namespace

boost::asio::awaitable<void> QueueGauges::Refresh(bool database_ready) {
  const auto now_ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now().time_since_epoch())
          .count();
  auto last = last_refresh_ms_.load();
  if (last != 0 && now_ms - last < 1000) co_return;
  if (!last_refresh_ms_.compare_exchange_strong(last, now_ms)) co_return;  // a concurrent scrape refreshes

  std::vector<std::pair<metrics::Labels, double>> depth, oldest;
  try {
    if (database_ready) {
      auto depths = co_await repository_.Depths(kMaxQueues);
      for (const auto& q : depths.deepest) {
        metrics::Labels labels{{"business", std::to_string(q.business_id)}, {"queue", std::to_string(q.queue_id)}};
        depth.emplace_back(labels, static_cast<double>(q.waiting));
        oldest.emplace_back(std::move(labels), q.oldest_wait_s);
      }
      registry_.GetGauge("switchboard_queues_waiting", "Conversations waiting in all queues")
          .Set(static_cast<double>(depths.waiting));
      registry_.GetGauge("switchboard_queues_oldest_wait_seconds", "Longest wait of any waiting conversation")
          .Set(depths.oldest_wait_s);
    }
  } catch (const std::exception& e) {
    spdlog::debug("queue depths for /metrics failed: {}", e.what());
    registry_.GetCounter("switchboard_queue_gauge_failures_total", "Scrapes whose queue depth read failed").Inc();
  }
  registry_.ReplaceGauges(kDepth, kDepthHelp, depth);
  registry_.ReplaceGauges(kOldest, kOldestHelp, oldest);
}

}  // namespace sb::app
