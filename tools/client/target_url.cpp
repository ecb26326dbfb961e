#include "target_url.hpp"

#include <charconv>

namespace sb::client {

std::optional<TargetUrl> ParseTargetUrl(std::string_view url, std::string& error) {
  constexpr std::string_view kScheme = "http://";
  if (url.substr(0, kScheme.size()) != kScheme) {
    error = "only plain http:// URLs are supported";
    return std::nullopt;
  }
  url.remove_prefix(kScheme.size());
  const auto slash = url.find_first_of("/?");
  std::string_view authority = url.substr(0, slash);
  TargetUrl out;
  out.target = slash == std::string_view::npos ? "/" : std::string(url.substr(slash));
  if (out.target.front() == '?') out.target.insert(out.target.begin(), '/');
  out.host_header = std::string(authority);
  if (authority.find('@') != std::string_view::npos) {
    error = "user info in the URL is not supported";
    return std::nullopt;
  }

  std::string_view port;
  if (!authority.empty() && authority.front() == '[') {
    const auto close = authority.find(']');
    if (close == std::string_view::npos) {
      error = "unterminated IPv6 address";
      return std::nullopt;
    }
    out.host = std::string(authority.substr(1, close - 1));
    std::string_view rest = authority.substr(close + 1);
    if (!rest.empty()) {
      if (rest.front() != ':') {
        error = "garbage after IPv6 address";
        return std::nullopt;
      }
      port = rest.substr(1);
    }
  } else {
    const auto colon = authority.rfind(':');
    out.host = std::string(authority.substr(0, colon));
    if (colon != std::string_view::npos) port = authority.substr(colon + 1);
  }
  if (out.host.empty()) {
    error = "the URL names no host";
    return std::nullopt;
  }
  if (port.empty()) {
    out.port = "80";
  } else {
    unsigned value = 0;
    const auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), value);
    if (ec != std::errc{} || end != port.data() + port.size() || value == 0 || value > 65535) {
      error = "invalid port '" + std::string(port) + "'";
      return std::nullopt;
    }
    out.port = std::string(port);
  }
  return out;
}

}  // namespace sb::client
