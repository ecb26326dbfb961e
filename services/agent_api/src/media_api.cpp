#include "sb/agent_api/media_api.hpp"

#include <spdlog/spdlog.h>

#include "sb/common/http/json_body.hpp"
#include "sb/outbound/media_download.hpp"

namespace sb::agent_api {

namespace {
constexpr std::uint64_t kMaxMediaBytes = 100u << 20;  // WhatsApp's largest (documents) is 100 MB
}  // namespace

std::shared_ptr<boost::asio::ssl::context> MediaApi::Tls() {
  std::call_once(tls_once_, [this] { tls_ = outbound::MakeTlsContext(); });
  return tls_;
}

boost::asio::awaitable<http::Response> MediaApi::Get(http::Request& req) {
  auto who = co_await auth_.Authenticate(req);
  auto message = http::PathId(req, "id");
  if (who.role == admin::Principal::Role::kAdmin) {
    throw http::HttpError(403, "forbidden", "media is read with a business key or an agent token");
  }
  auto source = co_await agents_.Media(who.business_id, message);
  if (!source) throw http::HttpError(404, "not_found", "no such message");
  if (who.role == admin::Principal::Role::kAgent) {
    if (!who.agent_id) throw http::HttpError(404, "not_found", "no such message");
    auto visible = co_await agents_.Access(who.business_id, *who.agent_id, source->conversation_id);
    if (!visible) throw http::HttpError(404, "not_found", "no such message");
  }
  if (source->channel_kind == "messenger" || source->channel_kind == "instagram") {
    co_return co_await Kept(who.business_id, message, *source);
  }
  if (source->channel_kind != "whatsapp" || !source->media_id || source->media_id->empty()) {
    throw http::HttpError(404, "no_media", "this message has no media file that Switchboard can fetch");
  }
  std::optional<std::string> token;
  if (source->access_token_enc_hex) token = secrets_.OpenHex(*source->access_token_enc_hex);
  if (!token || token->empty()) {
    throw http::HttpError(409, "no_access_token", "the channel has no access token to fetch media with");
  }
  auto tls = Tls();
  auto file = co_await outbound::DownloadWhatsappMedia(graph_api_base_, *source->media_id, *token, kMaxMediaBytes, tls);
  if (file.status != 200) {
    spdlog::warn("business_id={} message {} media: {} ({})", who.business_id, message, file.error, file.status);
    throw http::HttpError(502, "media_unavailable", "the media could not be fetched from Meta: " + file.error);
  }
  http::Response res;
  res.content_type = file.content_type;
  res.body = std::move(file.body);
  res.headers.emplace_back("X-Content-Type-Options", "nosniff");  // as for kept files (below)
  co_return res;
}

boost::asio::awaitable<http::Response> MediaApi::Kept(std::int64_t business_id, std::int64_t message,
                                                      const store::MediaSource& source) {
  const std::string& state = source.kept_state.value_or("");
  if (state.empty()) {
    throw http::HttpError(404, "no_media", "this message has no media file that Switchboard keeps");
  }
  if (state == "pending") {
    throw http::HttpError(409, "media_pending", "the attachment is still being fetched from Meta; ask again shortly")
        .WithRetryAfter(2);
  }
  if (state == "too_large") {
    throw http::HttpError(502, "media_too_large",
                          "the attachment was larger than this Switchboard keeps (SWITCHBOARD_MEDIA_MAX_BYTES)");
  }
  if (state == "refused") {
    throw http::HttpError(502, "media_refused",
                          "the attachment's URL is not on a host Switchboard fetches from (SWITCHBOARD_MEDIA_HOSTS)");
  }
  if (state != "kept") {
    spdlog::info("business_id={} message {} media: {} ({})", business_id, message, state,
                 source.kept_error.value_or(""));
    throw http::HttpError(502, "media_unavailable", "the attachment could not be fetched from Meta's CDN");
  }
  auto file = co_await media_.Read(business_id, message);
  // Erased between the two reads.
  if (!file) throw http::HttpError(404, "no_media", "this message has no media file that Switchboard keeps");
  http::Response res;
  res.content_type = std::move(file->content_type);
  res.body = std::move(file->bytes);
  // A customer's file, served from Switchboard's origin: never sniffed into something runnable.
  res.headers.emplace_back("X-Content-Type-Options", "nosniff");
  co_return res;
}

}  // namespace sb::agent_api
