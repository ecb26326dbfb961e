#include "sb/common/http/router.hpp"

namespace sb::http {
namespace {

std::vector<std::string_view> SplitPath(std::string_view path) {
  std::vector<std::string_view> out;
  std::size_t i = 0;
  while (i < path.size()) {
    while (i < path.size() && path[i] == '/') ++i;
    std::size_t j = path.find('/', i);
    if (j == std::string_view::npos) j = path.size();
    if (j > i) out.push_back(path.substr(i, j - i));
    i = j;
  }
  return out;
}

// Request paths keep a '/' or '%' inside a segment escaped (request_head.cpp);
// a parameter's value is the segment as the client meant it.
std::string ParamValue(std::string_view segment) {
  std::string out;
  out.reserve(segment.size());
  for (std::size_t i = 0; i < segment.size(); ++i) {
    if (segment[i] == '%' && segment.substr(i, 3) == "%2F") {
      out.push_back('/');
      i += 2;
    } else if (segment[i] == '%' && segment.substr(i, 3) == "%25") {
      out.push_back('%');
      i += 2;
    } else {
      out.push_back(segment[i]);
    }
  }
  return out;
}

bool IsParam(std::string_view segment) { return segment.size() > 2 && segment.front() == '{' && segment.back() == '}'; }

}  // namespace

void Router::Add(std::string method, std::string pattern, Handler handler, std::size_t body_limit) {
  Route route;
  for (auto segment : SplitPath(pattern)) route.segments.emplace_back(segment);
  route.info = RouteInfo{std::move(method), std::move(pattern), body_limit};
  route.handler = std::move(handler);
  routes_.push_back(std::move(route));
}

void Router::AddWebSocket(std::string pattern, WebSocketHandler handler) {
  Route route;
  for (auto segment : SplitPath(pattern)) route.segments.emplace_back(segment);
  route.info = RouteInfo{"GET", std::move(pattern), kApiBodyLimit};
  route.websocket = std::move(handler);
  route.handler = [](Request& req) -> boost::asio::awaitable<Response> {
    co_return ErrorResponse(426, "upgrade_required",
                            req.path + " is a WebSocket endpoint: connect with Upgrade: websocket");
  };
  routes_.push_back(std::move(route));
}

Router::Match Router::Find(std::string_view method, std::string_view path) const {
  Match match;
  auto parts = SplitPath(path);
  for (const auto& route : routes_) {
    if (route.segments.size() != parts.size()) continue;
    std::vector<std::pair<std::string, std::string>> params;
    bool ok = true;
    for (std::size_t i = 0; i < parts.size() && ok; ++i) {
      const auto& segment = route.segments[i];
      if (IsParam(segment)) {
        params.emplace_back(segment.substr(1, segment.size() - 2), ParamValue(parts[i]));
      } else {
        ok = segment == parts[i];
      }
    }
    if (!ok) continue;
    if (route.info.method != method) {
      match.path_known = true;
      match.body_limit = std::max(match.body_limit, route.info.body_limit);
      continue;
    }
    match.handler = &route.handler;
    if (route.websocket) match.websocket = &route.websocket;
    match.body_limit = route.info.body_limit;
    match.pattern = route.info.pattern;
    match.params = std::move(params);
    return match;
  }
  return match;
}

std::vector<RouteInfo> Router::Routes() const {
  std::vector<RouteInfo> out;
  out.reserve(routes_.size());
  for (const auto& route : routes_) out.push_back(route.info);
  return out;
}

}  // namespace sb::http
