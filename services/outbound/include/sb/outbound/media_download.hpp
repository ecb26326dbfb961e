#pragma once
/// Downloads a customer's WhatsApp media through the Graph API: the media
/// id's URL first (GET {base}/{media_id}), then the file itself from that
/// URL, both with the channel's access token. Size-limited; the answer of
/// Meta is untrusted.
#include <boost/asio/awaitable.hpp>

#include <cstdint>
#include <memory>
#include <string>

#include "sb/outbound/graph_client.hpp"

namespace sb::outbound {

struct MediaFile {
  int status = 0;  // 200, or the HTTP status that ended it (0: no answer)
  std::string content_type;
  std::string body;
  std::string error;  // when status != 200
};

/// Runs on the caller's executor; `tls` from MakeTlsContext, shared.
boost::asio::awaitable<MediaFile> DownloadWhatsappMedia(const std::string& graph_api_base, const std::string& media_id,
                                                        const std::string& access_token, std::uint64_t max_bytes,
                                                        const std::shared_ptr<boost::asio::ssl::context>& tls);

}  // namespace sb::outbound
