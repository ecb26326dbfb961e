#pragma once
/// The store's queries, grouped by what they are about. Every method runs on
/// the pool (never blocking the caller's thread) and is scoped by business
/// where the data belongs to one. JSON results come rendered by PostgreSQL
/// in the API's shapes (DESIGN.md "Resource shapes").
#include <boost/asio/awaitable.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "sb/store/database.hpp"
#include "sb/store/lease.hpp"

namespace sb::store {

/// A page of rendered JSON objects and the cursor of the next page.
struct Page {
  std::vector<std::string> items;
  std::optional<std::string> next_cursor;
};

struct AuditEntry;  // sb/store/audit.hpp

struct TokenOwner {
  std::int64_t business_id = 0;
  std::string role;  // business | agent
  std::optional<std::int64_t> agent_id;
  /// Milliseconds until the token expires (a rotated key in its grace period).
  std::optional<std::int64_t> expires_in_ms;
};

class BusinessRepository {
 public:
  explicit BusinessRepository(Database& db) : db_(db) {}
  /// Creates a business and its API key (stored as `token_hash_hex` only),
  /// recording `audit`; returns the business as JSON, or nullopt when
  /// PostgreSQL knows no time zone of that name.
  boost::asio::awaitable<std::optional<std::string>> Create(const std::string& name, const std::string& timezone,
                                                            const std::string& token_hash_hex, const AuditEntry& audit);
  boost::asio::awaitable<std::optional<TokenOwner>> FindToken(const std::string& token_hash_hex);

 private:
  Database& db_;
};

struct NewChannel {
  std::int64_t business_id = 0;
  std::string kind, external_id;
  std::optional<std::string> account_id, name;
  std::string app_secret_enc_hex, verify_token_hash_hex;
  std::optional<std::string> access_token_enc_hex;
};

/// A registered channel as the webhook path needs it.
struct ChannelSecret {
  std::string external_id;
  bool account_level = false;
  std::int64_t business_id = 0;
  std::int64_t channel_id = 0;
  std::string app_secret_enc_hex;
  bool active = true;
};

class ChannelRepository {
 public:
  ChannelRepository(Database& db, std::string public_url) : db_(db), public_url_(std::move(public_url)) {}
  /// Throws Conflict when the kind + external id is registered already.
  /// Records `audit` with the channel.
  boost::asio::awaitable<std::string> Create(const NewChannel& channel, const AuditEntry& audit);
  /// A page of the business's channels by id, after `after`.
  boost::asio::awaitable<Page> List(std::int64_t business_id, std::optional<std::int64_t> after, int limit);
  boost::asio::awaitable<std::optional<std::string>> Get(std::int64_t business_id, std::int64_t id);
  /// {business_id, id, name?, account_id?, app_secret_enc?, verify_token_hash?, access_token_enc?,
  /// human_agent_enabled?, active?}: absent keeps, null clears. Every process's channel cache is told at
  /// commit (NOTIFY sb_invalidate). nullopt when not the business's.
  boost::asio::awaitable<std::optional<std::string>> Patch(const std::string& params_json, const AuditEntry& audit);
  boost::asio::awaitable<std::vector<ChannelSecret>> Resolve(const std::string& kind,
                                                             const std::vector<std::string>& ids,
                                                             const std::vector<std::string>& accounts);
  boost::asio::awaitable<bool> VerifyTokenExists(const std::string& kind, const std::string& token_hash_hex);

 private:
  Database& db_;
  std::string public_url_;
};

struct ConversationQuery {
  std::int64_t business_id = 0;
  std::optional<std::string> status;
  std::optional<std::int64_t> queue_id;
  std::optional<std::int64_t> before;  // cursor
  int limit = 50;
};

struct MessageQuery {
  std::int64_t business_id = 0;
  std::int64_t conversation_id = 0;
  std::optional<std::int64_t> after;  // cursor
  int limit = 50;
};

class ConversationRepository {
 public:
  explicit ConversationRepository(Database& db) : db_(db) {}
  boost::asio::awaitable<Page> List(const ConversationQuery& query);
  boost::asio::awaitable<std::optional<std::string>> Get(std::int64_t business_id, std::int64_t id);
  /// nullopt when the conversation is not the business's.
  boost::asio::awaitable<std::optional<Page>> Messages(const MessageQuery& query);

 private:
  Database& db_;
};

struct ArchivedBody {
  std::int64_t business_id = 0;
  std::int64_t id = 0;
  std::string received_at;
  std::string kind;
  std::string body;
};

/// Housekeeping and the archive: partitions, retention, statistics.
class MaintenanceRepository {
 public:
  explicit MaintenanceRepository(Database& db) : db_(db) {}
  /// ANALYZE the hot tables whose statistics lag far behind (a young
  /// database, before autovacuum's first pass): at their first page, then
  /// whenever their rows double. Returns whether a hot table had no
  /// statistics of rows when this pass began.
  boost::asio::awaitable<bool> RefreshStaleStatistics();
  /// Archive partitions, retention, stale statuses; run only by the holder
  /// of the housekeeping lease (partition DDL must not race). Returns
  /// whether this process ran it.
  boost::asio::awaitable<bool> RunHousekeeping(int archive_retention_days, const LeaseHolder& lease);
  bool RunHousekeepingSync(int archive_retention_days, const LeaseHolder& lease);
  /// Archived bodies received at or after `since` (a timestamp PostgreSQL
  /// understands), after the cursor (received_at, id), oldest first.
  std::vector<ArchivedBody> ArchiveSinceSync(const std::string& since, const std::optional<ArchivedBody>& after,
                                             int limit);

 private:
  Database& db_;
};

}  // namespace sb::store
