#pragma once
/// One keep-alive HTTP/1.1 connection to the Switchboard API with one bearer
/// token: the agents of the routing benchmark resolve through it, sbctl
/// sends every command through it. Lives on one io_context thread; not
/// thread-safe; one request at a time.
#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <chrono>
#include <cstdint>
#include <string>

namespace sb::client {

/// What came of one request: an HTTP status and body, or `status == 0` and
/// `error`.
struct PostResult {
  int status = 0;
  bool timed_out = false;
  std::string error;
  std::string body;
  std::string content_type;
};

class ApiConnection {
 public:
  /// An empty `bearer_token` sends no Authorization header.
  ApiConnection(boost::asio::any_io_executor executor, boost::asio::ip::tcp::endpoint endpoint, std::string host_header,
                std::string bearer_token);

  /// POSTs `body` to `target`, connecting first when needed; everything must
  /// finish by `deadline`. A request that fails on a reused connection before
  /// any answer (the server closed it while idle) is sent once more.
  boost::asio::awaitable<PostResult> Post(const std::string& target, const std::string& body,
                                          std::chrono::steady_clock::time_point deadline);
  /// Any method; `body` is sent as JSON unless `content_type` says otherwise,
  /// no body when empty. `extra_header` ("Name: value") is added when set.
  boost::asio::awaitable<PostResult> Send(const std::string& method, const std::string& target, const std::string& body,
                                          std::chrono::steady_clock::time_point deadline,
                                          const std::string& extra_header = {});

  bool is_open() const { return open_; }
  void Close();

 private:
  boost::asio::awaitable<PostResult> SendOnce(const std::string& method, const std::string& target,
                                              const std::string& body, const std::string& extra_header,
                                              std::chrono::steady_clock::time_point deadline, bool& may_retry);

  boost::beast::tcp_stream stream_;
  boost::beast::flat_buffer buffer_;
  boost::asio::ip::tcp::endpoint endpoint_;
  std::string host_header_;
  std::string authorization_;
  bool open_ = false;
  std::uint64_t answered_on_connection_ = 0;
};

}  // namespace sb::client
