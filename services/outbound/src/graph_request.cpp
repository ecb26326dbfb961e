#include "sb/outbound/graph_request.hpp"

#include <boost/url/encode.hpp>
#include <boost/url/rfc/unreserved_chars.hpp>
#include <nlohmann/json.hpp>

#include <array>

#include "sb/common/json/limited_parse.hpp"
#include "sb/outbound/retry_policy.hpp"

namespace sb::outbound {

namespace {

constexpr std::size_t kMaxErrorBytes = 500;
constexpr std::size_t kMaxNameBytes = 200;

// Graph error codes that mean "later", whatever the HTTP status says:
// unknown/temporary (1, 2), rate limits (4, 17, 32, 341, 613, 80007),
// WhatsApp throughput, pair rate limit and temporary unavailability.
constexpr std::array<std::int64_t, 13> kTransientCodes = {1,     2,      4,      17,     32,     341,   613,
                                                          80007, 130429, 131000, 131016, 131056, 133004};

// Cuts at a UTF-8 character boundary so PostgreSQL still takes the text.
std::string Truncate(std::string s, std::size_t max_bytes) {
  if (s.size() <= max_bytes) return s;
  std::size_t end = max_bytes;
  while (end > 0 && (static_cast<unsigned char>(s[end]) & 0xC0) == 0x80) --end;
  s.resize(end);
  return s;
}

const nlohmann::json* Member(const nlohmann::json& j, const char* key) {
  if (!j.is_object()) return nullptr;
  auto it = j.find(key);
  return it == j.end() ? nullptr : &*it;
}

std::optional<std::string> StringMember(const nlohmann::json& j, const char* key) {
  const auto* v = Member(j, key);
  if (v == nullptr || !v->is_string()) return std::nullopt;
  return v->get<std::string>();
}

std::optional<std::int64_t> IntMember(const nlohmann::json& j, const char* key) {
  const auto* v = Member(j, key);
  if (v == nullptr) return std::nullopt;
  if (v->is_number_integer()) return v->get<std::int64_t>();
  return std::nullopt;
}

std::string ProviderId(gateway::ChannelKind kind, const nlohmann::json& body) {
  if (kind == gateway::ChannelKind::kWhatsapp) {
    const auto* messages = Member(body, "messages");
    if (messages == nullptr || !messages->is_array() || messages->empty()) return "";
    return StringMember((*messages)[0], "id").value_or("");
  }
  return StringMember(body, "message_id").value_or("");
}

// "(#100) Invalid parameter: details", from Graph's error object.
void ReadGraphError(const nlohmann::json& body, SendResult& out) {
  const auto* error = Member(body, "error");
  if (error == nullptr || !error->is_object()) return;
  auto message = StringMember(*error, "message").value_or("");
  auto code = IntMember(*error, "code");
  std::string text;
  if (code && message.rfind("(#", 0) != 0) text = "(#" + std::to_string(*code) + ") ";
  text += message;
  if (const auto* data = Member(*error, "error_data")) {
    auto details = StringMember(*data, "details");
    if (details && !details->empty() && *details != message) text += ": " + *details;
  }
  if (!text.empty()) out.error = Truncate(std::move(text), kMaxErrorBytes);
  const auto* transient = Member(*error, "is_transient");
  if (transient != nullptr && transient->is_boolean() && transient->get<bool>()) out.transient = true;
  if (code) {
    for (auto c : kTransientCodes) {
      if (*code == c) out.transient = true;
    }
  }
}

// {base}/{channel id}/messages, the channel id percent-encoded.
std::string MessagesTarget(std::string_view base_path, std::string_view channel_external_id) {
  while (!base_path.empty() && base_path.back() == '/') base_path.remove_suffix(1);
  return std::string(base_path) + "/" + boost::urls::encode(channel_external_id, boost::urls::unreserved_chars) +
         "/messages";
}

nlohmann::json WhatsappEnvelope(std::string_view recipient, std::string_view type) {
  return {{"messaging_product", "whatsapp"}, {"recipient_type", "individual"}, {"to", recipient}, {"type", type}};
}

nlohmann::json MessengerEnvelope(std::string_view recipient, const std::optional<std::string>& tag) {
  nlohmann::json body = {{"recipient", {{"id", recipient}}}};
  if (tag && !tag->empty()) {
    body["messaging_type"] = "MESSAGE_TAG";
    body["tag"] = *tag;
  } else {
    body["messaging_type"] = "RESPONSE";
  }
  return body;
}

GraphRequest Request(std::string target, const nlohmann::json& body) {
  // Text from the database is UTF-8 already; replace rather than throw if not.
  return GraphRequest{std::move(target), body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace)};
}

}  // namespace

bool IsMediaType(std::string_view type) {
  return type == "image" || type == "audio" || type == "video" || type == "document" || type == "sticker";
}

std::string TemplatePayload::Dump() const {
  nlohmann::json j = {{"name", name}, {"language", language}, {"params", params}};
  return j.dump();
}

