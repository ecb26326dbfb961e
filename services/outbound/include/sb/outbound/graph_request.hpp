#pragma once
/// The Graph API calls the sender makes (text, template and media replies,
/// contact profile lookups), how to read their answers, and the payloads of
/// template and media replies as the agent API stores them. Pure functions
/// of their arguments; thread-safe.
#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "sb/gateway/envelope.hpp"

namespace sb::outbound {

/// A POST to the Graph API: target (path below the host) and JSON body.
struct GraphRequest {
  std::string target;
  std::string body;
};

/// Attachment types a reply may carry: image, audio, video, document, sticker.
bool IsMediaType(std::string_view type);

/// The payload of a template reply: {"name", "language", "params": [strings]}.
struct TemplatePayload {
  std::string name, language;
  std::vector<std::string> params;

  std::string Dump() const;
  /// nullopt when `json` is not such an object.
  static std::optional<TemplatePayload> Parse(std::string_view json);
};

/// The payload of an attachment sent by URL: {"url"} (its caption is the
/// message text).
struct MediaPayload {
  std::string url;

  std::string Dump() const;
  /// nullopt when `json` is not such an object.
  static std::optional<MediaPayload> Parse(std::string_view json);
};

/// What one send attempt came to.
struct SendResult {
  int http_status = 0;              // 0: no HTTP answer (connection error, timeout)
  std::string provider_message_id;  // the provider's id for the message, on success
  std::string error;                // "(#100) message", "HTTP 503", "timed out", ...
  /// The provider's Retry-After, as a delay from when the answer came.
  std::optional<std::chrono::milliseconds> retry_after;
  /// The provider marked the error temporary (`error.is_transient`, or a
  /// Graph throttling code such as 4, 613, 130429), whatever the HTTP status.
  bool transient = false;

  bool Accepted() const { return http_status >= 200 && http_status < 300 && !provider_message_id.empty(); }
};

/// The send call for a text reply on a channel.
/// WhatsApp: POST {base}/{phone_number_id}/messages with
///   {"messaging_product":"whatsapp","recipient_type":"individual","to":wa_id,"type":"text","text":{"body":text}}.
/// Messenger / Instagram: POST {base}/{page_or_ig_id}/messages with
///   {"recipient":{"id":psid},"messaging_type":"RESPONSE","message":{"text":text}}, or with a tag
///   (HUMAN_AGENT) "messaging_type":"MESSAGE_TAG","tag":tag.
/// `base_path` is the path of SWITCHBOARD_GRAPH_API_BASE ("/v21.0"); the
/// channel id is percent-encoded into the path.
GraphRequest BuildTextMessage(gateway::ChannelKind kind, std::string_view base_path,
                              std::string_view channel_external_id, std::string_view recipient, std::string_view text,
                              const std::optional<std::string>& tag);

/// The send call for an approved WhatsApp template (the one message allowed
/// outside the 24-hour customer-service window): POST
/// {base}/{phone_number_id}/messages with
///   {"messaging_product":"whatsapp","recipient_type":"individual","to":wa_id,"type":"template",
///    "template":{"name":name,"language":{"code":language},
///                "components":[{"type":"body","parameters":[{"type":"text","text":p}, ...]}]}}
/// (no components when there are no parameters).
GraphRequest BuildTemplateMessage(std::string_view base_path, std::string_view phone_number_id,
                                  std::string_view recipient, std::string_view name, std::string_view language,
                                  const std::vector<std::string>& params);

/// The send call for an attachment by URL (`media_type`: image, audio,
/// video, document or sticker; the channel fetches the URL).
/// WhatsApp: {"messaging_product":"whatsapp","recipient_type":"individual","to":wa_id,"type":T,
///            T:{"link":url[,"caption":c]}} (a caption on image, video and document only).
/// Messenger / Instagram: {"recipient":{"id":psid},"messaging_type":..., "message":{"attachment":
///            {"type":image|audio|video|file,"payload":{"url":url,"is_reusable":true}}}} (a document is a
///            "file"; the caption, if any, is not part of the attachment).
GraphRequest BuildMediaMessage(gateway::ChannelKind kind, std::string_view base_path,
                               std::string_view channel_external_id, std::string_view recipient,
                               std::string_view media_type, std::string_view url, std::string_view caption,
                               const std::optional<std::string>& tag);

/// Reads the answer to a send on a `kind` channel: the message id on 2xx
/// (WhatsApp `messages[0].id`, Messenger/Instagram `message_id`), else the error as
/// "(#code) message" from the Graph error object (or "HTTP <status>"), and
/// Retry-After (`retry_after_header`, relative to `now` for an HTTP date).
/// Never throws: the body is untrusted.
SendResult ParseSendAnswer(gateway::ChannelKind kind, int http_status, std::string_view body,
                           std::optional<std::string_view> retry_after_header,
                           std::chrono::system_clock::time_point now);

/// The profile lookup of a Messenger or Instagram contact (their webhooks
/// carry no name): GET {base}/{psid}?fields=first_name,last_name on
/// Messenger, {base}/{igsid}?fields=name,username on Instagram.
std::string BuildProfileLookup(gateway::ChannelKind kind, std::string_view base_path,
                               std::string_view contact_external_id);

/// The display name in a profile answer: "first last" on Messenger, "name"
/// (else "username") on Instagram; at most 200 bytes, "" for none. Never
/// throws: the body is untrusted.
std::string ParseProfileAnswer(gateway::ChannelKind kind, std::string_view body);

}  // namespace sb::outbound
