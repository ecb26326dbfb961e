#include "sb/agent_api/agent_api.hpp"

#include <nlohmann/json.hpp>

#include "sb/common/http/json_body.hpp"
#include "sb/outbound/graph_request.hpp"
#include "sb/outbound/messaging_window.hpp"

namespace sb::agent_api {

namespace {

http::Response Rendered(int status, std::string body) {
  http::Response res;
  res.status = status;
  res.body = std::move(body);
  return res;
}

http::HttpError NotFound() { return http::HttpError(404, "not_found", "no such conversation"); }

http::HttpError NotAssigned(const std::string& status) {
  return http::HttpError(409, "not_assigned", "the conversation is " + status + ", not assigned to you");
}

// The agent acting, nullopt for the business's key; other tokens may not act.
std::optional<std::int64_t> Actor(const admin::Principal& who) {
  if (who.role == admin::Principal::Role::kBusiness) return std::nullopt;
  if (who.role != admin::Principal::Role::kAgent || !who.agent_id) {
    throw http::HttpError(403, "forbidden", "this operation needs an agent token or a business key");
  }
  return who.agent_id;
}

// Claim has an optional body: empty means {}.
http::Request WithObjectBody(const http::Request& req) {
  http::Request copy = req;
  if (copy.body.find_first_not_of(" \t\r\n") == std::string::npos) copy.body = "{}";
  return copy;
}

// {"name", "language", "params": [strings]} of a template send.
outbound::TemplatePayload ParseTemplate(const nlohmann::json& j) {
  auto bad = [](const std::string& why) { return http::HttpError(400, "invalid_field", "'template': " + why); };
  if (!j.is_object()) throw bad("must be an object {name, language, params}");
  for (const auto& [k, v] : j.items()) {
    if (k != "name" && k != "language" && k != "params") {
      throw http::HttpError(400, "unknown_field", "unknown field 'template." + k + "'");
    }
  }
  outbound::TemplatePayload t;
  for (const char* field : {"name", "language"}) {
    if (!j.contains(field)) {
      throw http::HttpError(400, "missing_field", "missing field 'template." + std::string(field) + "'");
    }
    if (!j[field].is_string() || j[field].get<std::string>().empty() || j[field].get<std::string>().size() > 512) {
      throw bad(std::string("'") + field + "' must be a non-empty string");
    }
    if (http::HasControlCharacters(j[field].get<std::string>())) {
      throw bad(std::string("'") + field + "' must not contain control characters");
    }
  }
  t.name = j["name"].get<std::string>();
  t.language = j["language"].get<std::string>();
  if (j.contains("params")) {
    if (!j["params"].is_array() || j["params"].size() > 100) throw bad("'params' must be an array of strings");
    for (const auto& p : j["params"]) {
      if (!p.is_string() || p.get<std::string>().empty() || p.get<std::string>().size() > 1024) {
        throw bad("every parameter must be a non-empty string of at most 1024 bytes");
      }
      if (http::HasControlCharacters(p.get<std::string>()))
        throw bad("a parameter must not contain control characters");
      t.params.push_back(p.get<std::string>());
    }
  }
  return t;
}

struct MediaSend {
  std::string type, url, caption;
};

// {"type", "url", "caption"?} of an attachment sent by URL.
MediaSend ParseMedia(const nlohmann::json& j) {
  auto bad = [](const std::string& why) { return http::HttpError(400, "invalid_field", "'media': " + why); };
  if (!j.is_object()) throw bad("must be an object {type, url, caption?}");
  for (const auto& [k, v] : j.items()) {
    if (k != "type" && k != "url" && k != "caption") {
      throw http::HttpError(400, "unknown_field", "unknown field 'media." + k + "'");
    }
  }
  for (const char* field : {"type", "url"}) {
    if (!j.contains(field))
      throw http::HttpError(400, "missing_field", "missing field 'media." + std::string(field) + "'");
    if (!j[field].is_string()) throw bad(std::string("'") + field + "' must be a string");
  }
  MediaSend m{j["type"].get<std::string>(), j["url"].get<std::string>(), ""};
  if (!outbound::IsMediaType(m.type)) {
    throw bad("'type' must be one of image, audio, video, document, sticker");
  }
  // The channel fetches the file itself: an absolute https (or http) URL.
  if (m.url.size() > 2000 || !(m.url.rfind("https://", 0) == 0 || m.url.rfind("http://", 0) == 0) ||
      m.url.find_first_of(" \t\r\n") != std::string::npos || http::HasControlCharacters(m.url) || m.url.size() < 10) {
    throw bad("'url' must be an absolute http(s) URL of at most 2000 characters");
  }
  if (j.contains("caption")) {
    if (!j["caption"].is_string() || j["caption"].get<std::string>().size() > 1024) {
      throw bad("'caption' must be a string of at most 1024 bytes");
    }
    m.caption = j["caption"].get<std::string>();
    if (http::HasControlCharacters(m.caption)) throw bad("'caption' must not contain control characters");
  }
  return m;
}

}  // namespace

AgentApi::AgentApi(admin::Authenticator& auth, store::AgentRepository& agents, store::SetupRepository& setup,
                   store::TemplateRepository& templates, Hooks hooks)
    : auth_(auth), agents_(agents), setup_(setup), templates_(templates), hooks_(std::move(hooks)) {}

boost::asio::awaitable<std::optional<std::int64_t>> AgentApi::RequireActor(const admin::Principal& who,
                                                                           std::int64_t conversation) {
  auto actor = Actor(who);
  if (!actor) {
    if (!co_await agents_.BusinessOwns(who.business_id, conversation)) throw NotFound();
    co_return std::nullopt;
  }
  auto access = co_await agents_.Access(who.business_id, *actor, conversation);
  if (!access) throw NotFound();
  if (access->status != "assigned" || access->agent_id != actor) throw NotAssigned(access->status);
  co_return actor;
}

boost::asio::awaitable<http::Response> AgentApi::SetStatus(http::Request& req) {
  auto who = co_await auth_.RequireAgent(req);
  http::JsonBody body(req, {"status"});
  auto status = body.RequiredEnum("status", {"online", "away", "offline"});
  auto out = co_await agents_.SetStatus(who.business_id, *who.agent_id, status);
  if (!out) throw http::HttpError(404, "not_found", "this agent is deactivated");
  if (status == "online" && hooks_.assignment_needed) hooks_.assignment_needed();
  co_return Rendered(200, std::move(*out));
}

boost::asio::awaitable<http::Response> AgentApi::Conversations(http::Request& req) {
  auto who = co_await auth_.RequireAgent(req);
  auto items = co_await agents_.Conversations(who.business_id, *who.agent_id);
  co_return Rendered(200, R"({"items":)" + items + R"(,"next_cursor":null})");
}

boost::asio::awaitable<http::Response> AgentApi::Claim(http::Request& req) {
  auto who = co_await auth_.RequireAgent(req);
  http::JsonBody body(WithObjectBody(req), {"queue_id"});
  auto queue = body.OptionalInt("queue_id", 1, std::numeric_limits<std::int64_t>::max());
  auto [result, conversation] = co_await agents_.ClaimNext(who.business_id, *who.agent_id, queue);
  switch (result) {
    case store::AgentRepository::Claim::kClaimed:
      co_return Rendered(200, std::move(conversation));
    case store::AgentRepository::Claim::kAtCapacity:
      throw http::HttpError(409, "at_capacity", "you are at your capacity; resolve or transfer a conversation first");
    case store::AgentRepository::Claim::kNoneWaiting:
      break;
  }
  co_return http::Response::Empty(204);
}

boost::asio::awaitable<http::Response> AgentApi::Accept(http::Request& req) {
  auto who = co_await auth_.RequireAgent(req);
  auto out = co_await agents_.Accept(who.business_id, *who.agent_id, http::PathId(req, "id"));
  if (!out) throw http::HttpError(404, "not_found", "no conversation is offered to you with this id");
  co_return Rendered(200, std::move(*out));
}

boost::asio::awaitable<http::Response> AgentApi::Reject(http::Request& req) {
  auto who = co_await auth_.RequireAgent(req);
  auto out = co_await agents_.Reject(who.business_id, *who.agent_id, http::PathId(req, "id"));
  if (!out) throw http::HttpError(404, "not_found", "no conversation is offered to you with this id");
  if (hooks_.assignment_needed) hooks_.assignment_needed();
  co_return Rendered(200, std::move(*out));
}

boost::asio::awaitable<http::Response> AgentApi::SendMessage(http::Request& req) {
  auto who = co_await auth_.RequireAgent(req);
  auto conversation = http::PathId(req, "id");
  http::JsonBody body(req, {"text", "template", "media"});
  int given = body.Has("text") + body.Has("template") + body.Has("media");
  if (given == 0) {
    throw http::HttpError(400, "missing_field",
                          "missing field 'text' (or 'media', or 'template' for a WhatsApp template)");
  }
  if (given > 1) throw http::HttpError(400, "invalid_field", "give exactly one of 'text', 'media' and 'template'");
  std::optional<outbound::TemplatePayload> tmpl;
  std::optional<MediaSend> media;
  store::OutboundReply reply;
  if (body.Has("template")) {
    tmpl = ParseTemplate(body.json()["template"]);
  } else if (body.Has("media")) {
    media = ParseMedia(body.json()["media"]);
  } else {
    reply.text = body.RequiredString("text", 4096);
  }
  auto access = co_await agents_.Access(who.business_id, *who.agent_id, conversation);
  if (!access) throw NotFound();
  if (access->status != "assigned" || access->agent_id != who.agent_id) {
    throw http::HttpError(409, "not_assigned", "the conversation is " + access->status + ", not assigned to you");
  }
  auto now = std::chrono::system_clock::now();
  std::optional<std::chrono::system_clock::time_point> last_inbound;
  if (access->hours_since_inbound) {
    last_inbound = now - std::chrono::duration_cast<std::chrono::system_clock::duration>(
                             std::chrono::duration<double, std::ratio<3600>>(*access->hours_since_inbound));
  }
  auto kind = gateway::ChannelKindFromString(access->channel_kind).value_or(gateway::ChannelKind::kWhatsapp);
  if (tmpl) {
    // An approved template may be sent at any time: it is how a business
    // reaches a customer outside the customer-service window.
    if (kind != gateway::ChannelKind::kWhatsapp) {
      throw http::HttpError(422, "templates_unsupported",
                            "message templates are a WhatsApp feature; " + access->channel_kind +
                                " conversations take text (with HUMAN_AGENT where the channel has it)");
    }
    auto count = co_await templates_.ParameterCount(who.business_id, tmpl->name, tmpl->language);
    if (!count) {
      throw http::HttpError(422, "unknown_template",
                            "no template '" + tmpl->name + "' in language '" + tmpl->language +
                                "' is registered (PUT /v1/templates/{name})");
    }
    if (*count != static_cast<int>(tmpl->params.size())) {
      throw http::HttpError(400, "invalid_field",
                            "template '" + tmpl->name + "' takes " + std::to_string(*count) +
                                " body parameter(s), got " + std::to_string(tmpl->params.size()));
    }
    reply.type = "template";
    reply.payload = tmpl->Dump();
  } else {
    auto window = outbound::MessagingWindow(kind, last_inbound, now, access->human_agent_enabled);
    if (!window.allowed) {
      std::string what = kind == gateway::ChannelKind::kWhatsapp
                             ? "WhatsApp allows free-form replies only within 24 hours of it; send an approved "
                               "message template instead ({\"template\": {name, language, params}})"
                             : access->channel_kind + " allows replies only within " +
                                   std::string(access->human_agent_enabled ? "7 days (HUMAN_AGENT)" : "24 hours") +
                                   " of it";
      throw http::HttpError(
          422, "outside_messaging_window",
          "the customer's last message is more than " +
              std::string(access->human_agent_enabled && kind != gateway::ChannelKind::kWhatsapp ? "7 days"
                                                                                                 : "24 hours") +
              " old; " + what);
    }
    if (media) {
      if (media->type == "sticker" && kind != gateway::ChannelKind::kWhatsapp) {
        throw http::HttpError(422, "media_unsupported",
                              access->channel_kind + " takes image, audio, video and document attachments");
      }
      reply.type = media->type;
      if (!media->caption.empty()) reply.text = media->caption;
      reply.payload = outbound::MediaPayload{media->url}.Dump();
    }
    reply.tag = window.tag;
  }
  auto message = nlohmann::json::parse(co_await agents_.Reply(who.business_id, *who.agent_id, conversation, reply));
  if (hooks_.reply_queued) hooks_.reply_queued();
  co_return http::Response::Json(202, message);
}

boost::asio::awaitable<http::Response> AgentApi::Transfer(http::Request& req) {
  auto who = co_await auth_.Authenticate(req);
  auto conversation = http::PathId(req, "id");
  http::JsonBody body(req, {"queue_id", "agent_id"});
  constexpr auto kMax = std::numeric_limits<std::int64_t>::max();
  auto queue = body.OptionalInt("queue_id", 1, kMax);
  auto agent = body.OptionalInt("agent_id", 1, kMax);
  if (queue.has_value() == agent.has_value()) {
    throw http::HttpError(400, "invalid_field", "give exactly one of 'queue_id' and 'agent_id'");
  }
  auto actor = co_await RequireActor(who, conversation);
  std::optional<std::string> out;
  if (queue) {
    std::vector<std::int64_t> wanted{*queue};  // g++ 12: no braced lists in co_await
    if ((co_await setup_.ExistingQueues(who.business_id, wanted)).empty()) {
      throw http::HttpError(400, "invalid_field", "'queue_id' names no queue of this business");
    }
    out = co_await agents_.TransferToQueue(who.business_id, conversation, *queue, actor);
    if (hooks_.assignment_needed) hooks_.assignment_needed();
  } else {
    out = co_await agents_.TransferToAgent(who.business_id, conversation, *agent, actor);
    if (!out) throw http::HttpError(400, "invalid_field", "'agent_id' names no active agent of this business");
    if (hooks_.slot_freed) hooks_.slot_freed();
  }
  if (!out) throw NotFound();
  co_return Rendered(200, std::move(*out));
}

boost::asio::awaitable<http::Response> AgentApi::Resolve(http::Request& req) {
  auto who = co_await auth_.Authenticate(req);
  auto conversation = http::PathId(req, "id");
  http::JsonBody body(req, {"outcome", "amount_cents", "currency"});
  auto outcome = body.RequiredEnum("outcome", {"sale", "no_sale", "resolved"});
  auto amount = body.OptionalInt("amount_cents", 0, 1'000'000'000'000);
  std::optional<std::string> currency;
  if (body.Has("currency")) currency = body.RequiredCurrency("currency");
  if (outcome == "sale" && (!amount || !currency)) {
    throw http::HttpError(400, "missing_field", "a sale needs 'amount_cents' and 'currency'");
  }
  if (amount.has_value() != currency.has_value()) {
    throw http::HttpError(400, "invalid_field", "'amount_cents' and 'currency' go together");
  }
  // Who may act is checked in the resolving transaction, under the
  // conversation's lock.
  auto out = co_await agents_.Resolve(who.business_id, conversation, outcome, amount, currency, Actor(who));
  using Refusal = store::AgentRepository::Resolution::Refusal;
  switch (out.refused) {
    case Refusal::kNone:
      break;
    case Refusal::kNotFound:
      throw NotFound();
    case Refusal::kResolved:
      throw http::HttpError(404, "not_found", "no open conversation with this id");
    case Refusal::kNotAssigned:
      throw NotAssigned(out.status);
  }
  if (hooks_.slot_freed) hooks_.slot_freed();
  co_return Rendered(200, std::move(out.conversation));
}

}  // namespace sb::agent_api
