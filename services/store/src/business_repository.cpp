#include <nlohmann/json.hpp>

#include "audit_record.hpp"
#include "sb/store/repositories.hpp"
#include "session.hpp"

namespace sb::store {

boost::asio::awaitable<std::optional<std::string>> BusinessRepository::Create(const std::string& name,
                                                                              const std::string& timezone,
                                                                              const std::string& token_hash_hex,
                                                                              const AuditEntry& audit) {
  std::optional<std::string> out;
  auto param = nlohmann::json{{"name", name}, {"timezone", timezone}, {"token_hash", token_hash_hex}}.dump();
  co_await db_.Run("businesses/create", [&](Session& s) {
    if (s.Exec("businesses/timezone_exists", timezone).empty()) return;
    out = s.Exec("businesses/create", param)[0][0].as<std::string>();
    RecordAudit(s, audit, &*out);
  });
  co_return out;
}

boost::asio::awaitable<std::optional<TokenOwner>> BusinessRepository::FindToken(const std::string& token_hash_hex) {
  std::optional<TokenOwner> owner;
  co_await db_.Run("tokens/lookup", [&](Session& s) {
    auto rows = s.Exec("tokens/lookup", token_hash_hex);
    if (rows.empty()) return;
    TokenOwner o;
    o.business_id = rows[0][0].as<std::int64_t>();
    o.role = rows[0][1].as<std::string>();
    if (!rows[0][2].is_null()) o.agent_id = rows[0][2].as<std::int64_t>();
    if (!rows[0][3].is_null()) o.expires_in_ms = rows[0][3].as<std::int64_t>();
    owner = std::move(o);
  });
  co_return owner;
}

}  // namespace sb::store
