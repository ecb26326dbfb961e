#pragma once
// How the server reads a request head, apart from the socket: the parser's
// limits, the plain Request built from the head, and the body-limit
// decision once the route is known. Private to common/http; the server and
// the HTTP fuzz target (tests/fuzz) share it, so both run the same code.
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/string_body.hpp>

#include <cstddef>

#include "sb/common/http/message.hpp"

namespace sb::http {

using RequestParser = boost::beast::http::request_parser<boost::beast::http::string_body>;

/// The largest request head (request line and fields) read, in bytes.
inline constexpr std::size_t kHeaderLimit = 16 * 1024;

/// Sets the limits a new parser reads the head with. The body limit stays
/// open here: the route decides it once the head is in (Beast would refuse an
/// oversized Content-Length with a bare 400 otherwise).
void LimitRequestHead(RequestParser& parser);

/// Fills method, target, decoded path and query, lower-case headers and the
/// request id from a parsed head. Total: any head Beast accepts gives a
/// Request, never an exception.
void FillRequest(const RequestParser& parser, Request& req);

enum class BodyPlan {
  kComplete,  // the head carried everything (no body, or it is already in)
  kRead,      // read the body; the parser now refuses more than the limit
  kTooLarge,  // Content-Length is over the limit: answer 413 before reading
};

/// Decides what to do with the body of a request whose route allows
/// `limit` bytes; for kRead, sets the parser's body limit to `limit`.
BodyPlan PlanBody(RequestParser& parser, std::size_t limit);

}  // namespace sb::http
