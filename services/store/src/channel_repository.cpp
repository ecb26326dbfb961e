#include <nlohmann/json.hpp>

#include "audit_record.hpp"
#include "sb/store/repositories.hpp"
#include "session.hpp"

namespace sb::store {

namespace {
nlohmann::json Nullable(const std::optional<std::string>& v) { return v ? nlohmann::json(*v) : nlohmann::json(); }
}  // namespace

boost::asio::awaitable<std::string> ChannelRepository::Create(const NewChannel& c, const AuditEntry& audit) {
  auto param = nlohmann::json{{"business_id", c.business_id},
                              {"kind", c.kind},
                              {"external_id", c.external_id},
                              {"account_id", Nullable(c.account_id)},
                              {"name", Nullable(c.name)},
                              {"app_secret_enc", c.app_secret_enc_hex},
                              {"verify_token_hash", c.verify_token_hash_hex},
                              {"access_token_enc", Nullable(c.access_token_enc_hex)},
                              {"public_url", public_url_}}
                   .dump();
  std::string out;
  co_await db_.Run("channels/create", [&](Session& s) {
    out = s.Exec("channels/create", param)[0][0].as<std::string>();
    RecordAudit(s, audit, &out);
  });
  co_return out;
}

boost::asio::awaitable<Page> ChannelRepository::List(std::int64_t business_id, std::optional<std::int64_t> after,
                                                     int limit) {
  auto param = nlohmann::json{
      {"business_id", business_id},
      {"after", after ? nlohmann::json(*after) : nlohmann::json()},
      {"limit",
       limit}}.dump();
  Page page;
  co_await db_.Run("channels/page",
                   [&](Session& s) { page = ToPage(s.Exec("channels/page", param, public_url_), limit); });
  co_return page;
}

boost::asio::awaitable<std::optional<std::string>> ChannelRepository::Get(std::int64_t business_id, std::int64_t id) {
  std::optional<std::string> out;
  co_await db_.Run("channels/get", [&](Session& s) {
    auto rows = s.Exec("channels/get", std::to_string(business_id), std::to_string(id), public_url_);
    if (!rows.empty()) out = rows[0][0].as<std::string>();
  });
  co_return out;
}

boost::asio::awaitable<std::optional<std::string>> ChannelRepository::Patch(const std::string& params_json,
                                                                            const AuditEntry& audit) {
  std::optional<std::string> out;
  co_await db_.Run("channels/patch", [&](Session& s) {
    auto rows = s.Exec("channels/patch", params_json, public_url_);
    if (rows.empty()) return;
    out = rows[0][0].as<std::string>();
    RecordAudit(s, audit);
  });
  co_return out;
}

boost::asio::awaitable<std::vector<ChannelSecret>> ChannelRepository::Resolve(
    const std::string& kind, const std::vector<std::string>& ids, const std::vector<std::string>& accounts) {
  auto param = nlohmann::json{{"kind", kind}, {"ids", ids}, {"accounts", accounts}}.dump();
  std::vector<ChannelSecret> out;
  co_await db_.Run("channels/resolve", [&](Session& s) {
    for (const auto& row : s.Exec("channels/resolve", param)) {
      out.push_back(ChannelSecret{row[0].as<std::string>(), row[1].as<bool>(), row[2].as<std::int64_t>(),
                                  row[3].as<std::int64_t>(), row[4].as<std::string>(), row[5].as<bool>()});
    }
  });
  co_return out;
}

boost::asio::awaitable<bool> ChannelRepository::VerifyTokenExists(const std::string& kind,
                                                                  const std::string& token_hash_hex) {
  bool found = false;
  co_await db_.Run("channels/verify_token_exists",
                   [&](Session& s) { found = !s.Exec("channels/verify_token_exists", kind, token_hash_hex).empty(); });
  co_return found;
}

}  // namespace sb::store
