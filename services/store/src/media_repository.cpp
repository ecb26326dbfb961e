#include "sb/store/media_repository.hpp"

#include "session.hpp"

namespace sb::store {

namespace {
std::string Id(std::int64_t v) { return std::to_string(v); }
}  // namespace

boost::asio::awaitable<std::vector<MediaClaim>> MediaRepository::ClaimDue(int limit, std::chrono::milliseconds lease) {
  std::vector<MediaClaim> out;
  co_await db_.Run("media/claim_due", [&](Session& s) {
    out.clear();
    for (const auto& row : s.Exec("media/claim_due", limit, static_cast<std::int64_t>(lease.count()))) {
      MediaClaim c;
      c.business_id = row[0].as<std::int64_t>();
      c.message_id = row[1].as<std::int64_t>();
      c.attempts = row[2].as<int>();
      c.url = OptionalText(row[3]);
      out.push_back(std::move(c));
    }
  });
  co_return out;
}

boost::asio::awaitable<bool> MediaRepository::Keep(std::int64_t business_id, std::int64_t message_id,
                                                   const std::string& content_type, const std::string& bytes) {
  bool kept = false;
  co_await db_.Run("media/keep", [&](Session& s) {
    kept = !s.Exec("media/keep", Id(business_id), Id(message_id), content_type, pqxx::binarystring(bytes)).empty();
  });
  co_return kept;
}

boost::asio::awaitable<bool> MediaRepository::Retry(std::int64_t business_id, std::int64_t message_id,
                                                    std::chrono::milliseconds delay, const std::string& error) {
  bool updated = false;
  co_await db_.Run("media/retry", [&](Session& s) {
    updated = !s.Exec("media/retry", Id(business_id), Id(message_id), static_cast<std::int64_t>(delay.count()), error)
                   .empty();
  });
  co_return updated;
}

boost::asio::awaitable<bool> MediaRepository::Finish(std::int64_t business_id, std::int64_t message_id,
                                                     const std::string& state, const std::string& error) {
  bool updated = false;
  co_await db_.Run("media/finish", [&](Session& s) {
    updated = !s.Exec("media/finish", Id(business_id), Id(message_id), state, error).empty();
  });
  co_return updated;
}

boost::asio::awaitable<bool> MediaRepository::Release(std::int64_t business_id, std::int64_t message_id) {
  bool updated = false;
  co_await db_.Run("media/release",
                   [&](Session& s) { updated = !s.Exec("media/release", Id(business_id), Id(message_id)).empty(); });
  co_return updated;
}

boost::asio::awaitable<std::optional<KeptMedia>> MediaRepository::Read(std::int64_t business_id,
                                                                       std::int64_t message_id) {
  std::optional<KeptMedia> out;
  co_await db_.Run("media/read", [&](Session& s) {
    auto rows = s.Exec("media/read", Id(business_id), Id(message_id));
    if (rows.empty()) return;
    KeptMedia m;
    m.content_type = rows[0][0].as<std::string>("application/octet-stream");
    pqxx::binarystring bytes(rows[0][1]);
    m.bytes = bytes.str();
    out = std::move(m);
  });
  co_return out;
}

}  // namespace sb::store
