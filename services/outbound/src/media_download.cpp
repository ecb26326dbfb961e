#include "sb/outbound/media_download.hpp"

#include <boost/asio/this_coro.hpp>
#include <nlohmann/json.hpp>

#include <cctype>
#include <stdexcept>

#include "sb/outbound/graph_client.hpp"

namespace sb::outbound {

namespace {

constexpr auto kTimeout = std::chrono::seconds(30);

MediaFile Failed(int status, std::string error) {
  MediaFile f;
  f.status = status;
  f.error = std::move(error);
  return f;
}

// A Content-Type to pass on: printable ASCII of a plausible length, else
// the generic one (the header is served again to API clients).
std::string SafeContentType(const std::string& value) {
  if (value.empty() || value.size() > 200 || value.find('/') == std::string::npos) return "application/octet-stream";
  for (unsigned char c : value) {
    if (c < 0x20 || c > 0x7e) return "application/octet-stream";
  }
  return value;
}

}  // namespace

std::optional<UrlParts> SplitUrl(const std::string& url) {
  auto scheme_end = url.find("://");
  if (scheme_end == std::string::npos || (url.rfind("https://", 0) != 0 && url.rfind("http://", 0) != 0)) {
    return std::nullopt;
  }
  for (char c : url) {
    if (static_cast<unsigned char>(c) <= 0x20 || c == 0x7f) return std::nullopt;
  }
  auto path_start = url.find_first_of("/?#", scheme_end + 3);
  UrlParts parts;
  parts.origin = path_start == std::string::npos ? url : url.substr(0, path_start);
  parts.target = path_start == std::string::npos ? "" : url.substr(path_start);
  if (auto hash = parts.target.find('#'); hash != std::string::npos) parts.target.resize(hash);
  if (parts.target.empty() || parts.target[0] != '/') parts.target.insert(0, "/");
  return parts;
}

boost::asio::awaitable<MediaFile> DownloadFile(GraphClient& client, const std::string& target,
                                               std::uint64_t max_bytes) {
  client.SetMaxAnswerBytes(max_bytes);
  const std::string no_token;
  GraphAnswer file = co_await client.Get(target, no_token);
  if (file.too_large) {
    MediaFile out = Failed(0, file.error);
    out.too_large = true;
    co_return out;
  }
  if (file.status != 200) {
    co_return Failed(file.status, file.status ? "the media download was refused" : file.error);
  }
  MediaFile out;
  out.status = 200;
  out.content_type = SafeContentType(file.content_type);
  out.body = std::move(file.body);
  co_return out;
}

boost::asio::awaitable<MediaFile> DownloadWhatsappMedia(const std::string& graph_api_base, const std::string& media_id,
                                                        const std::string& access_token, std::uint64_t max_bytes,
                                                        const std::shared_ptr<boost::asio::ssl::context>& tls) {
  auto executor = co_await boost::asio::this_coro::executor;
  std::string url;
  {
    GraphClient graph(executor, graph_api_base, kTimeout, tls);
    std::string target = graph.BasePath() + "/";
    for (char c : media_id) {
      if (!std::isalnum(static_cast<unsigned char>(c)) && c != '_' && c != '-' && c != '.') {
        co_return Failed(400, "the media id is malformed");
      }
      target += c;
    }
    GraphAnswer meta = co_await graph.Get(target, access_token);
    if (meta.status != 200)
      co_return Failed(meta.status, meta.status ? "the Graph API refused the media id" : meta.error);
    auto j = nlohmann::json::parse(meta.body, nullptr, false);
    if (!j.is_object() || !j.contains("url") || !j["url"].is_string()) {
      co_return Failed(502, "the Graph API's media answer has no url");
    }
    url = j["url"].get<std::string>();
  }
  // The file lives on another host: a client for that origin, the rest as the target.
  auto scheme_end = url.find("://");
  if (scheme_end == std::string::npos || (url.rfind("https://", 0) != 0 && url.rfind("http://", 0) != 0)) {
    co_return Failed(502, "the media URL is not http(s)");
  }
  auto path_start = url.find('/', scheme_end + 3);
  std::string origin = path_start == std::string::npos ? url : url.substr(0, path_start);
  std::string target = path_start == std::string::npos ? "/" : url.substr(path_start);
  auto query = origin.find_first_of("?#");
  if (query != std::string::npos) co_return Failed(502, "the media URL is malformed");
  try {
    GraphClient files(executor, origin, kTimeout, tls);
    files.SetMaxAnswerBytes(max_bytes);
    GraphAnswer file = co_await files.Get(target, access_token);
    if (file.status != 200) {
      co_return Failed(file.status, file.status ? "the media download was refused" : file.error);
    }
    MediaFile out;
    out.status = 200;
    out.content_type = file.content_type.empty() ? "application/octet-stream" : file.content_type;
    out.body = std::move(file.body);
    co_return out;
  } catch (const std::invalid_argument&) {
    co_return Failed(502, "the media URL is malformed");
  }
}

}  // namespace sb::outbound
