#pragma once
/// One keep-alive HTTP/1.1 connection that POSTs JSON for one agent
/// (`/v1/conversations/{id}/resolve`). Lives on one io_context thread; not
/// thread-safe; one request at a time.
#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <chrono>
#include <cstdint>
#include <string>

namespace sb::agents {

/// What came of one POST: an HTTP status, or `status == 0` and `error`.
struct PostResult {
  int status = 0;
  bool timed_out = false;
  std::string error;
};

class ResolveConnection {
 public:
  ResolveConnection(boost::asio::any_io_executor executor, boost::asio::ip::tcp::endpoint endpoint,
                    std::string host_header, std::string bearer_token);

  /// POSTs `body` to `target`, connecting first when needed; everything must
  /// finish by `deadline`. A request that fails on a reused connection before
  /// any answer (the server closed it while idle) is sent once more.
  boost::asio::awaitable<PostResult> Post(const std::string& target, const std::string& body,
                                          std::chrono::steady_clock::time_point deadline);

  bool is_open() const { return open_; }
  void Close();

 private:
  boost::asio::awaitable<PostResult> PostOnce(const std::string& target, const std::string& body,
                                              std::chrono::steady_clock::time_point deadline, bool& may_retry);

  boost::beast::tcp_stream stream_;
  boost::beast::flat_buffer buffer_;
  boost::asio::ip::tcp::endpoint endpoint_;
  std::string host_header_;
  std::string authorization_;
  bool open_ = false;
  std::uint64_t answered_on_connection_ = 0;
};

}  // namespace sb::agents
