#pragma once
/// Downloads customers' media files. WhatsApp: through the Graph API, the
/// media id's URL first (GET {base}/{media_id}), then the file itself from
/// that URL, both with the channel's access token. Messenger/Instagram: the
/// attachment's CDN URL itself, without a token. Size-limited (the
/// Content-Length and the bytes as they arrive); what Meta answers is
/// untrusted.
#include <boost/asio/awaitable.hpp>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "sb/outbound/graph_client.hpp"

namespace sb::outbound {

struct MediaFile {
  int status = 0;  // 200, or the HTTP status that ended it (0: no answer)
  std::string content_type;
  std::string body;
  std::string error;       // when status != 200
  bool too_large = false;  // status 0: the file is over the limit (nothing of it is kept)
};

/// Runs on the caller's executor; `tls` from MakeTlsContext, shared.
boost::asio::awaitable<MediaFile> DownloadWhatsappMedia(const std::string& graph_api_base, const std::string& media_id,
                                                        const std::string& access_token, std::uint64_t max_bytes,
                                                        const std::shared_ptr<boost::asio::ssl::context>& tls);

class GraphClient;

/// An absolute http(s) URL as a client takes it: the origin (scheme, host,
/// port) and the request target (path and query; no fragment).
struct UrlParts {
  std::string origin;
  std::string target;
};
/// nullopt when `url` is not an http(s) URL or holds control characters or
/// spaces (the host itself is checked when a GraphClient is made for it).
std::optional<UrlParts> SplitUrl(const std::string& url);

/// GETs `target` through `client` (made for a CDN's origin; the host is the
/// caller's to vet) with no credentials. Runs on the client's executor.
boost::asio::awaitable<MediaFile> DownloadFile(GraphClient& client, const std::string& target, std::uint64_t max_bytes);

}  // namespace sb::outbound
