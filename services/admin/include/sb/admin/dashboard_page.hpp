#pragma once
/// GET /admin and its assets: the dashboard page, its script and style, and
/// Chart.js, all embedded in the binary at build time (the page works
/// offline, nothing from a CDN). The page itself holds no data: it signs in
/// with a business key and reads /v1/metrics/summary. Stateless and
/// thread-safe.
#include <boost/asio/awaitable.hpp>

#include "sb/common/http/message.hpp"

namespace sb::admin {

class DashboardPage {
 public:
  boost::asio::awaitable<http::Response> Page(http::Request& req);
  /// `/admin/{asset}`: admin.js, admin.css, chart.min.js; 404 for anything else.
  boost::asio::awaitable<http::Response> Asset(http::Request& req);
};

}  // namespace sb::admin
