#include "sb/admin/lifecycle_api.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <limits>

#include "field_bounds.hpp"
#include "patch_body.hpp"
#include "sb/admin/audit_api.hpp"
#include "sb/admin/conversation_api.hpp"
#include "sb/common/crypto.hpp"
#include "setup_checks.hpp"

namespace sb::admin {

namespace {

constexpr std::int64_t kMaxGrace = 30 * 24 * 3600;
constexpr std::int64_t kDefaultGrace = 24 * 3600;

http::Response Rendered(std::string body) {
  http::Response res;
  res.body = std::move(body);
  return res;
}

http::HttpError NotFound(const char* what) { return http::HttpError(404, "not_found", std::string("no such ") + what); }

}  // namespace

LifecycleApi::LifecycleApi(Authenticator& auth, store::LifecycleRepository& lifecycle, store::SetupRepository& setup,
                           Hooks hooks)
    : auth_(auth), lifecycle_(lifecycle), setup_(setup), hooks_(std::move(hooks)) {}

// ---- shared shapes

boost::asio::awaitable<http::Response> LifecycleApi::List(http::Request& req, store::SetupKind kind,
                                                          bool numeric_cursor) {
  Principal who = co_await auth_.RequireBusiness(req);
  store::PageQuery q;
  q.business_id = who.business_id;
  q.limit = static_cast<int>(http::QueryInt(req, "limit", 1, 200).value_or(50));
  if (numeric_cursor) {
    if (auto after = http::QueryInt(req, "cursor", 1, std::numeric_limits<std::int64_t>::max())) {
      q.after = std::to_string(*after);
    }
  } else if (auto after = req.Query("cursor"); after && !after->empty()) {
    if (after->size() > 100) throw http::HttpError(400, "invalid_field", "query parameter 'cursor' is too long");
    q.after = std::string(*after);
  }
  co_return PageResponse(co_await lifecycle_.List(kind, q));
}

boost::asio::awaitable<http::Response> LifecycleApi::Get(http::Request& req, store::SetupKind kind, std::string key,
                                                         const char* what) {
  Principal who = co_await auth_.RequireBusiness(req);
  auto found = co_await lifecycle_.Get(kind, who.business_id, key);
  if (!found) throw NotFound(what);
  co_return Rendered(std::move(*found));
}

boost::asio::awaitable<http::Response> LifecycleApi::Patch(const Principal& who, const http::Request& req,
                                                           store::SetupKind kind, nlohmann::json params,
                                                           std::string key, const char* what) {
  auto audit = AuditEntryForPatch(who, req, what, key, params);
  params["business_id"] = who.business_id;
  auto changed = co_await lifecycle_.Patch(kind, params.dump(), audit);
  if (!changed) throw NotFound(what);
  co_return Rendered(std::move(*changed));
}

// ---- queues

boost::asio::awaitable<http::Response> LifecycleApi::ListQueues(http::Request& req) {
  co_return co_await List(req, store::SetupKind::kQueues, true);
}

boost::asio::awaitable<http::Response> LifecycleApi::GetQueue(http::Request& req) {
  auto id = std::to_string(http::PathId(req, "id"));
  co_return co_await Get(req, store::SetupKind::kQueues, id, "queue");
}

boost::asio::awaitable<http::Response> LifecycleApi::PatchQueue(http::Request& req) {
  Principal who = co_await auth_.RequireBusiness(req);
  auto id = http::PathId(req, "id");
  PatchBody patch(req, {"name", "strategy", "first_response_sla_s", "require_accept", "offer_timeout_s",
                        "overflow_wait_s", "active"});
  patch.String("name", 200);
  patch.Enum("strategy", {"round_robin", "least_busy"});
  patch.Int("first_response_sla_s", 1, kMaxSeconds, true);
  patch.Bool("require_accept");
  patch.Int("offer_timeout_s", 1, 3600);
  patch.Int("overflow_wait_s", 1, kMaxSeconds, true);
  patch.Bool("active");
  auto params = patch.out();
  bool deactivate = params.value("active", true) == false;
  bool is_default = false;
  if (deactivate) is_default = co_await lifecycle_.IsDefaultQueue(who.business_id, id);
  if (is_default) {
    throw http::HttpError(409, "queue_is_default",
                          "queue " + std::to_string(id) +
                              " is the default queue of the routing rules; PUT /v1/routing with another first");
  }
  auto key = std::to_string(id);
  params["id"] = id;
  co_return co_await Patch(who, req, store::SetupKind::kQueues, std::move(params), key, "queue");
}

boost::asio::awaitable<http::Response> LifecycleApi::DeleteQueue(http::Request& req) {
  Principal who = co_await auth_.RequireBusiness(req);
  co_return co_await DeactivateQueue(who, req, http::PathId(req, "id"));
}

boost::asio::awaitable<http::Response> LifecycleApi::DeactivateQueue(const Principal& who, const http::Request& req,
                                                                     std::int64_t id) {
  if (co_await lifecycle_.IsDefaultQueue(who.business_id, id)) {
    throw http::HttpError(409, "queue_is_default",
                          "queue " + std::to_string(id) +
                              " is the default queue of the routing rules; PUT /v1/routing with another first");
  }
  nlohmann::json params = {{"active", false}};
  auto key = std::to_string(id);
  params["id"] = id;
  co_return co_await Patch(who, req, store::SetupKind::kQueues, std::move(params), key, "queue");
}

// ---- agents

boost::asio::awaitable<http::Response> LifecycleApi::ListAgents(http::Request& req) {
  co_return co_await List(req, store::SetupKind::kAgents, true);
}

boost::asio::awaitable<http::Response> LifecycleApi::GetAgent(http::Request& req) {
  auto id = std::to_string(http::PathId(req, "id"));
  co_return co_await Get(req, store::SetupKind::kAgents, id, "agent");
}

boost::asio::awaitable<http::Response> LifecycleApi::PatchAgent(http::Request& req) {
  Principal who = co_await auth_.RequireBusiness(req);
  auto id = http::PathId(req, "id");
  PatchBody patch(req, {"name", "capacity", "queue_ids", "skills", "active"});
  patch.String("name", 200);
  patch.Int("capacity", 0, 1000);
  patch.Bool("active");
  auto params = patch.out();
  std::optional<std::string> queues;
  if (patch.body().Has("queue_ids")) {
    auto ids = patch.body().RequiredIdArray("queue_ids", 100);
    co_await RequireQueues(setup_, who.business_id, ids, "queue_ids");
    std::sort(ids.begin(), ids.end());
    ids.erase(std::unique(ids.begin(), ids.end()), ids.end());
    queues = nlohmann::json(ids).dump();
  } else if (patch.body().json().contains("queue_ids")) {
    throw http::HttpError(400, "invalid_field", "'queue_ids' cannot be null");
  }
  if (patch.body().json().contains("skills")) {
    if (patch.body().json()["skills"].is_null()) {
      throw http::HttpError(400, "invalid_field", "'skills' cannot be null");
    }
    params["skills"] = patch.body().OptionalStringArray("skills");
  }
  bool deactivate = params.value("active", true) == false;
  if (deactivate) params.erase("active");
  nlohmann::json summary = params;
  if (queues) summary["queue_ids"] = nlohmann::json::parse(*queues);
  // Deactivating through PATCH is one change, recorded once, with whatever
  // else the request changed.
  auto audit = AuditEntryFor(who, req, deactivate ? "deactivate" : "update", "agent", summary);
  audit.resource_id = std::to_string(id);
  params["business_id"] = who.business_id;
  params["id"] = id;
  auto changed = co_await lifecycle_.PatchAgent(params.dump(), queues, deactivate, audit);
  if (!changed) throw NotFound("agent");
  if (deactivate) AgentDeactivated(id);
  co_return Rendered(std::move(*changed));
}

boost::asio::awaitable<http::Response> LifecycleApi::DeleteAgent(http::Request& req) {
  Principal who = co_await auth_.RequireBusiness(req);
  co_return co_await DeactivateAgent(who, req, http::PathId(req, "id"));
}

boost::asio::awaitable<http::Response> LifecycleApi::DeactivateAgent(const Principal& who, const http::Request& req,
                                                                     std::int64_t id) {
  auto audit = AuditEntryFor(who, req, "deactivate", "agent", nlohmann::json::object());
  audit.resource_id = std::to_string(id);
  auto done = co_await lifecycle_.DeactivateAgent(who.business_id, id, audit);
  if (!done) throw NotFound("agent");
  AgentDeactivated(id);
  co_return Rendered(std::move(*done));
}

void LifecycleApi::AgentDeactivated(std::int64_t id) {
  if (hooks_.agent_revoked) hooks_.agent_revoked(id);
  if (hooks_.conversations_waiting) hooks_.conversations_waiting();
}

boost::asio::awaitable<http::Response> LifecycleApi::RotateAgentToken(http::Request& req) {
  Principal who = co_await auth_.RequireBusiness(req);
  auto id = http::PathId(req, "id");
  if (!req.body.empty()) http::JsonBody body(req, {});  // nothing to say, but no unknown fields
  std::string token = crypto::RandomToken("sbt_");
  auto audit = AuditEntryFor(who, req, "rotate", "agent_token", nlohmann::json::object());
  audit.resource_id = std::to_string(id);
  bool rotated = co_await lifecycle_.RotateAgentToken(who.business_id, id, crypto::Sha256Hex(token), audit);
  if (!rotated) {
    auto agent = std::to_string(id);
    if (co_await lifecycle_.Get(store::SetupKind::kAgents, who.business_id, agent)) {
      throw http::HttpError(409, "agent_inactive",
                            "agent " + agent + " is deactivated; PATCH it with {\"active\": true} first");
    }
    throw NotFound("agent");
  }
  if (hooks_.agent_revoked) hooks_.agent_revoked(id);
  co_return http::Response::Json(200, {{"id", id}, {"token", token}});
}

// ---- orders and products

boost::asio::awaitable<http::Response> LifecycleApi::ListOrders(http::Request& req) {
  co_return co_await List(req, store::SetupKind::kOrders, false);
}

boost::asio::awaitable<http::Response> LifecycleApi::GetOrder(http::Request& req) {
  co_return co_await Get(req, store::SetupKind::kOrders, PathKey(req, "order_ref"), "order");
}

boost::asio::awaitable<http::Response> LifecycleApi::PatchOrder(http::Request& req) {
  Principal who = co_await auth_.RequireBusiness(req);
  auto order_ref = PathKey(req, "order_ref");
  PatchBody patch(req, {"customer_external_id", "customer_phone", "status", "carrier", "tracking_url", "eta",
                        "total_cents", "currency", "active"});
  patch.String("customer_external_id", 128, true);
  patch.String("customer_phone", 32, true);
  patch.String("status", 100);
  patch.String("carrier", 100, true);
  patch.String("tracking_url", 2000, true);
  patch.String("eta", 100, true);
  patch.Int("total_cents", 0, kMaxMoney);
  patch.Currency("currency");
  patch.Bool("active");
  auto params = patch.out();
  params["order_ref"] = order_ref;
  co_return co_await Patch(who, req, store::SetupKind::kOrders, std::move(params), order_ref, "order");
}

boost::asio::awaitable<http::Response> LifecycleApi::DeleteOrder(http::Request& req) {
  Principal who = co_await auth_.RequireBusiness(req);
  auto order_ref = PathKey(req, "order_ref");
  nlohmann::json params = {{"active", false}, {"order_ref", order_ref}};
  co_return co_await Patch(who, req, store::SetupKind::kOrders, std::move(params), order_ref, "order");
}

boost::asio::awaitable<http::Response> LifecycleApi::ListProducts(http::Request& req) {
  co_return co_await List(req, store::SetupKind::kProducts, false);
}

boost::asio::awaitable<http::Response> LifecycleApi::GetProduct(http::Request& req) {
  co_return co_await Get(req, store::SetupKind::kProducts, PathKey(req, "sku"), "product");
}

boost::asio::awaitable<http::Response> LifecycleApi::PatchProduct(http::Request& req) {
  Principal who = co_await auth_.RequireBusiness(req);
  auto sku = PathKey(req, "sku");
  PatchBody patch(req, {"name", "stock", "price_cents", "currency", "active"});
  patch.String("name", 300);
  patch.Int("stock", 0, 1'000'000'000);
  patch.Int("price_cents", 0, kMaxMoney);
  patch.Currency("currency");
  patch.Bool("active");
  auto params = patch.out();
  params["sku"] = sku;
  co_return co_await Patch(who, req, store::SetupKind::kProducts, std::move(params), sku, "product");
}

boost::asio::awaitable<http::Response> LifecycleApi::DeleteProduct(http::Request& req) {
  Principal who = co_await auth_.RequireBusiness(req);
  auto sku = PathKey(req, "sku");
  nlohmann::json params = {{"active", false}, {"sku", sku}};
  co_return co_await Patch(who, req, store::SetupKind::kProducts, std::move(params), sku, "product");
}

// ---- ads

boost::asio::awaitable<http::Response> LifecycleApi::ListAds(http::Request& req) {
  co_return co_await List(req, store::SetupKind::kAds, false);
}

boost::asio::awaitable<http::Response> LifecycleApi::GetAd(http::Request& req) {
  co_return co_await Get(req, store::SetupKind::kAds, PathKey(req, "ad_id"), "ad");
}

boost::asio::awaitable<http::Response> LifecycleApi::PatchAd(http::Request& req) {
  Principal who = co_await auth_.RequireBusiness(req);
  auto ad_id = PathKey(req, "ad_id");
  PatchBody patch(req, {"name", "campaign", "spend_cents", "currency", "active"});
  patch.String("name", 300, true);
  patch.String("campaign", 300, true);
  patch.Int("spend_cents", 0, kMaxMoney);
  patch.Currency("currency");
  patch.Bool("active");
  auto params = patch.out();
  params["ad_id"] = ad_id;
  co_return co_await Patch(who, req, store::SetupKind::kAds, std::move(params), ad_id, "ad");
}

boost::asio::awaitable<http::Response> LifecycleApi::DeleteAd(http::Request& req) {
  Principal who = co_await auth_.RequireBusiness(req);
  auto ad_id = PathKey(req, "ad_id");
  nlohmann::json params = {{"active", false}, {"ad_id", ad_id}};
  co_return co_await Patch(who, req, store::SetupKind::kAds, std::move(params), ad_id, "ad");
}

// ---- keys

boost::asio::awaitable<http::Response> LifecycleApi::RotateBusinessKey(http::Request& req) {
  Principal who = co_await auth_.RequireBusiness(req);
  int grace = 0;
  {
    // An empty body means the default grace.
    if (req.body.empty()) {
      grace = static_cast<int>(kDefaultGrace);
    } else {
      http::JsonBody body(req, {"grace_s"});
      grace = static_cast<int>(body.OptionalInt("grace_s", 0, kMaxGrace).value_or(kDefaultGrace));
    }
  }
  std::string key = crypto::RandomToken("sbk_");
  nlohmann::json summary = {{"grace_s", grace}};
  auto audit = AuditEntryFor(who, req, "rotate", "business_key", summary);
  auto rotated = co_await lifecycle_.RotateBusinessKey(who.business_id, crypto::Sha256Hex(key), grace, audit);
  auto out = nlohmann::json::parse(rotated);
  if (hooks_.keys_rotated) hooks_.keys_rotated();
  out["api_key"] = key;
  out["grace_s"] = grace;
  co_return http::Response::Json(200, out);
}

}  // namespace sb::admin
