#pragma once
/// Ads and the metrics summary of a business. Thread-safe (state lives in
/// PostgreSQL); results come back rendered in the API's shapes.
#include <boost/asio/awaitable.hpp>

#include <cstdint>
#include <optional>
#include <string>

#include "sb/store/database.hpp"

namespace sb::store {

struct SummaryQuery {
  std::int64_t business_id = 0;
  std::string from;                   // ISO 8601 instant, inclusive
  std::string to;                     // ISO 8601 instant, exclusive
  std::optional<std::string> bucket;  // "hour" or "day"
};

class MetricsRepository {
 public:
  explicit MetricsRepository(Database& db) : db_(db) {}

  /// {business_id, ad_id, name, campaign, spend_cents, currency} -> the ad.
  boost::asio::awaitable<std::string> PutAd(const std::string& params_json);
  /// The summary document (proto/openapi.yaml, MetricsSummary).
  boost::asio::awaitable<std::string> Summary(const SummaryQuery& q);

 private:
  Database& db_;
};

}  // namespace sb::store
