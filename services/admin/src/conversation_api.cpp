#include "sb/admin/conversation_api.hpp"

#include <nlohmann/json.hpp>

#include "sb/common/http/json_body.hpp"

namespace sb::admin {

namespace {
constexpr std::int64_t kMaxId = std::numeric_limits<std::int64_t>::max();

int Limit(const http::Request& req) { return static_cast<int>(http::QueryInt(req, "limit", 1, 200).value_or(50)); }
}  // namespace

http::Response PageResponse(const store::Page& page) {
  std::string body = R"({"items":[)";
  for (std::size_t i = 0; i < page.items.size(); ++i) {
    if (i) body += ',';
    body += page.items[i];
  }
  body += R"(],"next_cursor":)";
  body += page.next_cursor ? nlohmann::json(*page.next_cursor).dump() : "null";
  body += '}';
  http::Response res;
  res.body = std::move(body);
  return res;
}

boost::asio::awaitable<http::Response> ConversationApi::List(http::Request& req) {
  Principal who = co_await auth_.RequireBusiness(req);
  store::ConversationQuery q;
  q.business_id = who.business_id;
  if (auto status = req.Query("status"); status && !status->empty()) {
    static constexpr std::string_view kStatuses[] = {"bot", "waiting", "offered", "assigned", "resolved"};
    if (std::find(std::begin(kStatuses), std::end(kStatuses), *status) == std::end(kStatuses)) {
      throw http::HttpError(400, "invalid_field",
                            "query parameter 'status' must be one of: bot, waiting, offered, assigned, resolved");
    }
    q.status = std::string(*status);
  }
  q.queue_id = http::QueryInt(req, "queue_id", 1, kMaxId);
  q.before = http::QueryInt(req, "cursor", 1, kMaxId);
  q.limit = Limit(req);
  co_return PageResponse(co_await conversations_.List(q));
}

boost::asio::awaitable<std::int64_t> ConversationApi::ReaderBusiness(const http::Request& req, std::int64_t id) {
  Principal who = co_await auth_.Authenticate(req);
  if (who.role == Principal::Role::kBusiness) co_return who.business_id;
  if (who.role == Principal::Role::kAgent && agents_ && who.agent_id) {
    if (!co_await agents_->Access(who.business_id, *who.agent_id, id)) {
      throw http::HttpError(404, "not_found", "no such conversation");
    }
    co_return who.business_id;
  }
  throw http::HttpError(403, "forbidden", "this operation needs a business API key or an agent token");
}

boost::asio::awaitable<http::Response> ConversationApi::Get(http::Request& req) {
  auto id = http::PathId(req, "id");
  auto business = co_await ReaderBusiness(req, id);
  auto found = co_await conversations_.Get(business, id);
  if (!found) throw http::HttpError(404, "not_found", "no such conversation");
  http::Response res;
  res.body = std::move(*found);
  co_return res;
}

boost::asio::awaitable<http::Response> ConversationApi::Messages(http::Request& req) {
  store::MessageQuery q;
  q.conversation_id = http::PathId(req, "id");
  q.business_id = co_await ReaderBusiness(req, q.conversation_id);
  q.after = http::QueryInt(req, "cursor", 1, kMaxId);
  q.limit = Limit(req);
  auto page = co_await conversations_.Messages(q);
  if (!page) throw http::HttpError(404, "not_found", "no such conversation");
  co_return PageResponse(*page);
}

}  // namespace sb::admin
