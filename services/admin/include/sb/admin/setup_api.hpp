#pragma once
/// Businesses and channels: POST /v1/businesses, POST and GET /v1/channels.
#include <boost/asio/awaitable.hpp>

#include <functional>

#include "sb/admin/authenticator.hpp"
#include "sb/common/crypto.hpp"
#include "sb/common/http/message.hpp"
#include "sb/store/repositories.hpp"

namespace sb::admin {

class SetupApi {
 public:
  /// `on_channel_created` lets caches of channels forget what they knew.
  SetupApi(Authenticator& auth, store::BusinessRepository& businesses, store::ChannelRepository& channels,
           const crypto::SecretBox& secrets, std::function<void(const std::string& kind)> on_channel_created);

  boost::asio::awaitable<http::Response> CreateBusiness(http::Request& req);
  boost::asio::awaitable<http::Response> CreateChannel(http::Request& req);
  boost::asio::awaitable<http::Response> ListChannels(http::Request& req);

 private:
  Authenticator& auth_;
  store::BusinessRepository& businesses_;
  store::ChannelRepository& channels_;
  const crypto::SecretBox& secrets_;
  std::function<void(const std::string&)> on_channel_created_;
};

}  // namespace sb::admin