std::optional<TemplatePayload> TemplatePayload::Parse(std::string_view json) {
  auto parsed = json::ParseLimited(json);
  if (!parsed) return std::nullopt;
  const auto& j = parsed.value();
  auto name = StringMember(j, "name");
  auto language = StringMember(j, "language");
  if (!name || !language) return std::nullopt;
  TemplatePayload t{std::move(*name), std::move(*language), {}};
  if (const auto* params = Member(j, "params")) {
    if (!params->is_array()) return std::nullopt;
    for (const auto& p : *params) {
      if (!p.is_string()) return std::nullopt;
      t.params.push_back(p.get<std::string>());
    }
  }
  return t;
}

std::string MediaPayload::Dump() const {
  nlohmann::json j = {{"url", url}};
  return j.dump();
}

std::optional<MediaPayload> MediaPayload::Parse(std::string_view json) {
  auto parsed = json::ParseLimited(json);
  if (!parsed) return std::nullopt;
  auto url = StringMember(parsed.value(), "url");
  if (!url) return std::nullopt;
  return MediaPayload{std::move(*url)};
}

GraphRequest BuildTemplateMessage(std::string_view base_path, std::string_view phone_number_id,
                                  std::string_view recipient, std::string_view name, std::string_view language,
                                  const std::vector<std::string>& params) {
  nlohmann::json tmpl = {{"name", name}, {"language", {{"code", language}}}};
  if (!params.empty()) {
    nlohmann::json parameters = nlohmann::json::array();
    for (const auto& p : params) parameters.push_back({{"type", "text"}, {"text", p}});
    tmpl["components"] = nlohmann::json::array({{{"type", "body"}, {"parameters", parameters}}});
  }
  auto body = WhatsappEnvelope(recipient, "template");
  body["template"] = tmpl;
  return Request(MessagesTarget(base_path, phone_number_id), body);
}

GraphRequest BuildMediaMessage(gateway::ChannelKind kind, std::string_view base_path,
                               std::string_view channel_external_id, std::string_view recipient,
                               std::string_view media_type, std::string_view url, std::string_view caption,
                               const std::optional<std::string>& tag) {
  nlohmann::json body;
  if (kind == gateway::ChannelKind::kWhatsapp) {
    nlohmann::json media = {{"link", url}};
    if (!caption.empty() && (media_type == "image" || media_type == "video" || media_type == "document")) {
      media["caption"] = caption;
    }
    body = WhatsappEnvelope(recipient, media_type);
    body[std::string(media_type)] = media;
  } else {
    body = MessengerEnvelope(recipient, tag);
    std::string type = media_type == "document" ? "file" : std::string(media_type);
    body["message"] = {{"attachment", {{"type", type}, {"payload", {{"url", url}, {"is_reusable", true}}}}}};
  }
  return Request(MessagesTarget(base_path, channel_external_id), body);
}

GraphRequest BuildTextMessage(gateway::ChannelKind kind, std::string_view base_path,
                              std::string_view channel_external_id, std::string_view recipient, std::string_view text,
                              const std::optional<std::string>& tag) {
  nlohmann::json body;
  if (kind == gateway::ChannelKind::kWhatsapp) {
    body = WhatsappEnvelope(recipient, "text");
    body["text"] = {{"body", text}};
  } else {
    body = MessengerEnvelope(recipient, tag);
    body["message"] = {{"text", text}};
  }
  return Request(MessagesTarget(base_path, channel_external_id), body);
}

std::string BuildProfileLookup(gateway::ChannelKind kind, std::string_view base_path,
                               std::string_view contact_external_id) {
  return std::string(base_path) + "/" + boost::urls::encode(contact_external_id, boost::urls::unreserved_chars) +
         (kind == gateway::ChannelKind::kInstagram ? "?fields=name,username" : "?fields=first_name,last_name");
}

std::string ParseProfileAnswer(gateway::ChannelKind kind, std::string_view body) {
  auto parsed = json::ParseLimited(body);
  if (!parsed) return "";
  const auto& j = parsed.value();
  std::string name;
  if (kind == gateway::ChannelKind::kInstagram) {
    name = StringMember(j, "name").value_or("");
    if (name.empty()) name = StringMember(j, "username").value_or("");
  } else {
    name = StringMember(j, "first_name").value_or("");
    auto last = StringMember(j, "last_name").value_or("");
    if (!last.empty()) name += (name.empty() ? "" : " ") + last;
  }
  return Truncate(std::move(name), kMaxNameBytes);
}

SendResult ParseSendAnswer(gateway::ChannelKind kind, int http_status, std::string_view body,
                           std::optional<std::string_view> retry_after_header,
                           std::chrono::system_clock::time_point now) {
  SendResult out;
  out.http_status = http_status;
  if (retry_after_header) out.retry_after = ParseRetryAfter(*retry_after_header, now);
  auto parsed = json::ParseLimited(body);
  if (http_status >= 200 && http_status < 300) {
    if (parsed) out.provider_message_id = ProviderId(kind, parsed.value());
    if (out.provider_message_id.empty()) out.error = "the send API answered without a message id";
    return out;
  }
  if (parsed) ReadGraphError(parsed.value(), out);
  if (out.error.empty()) out.error = "HTTP " + std::to_string(http_status);
  return out;
}

}  // namespace sb::outbound
