#pragma once
/// The URL the command-line tools are pointed at, split into what a
/// connection needs.
#include <optional>
#include <string>
#include <string_view>

namespace sb::client {

/// `http://host[:port]/path` split into what a connection needs.
struct TargetUrl {
  std::string host;         // without IPv6 brackets
  std::string port;         // "80" when the URL names none
  std::string host_header;  // host[:port] exactly as in the URL
  std::string target;       // path and query, "/" when empty
};

/// Parses a plain-HTTP URL; nullopt (with `error` set) for anything else.
std::optional<TargetUrl> ParseTargetUrl(std::string_view url, std::string& error);

}  // namespace sb::client
