#pragma once
/// GET /v1/messages/{id}/media: the file of a customer's media message,
/// through Switchboard (the business key, or an agent who may see the
/// conversation). WhatsApp media is fetched from the Graph API with the
/// channel's token when asked for.
#include <boost/asio/awaitable.hpp>

#include <memory>
#include <string>

#include "sb/admin/authenticator.hpp"
#include "sb/common/crypto.hpp"
#include "sb/common/http/message.hpp"
#include "sb/outbound/graph_client.hpp"
#include "sb/store/agent_repository.hpp"

namespace sb::agent_api {

class MediaApi {
 public:
  MediaApi(admin::Authenticator& auth, store::AgentRepository& agents, const crypto::SecretBox& secrets,
           std::string graph_api_base)
      : auth_(auth),
        agents_(agents),
        secrets_(secrets),
        graph_api_base_(std::move(graph_api_base)),
        tls_(outbound::MakeTlsContext()) {}

  boost::asio::awaitable<http::Response> Get(http::Request& req);

 private:
  admin::Authenticator& auth_;
  store::AgentRepository& agents_;
  const crypto::SecretBox& secrets_;
  std::string graph_api_base_;
  std::shared_ptr<boost::asio::ssl::context> tls_;  // every download's
};

}  // namespace sb::agent_api
