#pragma once
/// PUT /v1/templates/{name}: a business registers a WhatsApp message template
/// (approved by Meta under that name) so agents can re-engage customers
/// outside the 24-hour customer-service window.
#include <boost/asio/awaitable.hpp>

#include "sb/admin/authenticator.hpp"
#include "sb/common/http/message.hpp"
#include "sb/store/template_repository.hpp"

namespace sb::admin {

class TemplateApi {
 public:
  TemplateApi(Authenticator& auth, store::TemplateRepository& templates) : auth_(auth), templates_(templates) {}

  boost::asio::awaitable<http::Response> Put(http::Request& req);

 private:
  Authenticator& auth_;
  store::TemplateRepository& templates_;
};

}  // namespace sb::admin
