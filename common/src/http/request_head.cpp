#include "request_head.hpp"

#include <boost/url/parse.hpp>

#include <cctype>
#include <limits>
#include <string>

#include "sb/common/crypto.hpp"

namespace sb::http {
namespace {

constexpr std::size_t kMaxRequestIdBytes = 64;

std::string ShortRequestId() { return crypto::RandomToken("").substr(0, 12); }

// Each segment decoded on its own: an encoded '/' stays inside its segment
// ("%2F", and '%' itself as "%25") instead of splitting it, so
// "/v1/conversations/1%2Fresolve" cannot reach another route. The router
// unescapes the two when it hands out path parameters.
std::string DecodedPath(const boost::urls::url_view& url) {
  std::string path;
  for (const std::string segment : url.segments()) {
    path.push_back('/');
    for (char c : segment) {
      if (c == '%') {
        path += "%25";
      } else if (c == '/') {
        path += "%2F";
      } else {
        path.push_back(c);
      }
    }
  }
  return path.empty() ? "/" : path;
}

}  // namespace

void LimitRequestHead(RequestParser& parser) {
  parser.header_limit(kHeaderLimit);
  parser.body_limit(std::numeric_limits<std::uint64_t>::max());
}

void FillRequest(const RequestParser& parser, Request& req) {
  const auto& h = parser.get();
  req.method = std::string(h.method_string());
  req.target = std::string(h.target());
  req.headers.reserve(16);
  for (const auto& field : h) {
    std::string name(field.name_string());
    for (auto& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    req.headers.emplace_back(std::move(name), std::string(field.value()));
  }
  auto url = boost::urls::parse_origin_form(req.target);
  if (url) {
    req.path = DecodedPath(*url);
    for (auto param : url->params()) req.query.emplace_back(param.key, param.value);
  } else {
    auto q = req.target.find('?');
    req.path = req.target.substr(0, q);
  }
  req.request_id = std::string(req.Header("x-request-id"));
  if (req.request_id.empty() || req.request_id.size() > kMaxRequestIdBytes) req.request_id = ShortRequestId();
}

BodyPlan PlanBody(RequestParser& parser, std::size_t limit) {
  auto length = parser.content_length();
  if (length && *length > limit) return BodyPlan::kTooLarge;
  if (parser.is_done()) return BodyPlan::kComplete;
  parser.body_limit(limit);
  return BodyPlan::kRead;
}

}  // namespace sb::http
