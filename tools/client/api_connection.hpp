#pragma once
/// One keep-alive HTTP/1.1 connection to a Switchboard server: sb-loadgen
/// posts its webhooks through it, the agents of the routing benchmark
/// resolve through it, sbctl sends every command through it. Lives on one
/// io_context thread; not thread-safe; one request at a time.
#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>
#include <utility>

namespace sb::client {

/// What came of one request: an HTTP status and body, or `status == 0` and
/// `error`.
struct PostResult {
  int status = 0;
  bool timed_out = false;       // the deadline passed (connecting, writing or reading)
  bool connect_failed = false;  // no connection could be made (refused, unreachable); not set on a timeout
  std::string error;
  std::string body;
  std::string content_type;
  std::chrono::seconds retry_after{0};  // the answer's Retry-After in seconds, 0 when absent or a date
};

/// One header field added to a request: name and value.
using Header = std::pair<std::string, std::string>;
/// No extra header (a named default: no temporary inside co_await expressions).
inline const Header kNoHeader{};

class ApiConnection {
 public:
  /// An empty `bearer_token` sends no Authorization header. Answers with a
  /// body above `body_limit` bytes fail.
  ApiConnection(boost::asio::any_io_executor executor, boost::asio::ip::tcp::endpoint endpoint, std::string host_header,
                std::string bearer_token, std::string user_agent = "switchboard-client",
                std::size_t body_limit = 16 << 20);

  /// POSTs `body` to `target`, connecting first when needed; everything must
  /// finish by `deadline`. A request that fails on a reused connection before
  /// any answer (the server closed it while idle) is sent once more.
  boost::asio::awaitable<PostResult> Post(const std::string& target, const std::string& body,
                                          std::chrono::steady_clock::time_point deadline,
                                          const Header& extra_header = kNoHeader);
  /// Any method; a non-empty `body` is sent as application/json, an empty
  /// one not at all. `extra_header` is added when it has a name.
  boost::asio::awaitable<PostResult> Send(const std::string& method, const std::string& target, const std::string& body,
                                          std::chrono::steady_clock::time_point deadline, const Header& extra_header);

  bool is_open() const { return open_; }
  void Close();

 private:
  boost::asio::awaitable<PostResult> SendOnce(const std::string& method, const std::string& target,
                                              const std::string& body, const Header& extra_header,
                                              std::chrono::steady_clock::time_point deadline, bool& may_retry);

  boost::beast::tcp_stream stream_;
  boost::beast::flat_buffer buffer_;
  boost::asio::ip::tcp::endpoint endpoint_;
  std::string host_header_;
  std::string authorization_;
  std::string user_agent_;
  std::size_t body_limit_;
  bool open_ = false;
  std::uint64_t answered_on_connection_ = 0;
};

}  // namespace sb::client
