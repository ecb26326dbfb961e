#pragma once
/// An HTTP(S) client for the Graph API's send calls: one keep-alive
/// connection, reopened when the server has closed it; TLS with SNI and
/// peer verification against the system's CAs; every request bounded by a
/// timeout (connect, TLS handshake, write and read together).
/// Not thread-safe: one request at a time, on the executor it was made with.
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "sb/common/result.hpp"

namespace boost::asio::ssl {
class context;
}

namespace sb::outbound {

/// SWITCHBOARD_GRAPH_API_BASE taken apart.
struct BaseUrl {
  bool tls = true;
  std::string host;         // name or address, IPv6 without brackets
  std::string port;         // "443" / "80" when the URL names none
  std::string host_header;  // as sent in Host: name[:port]
  std::string path;         // "/v21.0", no trailing slash; "" for none
};

/// An absolute http or https URL without user info, query or fragment;
/// fails with code `invalid_graph_api_base` otherwise.
Result<BaseUrl> ParseBaseUrl(const std::string& url);

/// An HTTP answer, as much of it as the sender needs.
struct GraphAnswer {
  int status = 0;  // 0: no answer; `error` says why
  std::string body;
  std::optional<std::string> retry_after;  // the Retry-After header
  std::string content_type;                // the Content-Type header
  std::string error;
  bool too_large = false;  // status 0: the answer's body was over the limit (Content-Length or as read)
};

/// A TLS client context that verifies peers against the system's CAs
/// (as SSL_CERT_FILE / SSL_CERT_DIR say when it is made). Loading the CAs
/// takes tens of milliseconds: make one, off the I/O threads, and share it
/// among clients (it is thread-safe once made).
std::shared_ptr<boost::asio::ssl::context> MakeTlsContext();

class GraphClient {
 public:
  /// `tls` (from MakeTlsContext) may be null for an http `base_url`.
  /// Throws std::invalid_argument when `base_url` is not an http(s) URL, or
  /// is https without `tls`.
  GraphClient(boost::asio::any_io_executor executor, const std::string& base_url, std::chrono::milliseconds timeout,
              std::shared_ptr<boost::asio::ssl::context> tls);
  ~GraphClient();
  GraphClient(const GraphClient&) = delete;
  GraphClient& operator=(const GraphClient&) = delete;

  /// The path of the base URL, below which the send targets lie.
  const std::string& BasePath() const;

  /// POSTs JSON `body` to `target` with `Authorization: Bearer <token>`.
  /// Network failures and timeouts are answers with status 0, not
  /// exceptions. A kept-alive connection that turns out closed before any
  /// answer byte is reopened once. The arguments must outlive the await.
  boost::asio::awaitable<GraphAnswer> Post(const std::string& target, const std::string& body,
                                           const std::string& access_token);

  /// GETs `target` (path and query) with `Authorization: Bearer <token>`
  /// (none when the token is empty, as for a CDN); failures as for Post.
  boost::asio::awaitable<GraphAnswer> Get(const std::string& target, const std::string& access_token);

  /// Answers longer than this fail (default 1 MiB; media downloads raise it).
  void SetMaxAnswerBytes(std::uint64_t bytes);

  /// Ends the request in progress (its answer: status 0) and refuses later
  /// ones; for a sender that must stop now. Call on the client's executor.
  void Shutdown();

 private:
  class Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace sb::outbound
