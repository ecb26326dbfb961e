#include "sb/store/presence_repository.hpp"

#include <nlohmann/json.hpp>

#include "session.hpp"

namespace sb::store {

namespace {
std::vector<AgentKey> Keys(const pqxx::result& rows) {
  std::vector<AgentKey> out;
  for (const auto& r : rows) out.emplace_back(r[0].as<std::int64_t>(), r[1].as<std::int64_t>());
  return out;
}
}  // namespace

boost::asio::awaitable<bool> PresenceRepository::StreamOpened(std::int64_t business, std::int64_t agent) {
  bool restored = false;
  co_await db_.Run("presence/connected", [&](Session& s) {
    auto rows = s.Exec("presence/connected", std::to_string(business), std::to_string(agent));
    restored = !rows.empty() && rows[0][0].as<bool>();
  });
  co_return restored;
}

boost::asio::awaitable<std::vector<AgentKey>> PresenceRepository::Heartbeat(const std::vector<AgentKey>& agents) {
  std::vector<AgentKey> restored;
  if (agents.empty()) co_return restored;
  nlohmann::json held = nlohmann::json::array();
  for (const auto& [business, agent] : agents) held.push_back(nlohmann::json::array({business, agent}));
  co_await db_.Run("presence/heartbeat", [&](Session& s) {
    for (const auto& r : s.Exec("presence/heartbeat", held.dump())) {
      if (r[2].as<bool>()) restored.emplace_back(r[0].as<std::int64_t>(), r[1].as<std::int64_t>());
    }
  });
  co_return restored;
}

boost::asio::awaitable<std::vector<AgentKey>> PresenceRepository::Sweep(double timeout_s) {
  std::vector<AgentKey> away;
  co_await db_.Run("presence/sweep",
                   [&](Session& s) { away = Keys(s.Exec("presence/sweep", std::to_string(timeout_s))); });
  co_return away;
}

boost::asio::awaitable<std::optional<std::string>> PresenceRepository::CreateTicket(std::int64_t business,
                                                                                    std::int64_t agent,
                                                                                    const std::string& hash_hex,
                                                                                    int ttl_s) {
  std::optional<std::string> expires;
  co_await db_.Run("presence/create_ticket", [&](Session& s) {
    auto rows = s.Exec("presence/create_ticket", std::to_string(business), std::to_string(agent), hash_hex,
                       std::to_string(ttl_s));
    if (!rows.empty()) expires = rows[0][0].as<std::string>();
  });
  co_return expires;
}

boost::asio::awaitable<std::optional<AgentKey>> PresenceRepository::UseTicket(const std::string& hash_hex) {
  std::optional<AgentKey> who;
  co_await db_.Run("presence/use_ticket", [&](Session& s) {
    auto rows = Keys(s.Exec("presence/use_ticket", hash_hex));
    if (!rows.empty()) who = rows.front();
  });
  co_return who;
}

}  // namespace sb::store
