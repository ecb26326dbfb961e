#pragma once
/// sbctl's view of the API: one keep-alive connection, blocking calls, and
/// the server's JSON error turned into a CommandError with its message.
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <nlohmann/json.hpp>

#include <chrono>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "api_connection.hpp"

namespace sb::sbctl {

/// A command failed; `what()` is the line printed before exiting 1.
class CommandError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

struct ApiAnswer {
  int status = 0;
  std::string body;
  nlohmann::json json;  // null unless the body was JSON
};

class ApiClient {
 public:
  /// `base_url` is http://host[:port][/prefix]; throws CommandError when it is
  /// not one or the host does not resolve.
  ApiClient(const std::string& base_url, std::string token, std::chrono::milliseconds timeout);
  ~ApiClient();

  /// One request; throws CommandError when no answer came.
  ApiAnswer Call(const std::string& method, const std::string& path, const std::string& body = {},
                 const client::Header& extra_header = client::kNoHeader);
  /// The same, and any status outside `ok` becomes a CommandError carrying
  /// the server's error code and message.
  nlohmann::json Expect(const std::string& method, const std::string& path, const nlohmann::json& body,
                        std::vector<int> ok);

  const std::string& host_header() const { return host_header_; }
  const std::string& prefix() const { return prefix_; }
  const std::string& token() const { return token_; }
  /// The server's addresses, resolved once; requests go to the first.
  const boost::asio::ip::tcp::resolver::results_type& endpoints() const { return endpoints_; }

 private:
  boost::asio::io_context io_;
  std::unique_ptr<client::ApiConnection> connection_;
  std::string host_header_, prefix_, token_;
  boost::asio::ip::tcp::resolver::results_type endpoints_;
  std::chrono::milliseconds timeout_;
};

/// An answer from its status and body; `json` is set when the body is JSON.
ApiAnswer MakeAnswer(int status, std::string body);

/// "HTTP 404 not_found: no such conversation" from an answer.
std::string DescribeFailure(const std::string& what, const ApiAnswer& answer);

/// Percent-encodes one path segment or query value.
std::string UrlEncode(const std::string& s);

}  // namespace sb::sbctl
