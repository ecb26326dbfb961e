#pragma once
// Shared between server.cpp (which creates it from an upgrade request) and
// websocket.cpp.
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/websocket.hpp>

#include "sb/common/http/websocket.hpp"

namespace sb::http {

class WebSocket::Impl {
 public:
  Impl(boost::beast::tcp_stream stream, boost::beast::http::request<boost::beast::http::string_body> request)
      : ws(std::move(stream)), request(std::move(request)) {}

  boost::beast::websocket::stream<boost::beast::tcp_stream> ws;
  boost::beast::http::request<boost::beast::http::string_body> request;
  boost::beast::flat_buffer buffer;
  bool accepted = false;
  bool open = true;
};

}  // namespace sb::http
