#include <nlohmann/json.hpp>

#include "sb/store/repositories.hpp"
#include "session.hpp"

namespace sb::store {
namespace {

template <class T>
nlohmann::json Nullable(const std::optional<T>& v) {
  return v ? nlohmann::json(*v) : nlohmann::json();
}

}  // namespace

boost::asio::awaitable<Page> ConversationRepository::List(const ConversationQuery& q) {
  auto param = nlohmann::json{
      {"business_id", q.business_id},
      {"status", Nullable(q.status)},
      {"queue_id", Nullable(q.queue_id)},
      {"before", Nullable(q.before)},
      {"limit",
       q.limit}}.dump();
  Page page;
  co_await db_.Run("conversations/list",
                   [&](Session& s) { page = ToPage(s.Exec("conversations/list", param), q.limit); });
  co_return page;
}

boost::asio::awaitable<std::optional<std::string>> ConversationRepository::Get(std::int64_t business_id,
                                                                               std::int64_t id) {
  std::optional<std::string> out;
  co_await db_.Run("conversations/get", [&](Session& s) {
    auto rows = s.Exec("conversations/get", std::to_string(business_id), std::to_string(id));
    if (!rows.empty()) out = rows[0][0].as<std::string>();
  });
  co_return out;
}

boost::asio::awaitable<std::optional<Page>> ConversationRepository::Messages(const MessageQuery& q) {
  auto param = nlohmann::json{
      {"business_id", q.business_id},
      {"conversation_id", q.conversation_id},
      {"after", Nullable(q.after)},
      {"limit",
       q.limit}}.dump();
  std::optional<Page> page;
  co_await db_.Run("messages/list", [&](Session& s) {
    if (s.Exec("conversations/get", std::to_string(q.business_id), std::to_string(q.conversation_id)).empty()) {
      return;
    }
    page = ToPage(s.Exec("messages/list", param), q.limit);
  });
  co_return page;
}

}  // namespace sb::store
