#pragma once
/// Businesses and channels: POST /v1/businesses, POST and GET /v1/channels,
/// GET, PATCH and DELETE /v1/channels/{id}.
#include <boost/asio/awaitable.hpp>

#include <nlohmann/json_fwd.hpp>

#include <functional>

#include "sb/admin/authenticator.hpp"
#include "sb/common/crypto.hpp"
#include "sb/common/http/message.hpp"
#include "sb/store/repositories.hpp"

namespace sb::admin {

class SetupApi {
 public:
  /// `on_channels_changed` lets caches of channels forget what they knew (it
  /// runs after a channel is created or changed).
  SetupApi(Authenticator& auth, store::BusinessRepository& businesses, store::ChannelRepository& channels,
           const crypto::SecretBox& secrets, std::function<void()> on_channels_changed);

  boost::asio::awaitable<http::Response> CreateBusiness(http::Request& req);
  boost::asio::awaitable<http::Response> CreateChannel(http::Request& req);
  boost::asio::awaitable<http::Response> ListChannels(http::Request& req);
  boost::asio::awaitable<http::Response> GetChannel(http::Request& req);
  /// Name, account id, app secret, verify token, access token (Meta
  /// invalidates page tokens), HUMAN_AGENT tag, active.
  boost::asio::awaitable<http::Response> PatchChannel(http::Request& req);
  /// Deactivates: webhooks naming the channel are answered 200 and stored
  /// nowhere (counted on /metrics), replies are no longer sent; history stays.
  boost::asio::awaitable<http::Response> DeleteChannel(http::Request& req);

 private:
  boost::asio::awaitable<http::Response> ApplyChannelPatch(const Principal& who, const http::Request& req,
                                                           std::int64_t id, nlohmann::json params);
  Authenticator& auth_;
  store::BusinessRepository& businesses_;
  store::ChannelRepository& channels_;
  const crypto::SecretBox& secrets_;
  std::function<void()> on_channels_changed_;
};

}  // namespace sb::admin
