#include "sb/store/outbound_repository.hpp"

#include "session.hpp"

namespace sb::store {

namespace {

OutboundClaim ToClaim(const pqxx::row& row) {
  OutboundClaim c;
  c.business_id = row[0].as<std::int64_t>();
  c.id = row[1].as<std::int64_t>();
  c.conversation_id = row[2].as<std::int64_t>();
  c.channel_id = row[3].as<std::int64_t>();
  c.channel_kind = row[4].as<std::string>("");
  c.channel_external_id = row[5].as<std::string>("");
  c.channel_active = row[6].as<bool>();
  c.access_token_enc_hex = OptionalText(row[7]);
  c.contact_external_id = row[8].as<std::string>("");
  c.text = row[9].as<std::string>("");
  c.tag = OptionalText(row[10]);
  c.attempts = row[11].as<int>();
  c.age = std::chrono::milliseconds(row[12].as<std::int64_t>());
  c.type = row[13].as<std::string>("text");
  c.payload = OptionalText(row[14]);
  return c;
}

}  // namespace

boost::asio::awaitable<std::vector<OutboundClaim>> OutboundRepository::ClaimDue(int limit,
                                                                                std::chrono::milliseconds lease) {
  std::vector<OutboundClaim> out;
  co_await db_.Run("outbound/claim_due", [&](Session& s) {
    for (const auto& row : s.Exec("outbound/claim_due", limit, static_cast<std::int64_t>(lease.count()))) {
      out.push_back(ToClaim(row));
    }
  });
  co_return out;
}

boost::asio::awaitable<std::optional<std::string>> OutboundRepository::MarkSent(
    std::int64_t business_id, std::int64_t id, const std::string& provider_message_id) {
  std::optional<std::string> status;
  co_await db_.Run("outbound/mark_sent", [&](Session& s) {
    auto rows = s.Exec("outbound/mark_sent", business_id, id, provider_message_id);
    if (!rows.empty()) status = rows[0][0].as<std::string>();
  });
  co_return status;
}

boost::asio::awaitable<bool> OutboundRepository::MarkRetry(std::int64_t business_id, std::int64_t id,
                                                           std::chrono::milliseconds delay, const std::string& error) {
  bool updated = false;
  co_await db_.Run("outbound/mark_retry", [&](Session& s) {
    updated = !s.Exec("outbound/mark_retry", business_id, id, static_cast<std::int64_t>(delay.count()), error).empty();
  });
  co_return updated;
}

boost::asio::awaitable<bool> OutboundRepository::MarkFailed(std::int64_t business_id, std::int64_t id,
                                                            const std::string& error) {
  bool updated = false;
  co_await db_.Run("outbound/mark_failed",
                   [&](Session& s) { updated = !s.Exec("outbound/mark_failed", business_id, id, error).empty(); });
  co_return updated;
}

boost::asio::awaitable<bool> OutboundRepository::Release(std::int64_t business_id, std::int64_t id) {
  bool updated = false;
  co_await db_.Run("outbound/release",
                   [&](Session& s) { updated = !s.Exec("outbound/release", business_id, id).empty(); });
  co_return updated;
}

boost::asio::awaitable<int> OutboundRepository::ApplyLateStatuses(std::chrono::milliseconds window) {
  int consumed = 0;
  co_await db_.Run("outbound/apply_late_statuses", [&](Session& s) {
    consumed = s.Exec("outbound/apply_late_statuses", static_cast<std::int64_t>(window.count()))[0][0].as<int>();
  });
  co_return consumed;
}

boost::asio::awaitable<std::vector<ProfileClaim>> OutboundRepository::ClaimProfiles(int limit) {
  std::vector<ProfileClaim> out;
  co_await db_.Run("profiles/claim", [&](Session& s) {
    for (const auto& r : s.Exec("profiles/claim", std::to_string(limit))) {
      out.push_back(ProfileClaim{r[0].as<std::int64_t>(), r[1].as<std::int64_t>(), r[2].as<std::string>(),
                                 r[3].as<std::string>(), r[4].as<std::string>()});
    }
  });
  co_return out;
}

boost::asio::awaitable<void> OutboundRepository::SetContactName(std::int64_t business_id, std::int64_t contact_id,
                                                                const std::string& name) {
  co_await db_.Run("profiles/set_name", [&](Session& s) {
    s.Exec("profiles/set_name", std::to_string(business_id), std::to_string(contact_id), name);
  });
}

}  // namespace sb::store
