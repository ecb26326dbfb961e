#include "sb/store/metrics_repository.hpp"

#include <algorithm>
#include <chrono>

#include "audit_record.hpp"
#include "session.hpp"

namespace sb::store {

namespace {

// Storing the figures of past hours (metrics/seal_hours.sql) is split into
// transactions of about kSealTarget each, sized from the previous one, so a
// busy business's hours never run into the statement timeout; after
// kSealBudget the summary reads what is left row by row.
constexpr std::int64_t kSealFirstHours = 24;
constexpr std::int64_t kSealMaxHours = 168;
constexpr auto kSealTarget = std::chrono::milliseconds(1000);
constexpr auto kSealBudget = std::chrono::milliseconds(3000);

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
      co_await db_.Run("metrics/seal_hours", [&](Session& s) {
        s.Exec("metrics/work_mem");
        done = s.Exec("metrics/seal_hours", business, q.from, q.to, std::to_string(hours))[0][0].as<std::int64_t>();
      });
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
