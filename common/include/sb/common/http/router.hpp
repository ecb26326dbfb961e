#pragma once
/// A small route table: `/v1/conversations/{id}/messages` patterns, exact
/// methods, a body limit per route. Built once at start, then read-only
/// (safe to share between threads).
#include <boost/asio/awaitable.hpp>

#include <cstddef>
#include <functional>
#include <string>
#include <vector>

#include "sb/common/http/message.hpp"
#include "sb/common/http/websocket.hpp"

namespace sb::http {

using Handler = std::function<boost::asio::awaitable<Response>(Request&)>;

inline constexpr std::size_t kApiBodyLimit = 1 << 20;      // 1 MiB
inline constexpr std::size_t kWebhookBodyLimit = 4 << 20;  // 4 MiB

struct RouteInfo {
  std::string method;
  std::string pattern;
  std::size_t body_limit = kApiBodyLimit;
};

class Router {
 public:
  void Add(std::string method, std::string pattern, Handler handler, std::size_t body_limit = kApiBodyLimit);
  /// A GET route that upgrades to a WebSocket.
  void AddWebSocket(std::string pattern, WebSocketHandler handler);

  struct Match {
    const Handler* handler = nullptr;  // null: no route
    const WebSocketHandler* websocket = nullptr;
    bool path_known = false;  // the path exists with another method
    std::size_t body_limit = kApiBodyLimit;
    std::string pattern;
    std::vector<std::pair<std::string, std::string>> params;
  };
  Match Find(std::string_view method, std::string_view path) const;

  std::vector<RouteInfo> Routes() const;

 private:
  struct Route {
    RouteInfo info;
    std::vector<std::string> segments;  // "{name}" marks a parameter
    Handler handler;
    WebSocketHandler websocket;
  };
  std::vector<Route> routes_;
};

}  // namespace sb::http
