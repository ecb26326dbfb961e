#include "sb/store/metrics_repository.hpp"

#include "session.hpp"

namespace sb::store {

boost::asio::awaitable<std::string> MetricsRepository::PutAd(const std::string& params_json) {
  std::string out;
  co_await db_.Run("ads/put", [&](Session& s) { out = s.Exec("ads/put", params_json)[0][0].as<std::string>(); });
  co_return out;
}

boost::asio::awaitable<std::string> MetricsRepository::Summary(const SummaryQuery& q) {
  std::string out;
  co_await db_.Run("metrics/summary", [&](Session& s) {
    s.Exec("metrics/work_mem");
    out = s.Exec("metrics/summary", std::to_string(q.business_id), q.from, q.to, q.bucket.value_or(""))[0][0]
              .as<std::string>();
  });
  co_return out;
}

}  // namespace sb::store
