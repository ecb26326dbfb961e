#pragma once
/// GET /v1/messages/{id}/media: the file of a customer's media message,
/// through Switchboard (the business key, or an agent who may see the
/// conversation). WhatsApp media is fetched from the Graph API with the
/// channel's token when asked for; Messenger/Instagram attachments are
/// served from the copy the media fetcher kept (outbound::MediaFetcher).
#include <boost/asio/awaitable.hpp>

#include <memory>
#include <mutex>
#include <string>

#include "sb/admin/authenticator.hpp"
#include "sb/common/crypto.hpp"
#include "sb/common/http/message.hpp"
#include "sb/outbound/graph_client.hpp"
#include "sb/store/agent_repository.hpp"
#include "sb/store/media_repository.hpp"

namespace sb::agent_api {

class MediaApi {
 public:
  MediaApi(admin::Authenticator& auth, store::AgentRepository& agents, store::MediaRepository& media,
           const crypto::SecretBox& secrets, std::string graph_api_base)
      : auth_(auth), agents_(agents), media_(media), secrets_(secrets), graph_api_base_(std::move(graph_api_base)) {}

  boost::asio::awaitable<http::Response> Get(http::Request& req);

 private:
  boost::asio::awaitable<http::Response> Kept(std::int64_t business_id, std::int64_t message,
                                              const store::MediaSource& source);

  admin::Authenticator& auth_;
  store::AgentRepository& agents_;
  store::MediaRepository& media_;
  const crypto::SecretBox& secrets_;
  std::string graph_api_base_;
  /// Every download's, made by the first (loading the CA bundle takes tens
  /// of milliseconds: not at start-up, not in processes that serve none).
  std::shared_ptr<boost::asio::ssl::context> Tls();
  std::once_flag tls_once_;
  std::shared_ptr<boost::asio::ssl::context> tls_;
};

}  // namespace sb::agent_api
