#pragma once
/// Admin metrics of a business: PUT /v1/ads/{ad_id} (what an ad cost, for
/// ROAS) and GET /v1/metrics/summary.
#include <boost/asio/awaitable.hpp>

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

#include "sb/admin/authenticator.hpp"
#include "sb/common/http/message.hpp"
#include "sb/store/metrics_repository.hpp"

namespace sb::admin {

using Instant = std::chrono::sys_time<std::chrono::milliseconds>;

/// An ISO 8601 instant: `YYYY-MM-DD` (midnight UTC) or
/// `YYYY-MM-DDTHH:MM[:SS[.fraction]]` with `Z` or an offset `±HH:MM`;
/// years 1970 to 9999. Fractions below a millisecond are truncated.
std::optional<Instant> ParseInstant(std::string_view text);
/// `2026-11-28T15:04:05.123Z`.
std::string FormatInstant(Instant t);

class MetricsApi {
 public:
  MetricsApi(Authenticator& auth, store::MetricsRepository& metrics) : auth_(auth), metrics_(metrics) {}

  boost::asio::awaitable<http::Response> PutAd(http::Request& req);
  boost::asio::awaitable<http::Response> Summary(http::Request& req);

 private:
  Authenticator& auth_;
  store::MetricsRepository& metrics_;
};

}  // namespace sb::admin
