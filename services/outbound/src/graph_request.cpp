#include "sb/outbound/graph_request.hpp"

#include <nlohmann/json.hpp>

#include <array>

#include "sb/common/json/limited_parse.hpp"
#include "sb/outbound/retry_policy.hpp"

namespace sb::outbound {

namespace {

constexpr std::size_t kMaxErrorBytes = 500;

// Graph error codes that mean "later", whatever the HTTP status says:
// unknown/temporary (1, 2), rate limits (4, 17, 32, 341, 613, 80007),
// WhatsApp throughput, pair rate limit and temporary unavailability.
constexpr std::array<std::int64_t, 13> kTransientCodes = {1,     2,      4,      17,     32,     341,   613,
                                                          80007, 130429, 131000, 131016, 131056, 133004};

std::string PercentEncodeSegment(std::string_view s) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : s) {
    if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '.' ||
        c == '_' || c == '~') {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 15];
    }
  }
  return out;
}

// Cuts at a UTF-8 character boundary so PostgreSQL still takes the text.
std::string Truncate(std::string s) {
  if (s.size() <= kMaxErrorBytes) return s;
  std::size_t end = kMaxErrorBytes;
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
  if (!text.empty()) out.error = Truncate(std::move(text));
  const auto* transient = Member(*error, "is_transient");
  if (transient != nullptr && transient->is_boolean() && transient->get<bool>()) out.transient = true;
  if (code) {
    for (auto c : kTransientCodes) {
      if (*code == c) out.transient = true;
    }
  }
}

}  // namespace

GraphRequest BuildTemplateMessage(std::string_view base_path, std::string_view phone_number_id,
                                  std::string_view recipient, std::string_view name, std::string_view language,
                                  const std::vector<std::string>& params) {
  while (!base_path.empty() && base_path.back() == '/') base_path.remove_suffix(1);
  nlohmann::json tmpl = {{"name", name}, {"language", {{"code", language}}}};
  if (!params.empty()) {
    nlohmann::json parameters = nlohmann::json::array();
    for (const auto& p : params) parameters.push_back({{"type", "text"}, {"text", p}});
    tmpl["components"] = nlohmann::json::array({{{"type", "body"}, {"parameters", parameters}}});
  }
  nlohmann::json body = {{"messaging_product", "whatsapp"},
                         {"recipient_type", "individual"},
                         {"to", recipient},
                         {"type", "template"},
                         {"template", tmpl}};
  return GraphRequest{std::string(base_path) + "/" + PercentEncodeSegment(phone_number_id) + "/messages",
                      body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace)};
}

GraphRequest BuildMediaMessage(gateway::ChannelKind kind, std::string_view base_path,
                               std::string_view channel_external_id, std::string_view recipient,
                               std::string_view media_type, std::string_view url, std::string_view caption,
                               const std::optional<std::string>& tag) {
  while (!base_path.empty() && base_path.back() == '/') base_path.remove_suffix(1);
  nlohmann::json body;
  if (kind == gateway::ChannelKind::kWhatsapp) {
    nlohmann::json media = {{"link", url}};
    if (!caption.empty() && (media_type == "image" || media_type == "video" || media_type == "document")) {
      media["caption"] = caption;
    }
    body = {{"messaging_product", "whatsapp"},
            {"recipient_type", "individual"},
            {"to", recipient},
            {"type", media_type},
            {std::string(media_type), media}};
  } else {
    body = {{"recipient", {{"id", recipient}}}};
    if (tag && !tag->empty()) {
      body["messaging_type"] = "MESSAGE_TAG";
      body["tag"] = *tag;
    } else {
      body["messaging_type"] = "RESPONSE";
    }
    std::string type = media_type == "document" ? "file" : std::string(media_type);
    body["message"] = {{"attachment", {{"type", type}, {"payload", {{"url", url}, {"is_reusable", true}}}}}};
  }
  return GraphRequest{std::string(base_path) + "/" + PercentEncodeSegment(channel_external_id) + "/messages",
                      body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace)};
}

GraphRequest BuildTextMessage(gateway::ChannelKind kind, std::string_view base_path,
                              std::string_view channel_external_id, std::string_view recipient, std::string_view text,
                              const std::optional<std::string>& tag) {
  while (!base_path.empty() && base_path.back() == '/') base_path.remove_suffix(1);
  GraphRequest r;
  r.target = std::string(base_path) + "/" + PercentEncodeSegment(channel_external_id) + "/messages";
  nlohmann::json body;
  if (kind == gateway::ChannelKind::kWhatsapp) {
    body = {{"messaging_product", "whatsapp"},
            {"recipient_type", "individual"},
            {"to", recipient},
            {"type", "text"},
            {"text", {{"body", text}}}};
  } else {
    body = {{"recipient", {{"id", recipient}}}};
    if (tag && !tag->empty()) {
      body["messaging_type"] = "MESSAGE_TAG";
      body["tag"] = *tag;
    } else {
      body["messaging_type"] = "RESPONSE";
    }
    body["message"] = {{"text", text}};
  }
  // Text from the database is UTF-8 already; replace rather than throw if not.
  r.body = body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  return r;
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
