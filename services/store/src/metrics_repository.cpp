#include "sb/store/metrics_repository.hpp"

#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <algorithm>
#include <chrono>

#include "audit_record.hpp"
#include "session.hpp"

namespace sb::store {

namespace {

// Storing the figures of past hours (metrics/seal_hours.sql) is split into
// transactions of about kSealTarget each, sized from the previous one, so a
// busy business's hours never run into the statement timeout. While another
// request stores the same business's hours this one waits for it (kSealWait
// between tries). After kSealBudget (only a first summary over a long range
// gets near it) the summary reads what is left row by row.
constexpr std::int64_t kSealFirstHours = 24;
constexpr std::int64_t kSealMaxHours = 168;
constexpr auto kSealTarget = std::chrono::milliseconds(1000);
constexpr auto kSealBudget = std::chrono::milliseconds(20000);
constexpr auto kSealWait = std::chrono::milliseconds(100);

}  // namespace

boost::asio::awaitable<std::string> MetricsRepository::PutAd(const std::string& params_json, const AuditEntry& audit) {
  std::string out;
  co_await db_.Run("ads/put", [&](Session& s) {
    out = s.Exec("ads/put", params_json)[0][0].as<std::string>();
    RecordAudit(s, audit, &out);
  });
  co_return out;
}

boost::asio::awaitable<std::string> MetricsRepository::Summary(const SummaryQuery& q) {
  using Clock = std::chrono::steady_clock;
  const auto business = std::to_string(q.business_id);
  const auto started = Clock::now();
  std::int64_t hours = kSealFirstHours;
  try {
    for (;;) {
      std::int64_t done = 0;
      const auto batch_start = Clock::now();
      bool locked = false;
      co_await db_.Run("metrics/seal_hours", [&](Session& s) {
        locked = s.Exec("metrics/seal_lock", business)[0][0].as<bool>();
        if (!locked) return;
        s.Exec("metrics/work_mem");
        done = s.Exec("metrics/seal_hours", business, q.from, q.to, std::to_string(hours))[0][0].as<std::int64_t>();
      });
      if (!locked) {
        if (Clock::now() - started > kSealBudget) break;
        auto executor = co_await boost::asio::this_coro::executor;
        boost::asio::steady_timer wait(executor, kSealWait);
        co_await wait.async_wait(boost::asio::use_awaitable);
        continue;
      }
      const auto took = std::max<std::int64_t>(
          1, std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - batch_start).count());
      if (done < hours || Clock::now() - started > kSealBudget) break;
      hours = std::clamp<std::int64_t>(hours * kSealTarget.count() / took, 1, kSealMaxHours);
    }
  } catch (const Unavailable&) {
    // Too slow or no database: the summary below reads those hours row by
    // row (or reports the database as unavailable itself).
  }
  std::string out;
  co_await db_.Run("metrics/summary", [&](Session& s) {
    s.Exec("metrics/work_mem");
    out = s.Exec("metrics/summary", business, q.from, q.to, q.bucket.value_or(""))[0][0].as<std::string>();
  });
  co_return out;
}

}  // namespace sb::store
