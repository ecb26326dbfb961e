#include "sb/admin/setup_api.hpp"

#include <nlohmann/json.hpp>

#include <limits>

#include "field_bounds.hpp"
#include "patch_body.hpp"
#include "sb/admin/audit_api.hpp"
#include "sb/admin/conversation_api.hpp"
#include "sb/common/http/json_body.hpp"

namespace sb::admin {

SetupApi::SetupApi(Authenticator& auth, store::BusinessRepository& businesses, store::ChannelRepository& channels,
                   const crypto::SecretBox& secrets, std::function<void()> on_channels_changed)
    : auth_(auth),
      businesses_(businesses),
      channels_(channels),
      secrets_(secrets),
      on_channels_changed_(std::move(on_channels_changed)) {}

boost::asio::awaitable<http::Response> SetupApi::CreateBusiness(http::Request& req) {
  co_await auth_.RequireAdmin(req);
  http::JsonBody body(req, {"name", "timezone"});
  auto name = body.RequiredString("name", 200);
  auto timezone = body.OptionalString("timezone", 64).value_or("UTC");
  std::string key = crypto::RandomToken("sbk_");
  Principal admin{Principal::Role::kAdmin, 0, std::nullopt, {}};
  auto audit = AuditEntryFor(admin, req, "create", "business", {{"name", name}, {"timezone", timezone}});
  auto created = co_await businesses_.Create(name, timezone, crypto::Sha256Hex(key), audit);
  if (!created) {
    throw http::HttpError(400, "invalid_field",
                          "'timezone' must be an IANA time zone name such as Europe/Lisbon, got '" + timezone + "'");
  }
  auto out = nlohmann::json::parse(*created);
  out["api_key"] = key;
  co_return http::Response::Json(201, out);
}

boost::asio::awaitable<http::Response> SetupApi::CreateChannel(http::Request& req) {
  Principal who = co_await auth_.RequireBusiness(req);
  http::JsonBody body(req, {"kind", "external_id", "account_id", "app_secret", "verify_token", "access_token", "name"});
  store::NewChannel c;
  c.business_id = who.business_id;
  c.kind = body.RequiredEnum("kind", {"messenger", "instagram", "whatsapp"});
  c.external_id = body.RequiredString("external_id", 128);
  c.account_id = body.OptionalString("account_id", 128);
  c.name = body.OptionalString("name", 200);
  c.app_secret_enc_hex = crypto::HexEncode(secrets_.Seal(body.RequiredString("app_secret", 512)));
  c.verify_token_hash_hex = crypto::Sha256Hex(body.RequiredString("verify_token", 512));
  if (auto token = body.OptionalString("access_token", 4096)) {
    c.access_token_enc_hex = crypto::HexEncode(secrets_.Seal(*token));
  }
  nlohmann::json summary = {{"kind", c.kind},
                            {"external_id", c.external_id},
                            {"account_id", Nullable(c.account_id)},
                            {"name", Nullable(c.name)},
                            {"app_secret", "[redacted]"},
                            {"verify_token", "[redacted]"},
                            {"access_token", c.access_token_enc_hex ? nlohmann::json("[redacted]") : nlohmann::json()}};
  auto audit = AuditEntryFor(who, req, "create", "channel", summary);
  std::string created;
  try {
    created = co_await channels_.Create(c, audit);
  } catch (const store::Conflict&) {
    throw http::HttpError(409, "channel_exists",
                          "a " + c.kind + " channel with external_id '" + c.external_id + "' is registered already");
  }
  if (on_channels_changed_) on_channels_changed_();
  http::Response res;
  res.status = 201;
  res.body = std::move(created);
  co_return res;
}

boost::asio::awaitable<http::Response> SetupApi::ListChannels(http::Request& req) {
  Principal who = co_await auth_.RequireBusiness(req);
  auto after = http::QueryInt(req, "cursor", 1, std::numeric_limits<std::int64_t>::max());
  int limit = static_cast<int>(http::QueryInt(req, "limit", 1, 200).value_or(50));
  co_return PageResponse(co_await channels_.List(who.business_id, after, limit));
}

boost::asio::awaitable<http::Response> SetupApi::GetChannel(http::Request& req) {
  Principal who = co_await auth_.RequireBusiness(req);
  auto found = co_await channels_.Get(who.business_id, http::PathId(req, "id"));
  if (!found) throw http::HttpError(404, "not_found", "no such channel");
  http::Response res;
  res.body = std::move(*found);
  co_return res;
}

boost::asio::awaitable<http::Response> SetupApi::ApplyChannelPatch(const Principal& who, const http::Request& req,
                                                                   std::int64_t id, nlohmann::json params) {
  // The audit summary names what changed; sealed secrets show as redacted.
  auto audit = AuditEntryForPatch(who, req, "channel", std::to_string(id), params);
  params["business_id"] = who.business_id;
  params["id"] = id;
  auto changed = co_await channels_.Patch(params.dump(), audit);
  if (!changed) throw http::HttpError(404, "not_found", "no such channel");
  // This process forgets at once; the others on the NOTIFY sent at commit.
  if (on_channels_changed_) on_channels_changed_();
  http::Response res;
  res.body = std::move(*changed);
  co_return res;
}

boost::asio::awaitable<http::Response> SetupApi::PatchChannel(http::Request& req) {
  Principal who = co_await auth_.RequireBusiness(req);
  auto id = http::PathId(req, "id");
  PatchBody patch(
      req, {"name", "account_id", "app_secret", "verify_token", "access_token", "human_agent_enabled", "active"});
  patch.String("name", 200, true);
  patch.String("account_id", 128, true);
  patch.String("app_secret", 512);
  patch.String("verify_token", 512);
  patch.String("access_token", 4096, true);
  patch.Bool("human_agent_enabled");
  patch.Bool("active");
  // Secrets are stored sealed or hashed, as at creation.
  nlohmann::json params = patch.out();
  if (auto it = params.find("app_secret"); it != params.end()) {
    params["app_secret_enc"] = crypto::HexEncode(secrets_.Seal(it->get<std::string>()));
    params.erase("app_secret");
  }
  if (auto it = params.find("verify_token"); it != params.end()) {
    params["verify_token_hash"] = crypto::Sha256Hex(it->get<std::string>());
    params.erase("verify_token");
  }
  if (auto it = params.find("access_token"); it != params.end()) {
    params["access_token_enc"] =
        it->is_null() ? nlohmann::json() : nlohmann::json(crypto::HexEncode(secrets_.Seal(it->get<std::string>())));
    params.erase("access_token");
  }
  co_return co_await ApplyChannelPatch(who, req, id, std::move(params));
}

boost::asio::awaitable<http::Response> SetupApi::DeleteChannel(http::Request& req) {
  Principal who = co_await auth_.RequireBusiness(req);
  auto id = http::PathId(req, "id");
  nlohmann::json params = {{"active", false}};
  co_return co_await ApplyChannelPatch(who, req, id, std::move(params));
}

}  // namespace sb::admin
