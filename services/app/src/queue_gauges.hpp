#pragma once
// Queue depth and oldest wait per queue on /metrics: read from PostgreSQL
// when scraped, at most once a second however often scrapers come, and for
// the deepest queues only so the number of series stays bounded.
#include <boost/asio/awaitable.hpp>

#include <atomic>
#include <chrono>

#include "sb/common/metrics.hpp"
#include "sb/store/queue_stats_repository.hpp"

namespace sb::app {

class QueueGauges {
 public:
  static constexpr int kMaxQueues = 50;

  QueueGauges(store::QueueStatsRepository& repository, metrics::Registry& registry)
      : repository_(repository), registry_(registry) {}

  /// Refreshes the gauges unless another scrape did in the last second. A
  /// failed read removes the per-queue series (no stale depths) and counts
  /// in switchboard_queue_gauge_failures_total. A scrape while the database
  /// is known to be down removes them without reading (scrapes stay fast
  /// during an outage) and without counting: no read failed.
  boost::asio::awaitable<void> Refresh(bool database_ready);

 private:
  store::QueueStatsRepository& repository_;
  metrics::Registry& registry_;
  std::atomic<std::int64_t> last_refresh_ms_{0};
};

}  // namespace sb::app
