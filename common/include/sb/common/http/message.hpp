#pragma once
/// The request and response handlers see: plain data, no Beast types.
#include <nlohmann/json_fwd.hpp>

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace sb::http {

using Clock = std::chrono::steady_clock;

struct Request {
  std::string method;  // upper case: GET, POST, ...
  std::string target;  // raw request target
  // Decoded path, no query. Segment by segment: a '/' or '%' inside a
  // segment stays escaped (%2F, %25), so segments never merge or split.
  std::string path;
  std::vector<std::pair<std::string, std::string>> query;    // decoded
  std::vector<std::pair<std::string, std::string>> headers;  // names lower case
  std::vector<std::pair<std::string, std::string>> params;   // from the route pattern
  std::string body;
  std::string remote;
  std::string request_id;
  /// When the request's first bytes reached this host (the kernel's receive
  /// timestamp), else when the server read its head.
  Clock::time_point received_at{};

  /// First header with this (lower-case) name, or empty.
  std::string_view Header(std::string_view lower_name) const;
  std::optional<std::string_view> Query(std::string_view name) const;
  std::string_view Param(std::string_view name) const;
  /// The bearer token of the Authorization header, or empty.
  std::string_view BearerToken() const;
};

struct Response {
  int status = 200;
  std::string content_type = "application/json";
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;

  static Response Json(int status, const nlohmann::json& body);
  static Response Text(int status, std::string body, std::string content_type = "text/plain; charset=utf-8");
  static Response Empty(int status);
};

/// The one error type handlers throw; `ToResponse` renders
/// {"error":{"code","message"}}. `message` is shown to the client: never put
/// internal detail there, log it instead.
class HttpError : public std::exception {
 public:
  HttpError(int status, std::string code, std::string message)
      : status_(status), code_(std::move(code)), message_(std::move(message)) {}
  HttpError& WithRetryAfter(int seconds) {
    retry_after_s_ = seconds;
    return *this;
  }
  const char* what() const noexcept override { return message_.c_str(); }
  int status() const { return status_; }
  const std::string& code() const { return code_; }
  const std::string& message() const { return message_; }
  std::optional<int> retry_after_s() const { return retry_after_s_; }
  Response ToResponse() const;

 private:
  int status_;
  std::string code_;
  std::string message_;
  std::optional<int> retry_after_s_;
};

/// The JSON error body for any status.
Response ErrorResponse(int status, std::string_view code, std::string_view message);

}  // namespace sb::http
