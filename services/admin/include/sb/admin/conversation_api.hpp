#pragma once
/// Reading conversations and their messages: GET /v1/conversations,
/// /v1/conversations/{id}, /v1/conversations/{id}/messages.
#include <boost/asio/awaitable.hpp>

#include "sb/admin/authenticator.hpp"
#include "sb/common/http/message.hpp"
#include "sb/store/agent_repository.hpp"
#include "sb/store/repositories.hpp"

namespace sb::admin {

class ConversationApi {
 public:
  /// With `agents`, an agent token may read a conversation assigned or
  /// offered to the agent or waiting in one of their queues.
  ConversationApi(Authenticator& auth, store::ConversationRepository& conversations,
                  store::AgentRepository* agents = nullptr)
      : auth_(auth), conversations_(conversations), agents_(agents) {}

  boost::asio::awaitable<http::Response> List(http::Request& req);
  boost::asio::awaitable<http::Response> Get(http::Request& req);
  boost::asio::awaitable<http::Response> Messages(http::Request& req);

 private:
  /// The business whose conversation `id` the caller may read (404 otherwise).
  boost::asio::awaitable<std::int64_t> ReaderBusiness(const http::Request& req, std::int64_t id);

  Authenticator& auth_;
  store::ConversationRepository& conversations_;
  store::AgentRepository* agents_;
};

/// {"items":[...],"next_cursor":...} from rendered items.
http::Response PageResponse(const store::Page& page);

}  // namespace sb::admin
