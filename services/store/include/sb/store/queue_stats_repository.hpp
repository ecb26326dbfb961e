#pragma once
/// How many conversations wait in the queues right now, read at /metrics
/// scrape time. Reads across businesses (an operator's view, never shown to
/// a business).
#include <boost/asio/awaitable.hpp>

#include <cstdint>
#include <vector>

#include "sb/store/database.hpp"

namespace sb::store {

struct QueueDepth {
  std::int64_t business_id = 0;
  std::int64_t queue_id = 0;
  std::int64_t waiting = 0;
  double oldest_wait_s = 0;
};

struct QueueDepths {
  std::int64_t waiting = 0;         // every queue
  double oldest_wait_s = 0;         // every queue
  std::vector<QueueDepth> deepest;  // at most `limit`, deepest first
};

class QueueStatsRepository {
 public:
  explicit QueueStatsRepository(Database& db) : db_(db) {}
  boost::asio::awaitable<QueueDepths> Depths(int limit);

 private:
  Database& db_;
};

}  // namespace sb::store
