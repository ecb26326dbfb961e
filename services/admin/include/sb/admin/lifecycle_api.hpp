#pragma once
/// Day-two operations on a business's routing set-up: GET lists
/// (`{items, next_cursor}`, `limit`, `cursor`), GET by id, PATCH and DELETE
/// (deactivation that keeps history) for /v1/queues, /v1/agents,
/// /v1/orders, /v1/products and /v1/ads; POST /v1/keys/rotate and
/// POST /v1/agents/{id}/token.
#include <boost/asio/awaitable.hpp>

#include <nlohmann/json_fwd.hpp>

#include <cstdint>
#include <functional>

#include "sb/admin/authenticator.hpp"
#include "sb/common/http/message.hpp"
#include "sb/store/lifecycle_repository.hpp"
#include "sb/store/setup_repository.hpp"

namespace sb::admin {

class LifecycleApi {
 public:
  struct Hooks {
    /// An agent was deactivated or their token replaced: this process
    /// forgets cached tokens and closes their sockets (other processes do
    /// the same on the NOTIFY sent at commit).
    std::function<void(std::int64_t agent_id)> agent_revoked;
    /// Business keys rotated.
    std::function<void()> keys_rotated;
    /// Conversations went back to waiting: the router may assign them.
    std::function<void()> conversations_waiting;
  };

  LifecycleApi(Authenticator& auth, store::LifecycleRepository& lifecycle, store::SetupRepository& setup, Hooks hooks);

  boost::asio::awaitable<http::Response> ListQueues(http::Request& req);
  boost::asio::awaitable<http::Response> GetQueue(http::Request& req);
  boost::asio::awaitable<http::Response> PatchQueue(http::Request& req);
  /// New conversations routed to it go to the default queue; the default
  /// queue itself cannot be deactivated (409 `queue_is_default`).
  boost::asio::awaitable<http::Response> DeleteQueue(http::Request& req);

  boost::asio::awaitable<http::Response> ListAgents(http::Request& req);
  boost::asio::awaitable<http::Response> GetAgent(http::Request& req);
  boost::asio::awaitable<http::Response> PatchAgent(http::Request& req);
  /// No new work, tokens stop at once, open conversations wait again.
  boost::asio::awaitable<http::Response> DeleteAgent(http::Request& req);
  boost::asio::awaitable<http::Response> RotateAgentToken(http::Request& req);

  boost::asio::awaitable<http::Response> ListOrders(http::Request& req);
  boost::asio::awaitable<http::Response> GetOrder(http::Request& req);
  boost::asio::awaitable<http::Response> PatchOrder(http::Request& req);
  boost::asio::awaitable<http::Response> DeleteOrder(http::Request& req);

  boost::asio::awaitable<http::Response> ListProducts(http::Request& req);
  boost::asio::awaitable<http::Response> GetProduct(http::Request& req);
  boost::asio::awaitable<http::Response> PatchProduct(http::Request& req);
  boost::asio::awaitable<http::Response> DeleteProduct(http::Request& req);

  /// Ads (PUT /v1/ads/{ad_id} creates them): a deactivated ad has stopped
  /// running; its spend still counts for ROAS.
  boost::asio::awaitable<http::Response> ListAds(http::Request& req);
  boost::asio::awaitable<http::Response> GetAd(http::Request& req);
  boost::asio::awaitable<http::Response> PatchAd(http::Request& req);
  boost::asio::awaitable<http::Response> DeleteAd(http::Request& req);

  boost::asio::awaitable<http::Response> RotateBusinessKey(http::Request& req);

 private:
  boost::asio::awaitable<http::Response> List(http::Request& req, store::SetupKind kind, bool numeric_cursor);
  boost::asio::awaitable<http::Response> Get(http::Request& req, store::SetupKind kind, std::string key,
                                             const char* what);
  /// Applies `params` (business and key included) and records who did it.
  boost::asio::awaitable<http::Response> Patch(const Principal& who, const http::Request& req, store::SetupKind kind,
                                               nlohmann::json params, std::string key, const char* what);
  boost::asio::awaitable<http::Response> DeactivateQueue(const Principal& who, const http::Request& req,
                                                         std::int64_t id);
  /// This process's part of a committed deactivation (the others learn by
  /// NOTIFY): the agent's streams closed, waiting conversations reassigned.
  void AgentDeactivated(std::int64_t id);
  boost::asio::awaitable<http::Response> DeactivateAgent(const Principal& who, const http::Request& req,
                                                         std::int64_t id);

  Authenticator& auth_;
  store::LifecycleRepository& lifecycle_;
  store::SetupRepository& setup_;
  Hooks hooks_;
};

}  // namespace sb::admin
