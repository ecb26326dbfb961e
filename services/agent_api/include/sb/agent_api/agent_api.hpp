#pragma once
/// The agent's API: presence, their conversations, claim, accept/reject an
/// offer, reply, transfer, resolve. Agents see only their business's
/// conversations that are assigned or offered to them or waiting in their
/// queues; anything else is 404.
#include <boost/asio/awaitable.hpp>

#include <functional>

#include "sb/admin/authenticator.hpp"
#include "sb/common/http/message.hpp"
#include "sb/store/agent_repository.hpp"
#include "sb/store/setup_repository.hpp"
#include "sb/store/template_repository.hpp"

namespace sb::agent_api {

class AgentApi {
 public:
  struct Hooks {
    std::function<void()> assignment_needed;  // wake the router (an agent came online, a conversation waits)
    std::function<void()> reply_queued;       // wake the outbound sender
    std::function<void()> slot_freed;         // an agent has room again (a resolve, a transfer away)
  };
  AgentApi(admin::Authenticator& auth, store::AgentRepository& agents, store::SetupRepository& setup,
           store::TemplateRepository& templates, Hooks hooks);

  boost::asio::awaitable<http::Response> SetStatus(http::Request& req);
  boost::asio::awaitable<http::Response> Conversations(http::Request& req);
  boost::asio::awaitable<http::Response> Claim(http::Request& req);
  boost::asio::awaitable<http::Response> Accept(http::Request& req);
  boost::asio::awaitable<http::Response> Reject(http::Request& req);
  boost::asio::awaitable<http::Response> SendMessage(http::Request& req);
  boost::asio::awaitable<http::Response> Transfer(http::Request& req);
  boost::asio::awaitable<http::Response> Resolve(http::Request& req);

 private:
  /// The conversation must be assigned to the calling agent (404 when they
  /// cannot see it, 409 when it is not theirs to act on); a business key
  /// may act on any of its conversations.
  boost::asio::awaitable<std::optional<std::int64_t>> RequireActor(const admin::Principal& who,
                                                                   std::int64_t conversation);

  admin::Authenticator& auth_;
  store::AgentRepository& agents_;
  store::SetupRepository& setup_;
  store::TemplateRepository& templates_;
  Hooks hooks_;
};

}  // namespace sb::agent_api
