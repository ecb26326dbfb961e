#include "sb/store/queue_stats_repository.hpp"

#include "session.hpp"

namespace sb::store {

boost::asio::awaitable<QueueDepths> QueueStatsRepository::Depths(int limit) {
  QueueDepths out;
  co_await db_.Run("queues/depths", [&](Session& s) {
    for (const auto& row : s.Exec("queues/depths", limit)) {
      if (row[1].is_null()) {
        out.waiting = row[2].as<std::int64_t>();
        out.oldest_wait_s = row[3].as<double>();
        continue;
      }
      out.deepest.push_back(QueueDepth{row[0].as<std::int64_t>(), row[1].as<std::int64_t>(), row[2].as<std::int64_t>(),
                                       row[3].as<double>()});
    }
  });
  co_return out;
}

}  // namespace sb::store
