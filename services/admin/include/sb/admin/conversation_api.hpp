#pragma once
/// Reading conversations and their messages: GET /v1/conversations,
/// /v1/conversations/{id}, /v1/conversations/{id}/messages.
#include <boost/asio/awaitable.hpp>

#include "sb/admin/authenticator.hpp"
#include "sb/common/http/message.hpp"
#include "sb/store/repositories.hpp"

namespace sb::admin {

class ConversationApi {
 public:
  ConversationApi(Authenticator& auth, store::ConversationRepository& conversations)
      : auth_(auth), conversations_(conversations) {}

  boost::asio::awaitable<http::Response> List(http::Request& req);
  boost::asio::awaitable<http::Response> Get(http::Request& req);
  boost::asio::awaitable<http::Response> Messages(http::Request& req);

 private:
  Authenticator& auth_;
  store::ConversationRepository& conversations_;
};

/// {"items":[...],"next_cursor":...} from rendered items.
http::Response PageResponse(const store::Page& page);

}  // namespace sb::admin
