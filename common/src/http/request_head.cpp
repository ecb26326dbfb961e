#include "request_head.hpp"

#include <boost/url/parse.hpp>

#include <array>
#include <cctype>
#include <cstdint>
#include <cstring>
#include <limits>
#include <string>
#include <string_view>

#include "sb/common/crypto.hpp"

namespace sb::http {
namespace {

constexpr std::size_t kMaxRequestIdBytes = 64;

// 12 base64url characters (72 bits) from a per-thread splitmix64 stream
// seeded once from the system's generator: a request id names a request in
// logs, it guards nothing, and drawing 32 bytes from the CSPRNG for each
// request took 2 % of the server's CPU under load.
std::string ShortRequestId() {
  thread_local std::uint64_t state = [] {
    std::uint64_t seed = 0;
    std::memcpy(&seed, crypto::RandomBytes(sizeof seed).data(), sizeof seed);
    return seed;
  }();
  auto next = [] {
    std::uint64_t z = (state += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
  };
  std::array<std::uint64_t, 2> words{next(), next()};
  return crypto::Base64UrlEncode(std::string_view(reinterpret_cast<const char*>(words.data()), 9));
}

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
