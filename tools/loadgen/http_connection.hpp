#pragma once
/// One keep-alive HTTP/1.1 client connection that POSTs webhook bodies.
/// Lives on one io_context thread; not thread-safe.
#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <chrono>
#include <cstdint>
#include <string>

#include "payload_factory.hpp"

namespace sb::loadgen {

using Clock = std::chrono::steady_clock;

/// What came of one POST.
struct Exchange {
  enum class Outcome { kResponse, kTimeout, kConnectError, kIoError };
  Outcome outcome = Outcome::kIoError;
  int status = 0;                       // kResponse only
  std::chrono::seconds retry_after{0};  // Retry-After of a non-200, when sent
  std::string error;                    // what went wrong otherwise
};

class HttpConnection {
 public:
  HttpConnection(boost::asio::any_io_executor executor, boost::asio::ip::tcp::endpoint endpoint,
                 std::string host_header, std::string target);

  /// POSTs `payload`, connecting first when needed. Everything (connect,
  /// write, read) must finish by `deadline`. A request that fails on a reused
  /// keep-alive connection before any answer (the server closed it while
  /// idle) is sent once more on a fresh connection, as HTTP clients do.
  boost::asio::awaitable<Exchange> Post(const Payload& payload, Clock::time_point deadline);

  void Close();

 private:
  boost::asio::awaitable<Exchange> PostOnce(const Payload& payload, Clock::time_point deadline, bool& may_retry);

  boost::beast::tcp_stream stream_;
  boost::beast::flat_buffer buffer_;
  boost::asio::ip::tcp::endpoint endpoint_;
  std::string host_header_;
  std::string target_;
  bool open_ = false;
  std::uint64_t answered_on_connection_ = 0;
};

}  // namespace sb::loadgen
