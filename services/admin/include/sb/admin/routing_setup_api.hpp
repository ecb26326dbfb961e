#pragma once
/// Routing set-up of a business: POST /v1/queues, POST /v1/agents,
/// PUT /v1/routing, PUT /v1/orders/{order_ref}, PUT /v1/products/{sku}.
#include <boost/asio/awaitable.hpp>

#include <functional>

#include "sb/admin/authenticator.hpp"
#include "sb/common/http/message.hpp"
#include "sb/store/setup_repository.hpp"

namespace sb::admin {

class RoutingSetupApi {
 public:
  /// `on_routing_changed(business_id)` lets the router drop compiled rules.
  RoutingSetupApi(Authenticator& auth, store::SetupRepository& setup,
                  std::function<void(std::int64_t)> on_routing_changed);

  boost::asio::awaitable<http::Response> CreateQueue(http::Request& req);
  boost::asio::awaitable<http::Response> CreateAgent(http::Request& req);
  boost::asio::awaitable<http::Response> PutRouting(http::Request& req);
  boost::asio::awaitable<http::Response> PutOrder(http::Request& req);
  boost::asio::awaitable<http::Response> PutProduct(http::Request& req);

 private:
  Authenticator& auth_;
  store::SetupRepository& setup_;
  std::function<void(std::int64_t)> on_routing_changed_;
};

}  // namespace sb::admin
