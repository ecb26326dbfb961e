#include "sb/admin/routing_setup_api.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>

#include "field_bounds.hpp"
#include "path_key.hpp"
#include "sb/admin/audit_api.hpp"
#include "sb/common/crypto.hpp"
#include "sb/common/http/json_body.hpp"
#include "sb/router/rules.hpp"
#include "setup_checks.hpp"

namespace sb::admin {

namespace {

http::Response Rendered(int status, std::string body) {
  http::Response res;
  res.status = status;
  res.body = std::move(body);
  return res;
}

}  // namespace

RoutingSetupApi::RoutingSetupApi(Authenticator& auth, store::SetupRepository& setup,
                                 std::function<void(std::int64_t)> on_routing_changed)
    : auth_(auth), setup_(setup), on_routing_changed_(std::move(on_routing_changed)) {}

boost::asio::awaitable<http::Response> RoutingSetupApi::CreateQueue(http::Request& req) {
  Principal who = co_await auth_.RequireBusiness(req);
  http::JsonBody body(
      req, {"name", "strategy", "first_response_sla_s", "require_accept", "offer_timeout_s", "overflow_wait_s"});
  nlohmann::json p = {{"business_id", who.business_id},
                      {"name", body.RequiredString("name", 200)},
                      {"strategy", body.RequiredEnum("strategy", {"round_robin", "least_busy"})},
                      {"first_response_sla_s", Nullable(body.OptionalInt("first_response_sla_s", 1, kMaxSeconds))},
                      {"require_accept", body.OptionalBool("require_accept").value_or(false)},
                      {"offer_timeout_s", body.OptionalInt("offer_timeout_s", 1, 3600).value_or(30)},
                      {"overflow_wait_s", Nullable(body.OptionalInt("overflow_wait_s", 1, kMaxSeconds))}};
  nlohmann::json summary = p;
  summary.erase("business_id");
  auto audit = AuditEntryFor(who, req, "create", "queue", summary);
  co_return Rendered(201, co_await setup_.CreateQueue(p.dump(), audit));
}

boost::asio::awaitable<http::Response> RoutingSetupApi::CreateAgent(http::Request& req) {
  Principal who = co_await auth_.RequireBusiness(req);
  http::JsonBody body(req, {"name", "capacity", "queue_ids", "skills"});
  auto name = body.RequiredString("name", 200);
  auto capacity = body.RequiredInt("capacity", 0, 1000);
  auto queue_ids = body.RequiredIdArray("queue_ids", 100);
  auto skills = body.OptionalStringArray("skills");
  co_await RequireQueues(setup_, who.business_id, queue_ids, "queue_ids");
  std::sort(queue_ids.begin(), queue_ids.end());
  queue_ids.erase(std::unique(queue_ids.begin(), queue_ids.end()), queue_ids.end());
  std::string token = crypto::RandomToken("sbt_");
  nlohmann::json p = {{"business_id", who.business_id}, {"name", name},     {"capacity", capacity},
                      {"queue_ids", queue_ids},         {"skills", skills}, {"token_hash", crypto::Sha256Hex(token)}};
  nlohmann::json summary = {{"name", name}, {"capacity", capacity}, {"queue_ids", queue_ids}, {"skills", skills}};
  auto audit = AuditEntryFor(who, req, "create", "agent", summary);
  auto created = nlohmann::json::parse(co_await setup_.CreateAgent(p.dump(), audit));
  created["token"] = token;
  co_return http::Response::Json(201, created);
}

boost::asio::awaitable<http::Response> RoutingSetupApi::PutRouting(http::Request& req) {
  Principal who = co_await auth_.RequireBusiness(req);
  http::JsonBody body(req, {"default_queue_id", "rules"});
  auto compiled = router::RuleSet::Compile(body.json());
  if (!compiled) throw http::HttpError(400, compiled.error().code, compiled.error().message);
  const auto& rules = *compiled.value();
  std::vector<std::int64_t> default_queue{rules.default_queue_id()};  // g++ 12: no braced lists in co_await
  co_await RequireQueues(setup_, who.business_id, default_queue, "default_queue_id");
  // Name the rule whose target is not a queue of the business.
  static const nlohmann::json kNoRules = nlohmann::json::array();
  auto given = body.json().find("rules");
  const nlohmann::json& listed = given != body.json().end() ? *given : kNoRules;
  for (std::size_t i = 0; i < listed.size(); ++i) {
    auto target = listed[i]["target"].find("queue_id");
    if (target == listed[i]["target"].end()) continue;
    std::vector<std::int64_t> one{target->get<std::int64_t>()};
    co_await RequireQueues(setup_, who.business_id, one, "rules[" + std::to_string(i) + "].target.queue_id");
  }
  auto rules_json = listed.dump();
  nlohmann::json summary = {{"default_queue_id", rules.default_queue_id()}, {"rules", listed}};
  auto audit = AuditEntryFor(who, req, "replace", "routing", summary);
  auto out = co_await setup_.PutRouting(who.business_id, rules.default_queue_id(), rules_json, audit);
  if (on_routing_changed_) on_routing_changed_(who.business_id);
  co_return Rendered(200, std::move(out));
}

boost::asio::awaitable<http::Response> RoutingSetupApi::PutOrder(http::Request& req) {
  Principal who = co_await auth_.RequireBusiness(req);
  auto order_ref = PathKey(req, "order_ref");
  http::JsonBody body(req, {"customer_external_id", "customer_phone", "status", "carrier", "tracking_url", "eta",
                            "total_cents", "currency"});
  nlohmann::json p = {{"business_id", who.business_id},
                      {"order_ref", order_ref},
                      {"customer_external_id", Nullable(body.OptionalString("customer_external_id", 128))},
                      {"customer_phone", Nullable(body.OptionalString("customer_phone", 32))},
                      {"status", body.RequiredString("status", 100)},
                      {"carrier", Nullable(body.OptionalString("carrier", 100))},
                      {"tracking_url", Nullable(body.OptionalString("tracking_url", 2000))},
                      {"eta", Nullable(body.OptionalString("eta", 100))},
                      {"total_cents", body.RequiredInt("total_cents", 0, kMaxMoney)},
                      {"currency", body.RequiredCurrency("currency")}};
  co_return Rendered(200, co_await setup_.PutOrder(p.dump()));
}

boost::asio::awaitable<http::Response> RoutingSetupApi::PutProduct(http::Request& req) {
  Principal who = co_await auth_.RequireBusiness(req);
  auto sku = PathKey(req, "sku");
  http::JsonBody body(req, {"name", "stock", "price_cents", "currency"});
  nlohmann::json p = {{"business_id", who.business_id},
                      {"sku", sku},
                      {"name", body.RequiredString("name", 300)},
                      {"stock", body.RequiredInt("stock", 0, 1'000'000'000)},
                      {"price_cents", body.RequiredInt("price_cents", 0, kMaxMoney)},
                      {"currency", body.RequiredCurrency("currency")}};
  co_return Rendered(200, co_await setup_.PutProduct(p.dump()));
}

}  // namespace sb::admin
