#pragma once
/// Day-two operations on a business's set-up: reading queues, agents,
/// orders and products page by page, changing and deactivating them,
/// rotating business keys and agent tokens, and erasing a contact's
/// personal data. Parameters are JSON objects validated by the API layer;
/// results come back rendered in the API's shapes. Every method runs on the
/// pool and is scoped by business; every change records its `audit` entry
/// in the same transaction.
#include <boost/asio/awaitable.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "sb/store/audit.hpp"
#include "sb/store/database.hpp"
#include "sb/store/repositories.hpp"

namespace sb::store {

/// What a set-up list or lookup is about: names its `<group>/page.sql`,
/// `<group>/get.sql` and `<group>/patch.sql` statements.
enum class SetupKind { kQueues, kAgents, kOrders, kProducts, kAds };

struct PageQuery {
  std::int64_t business_id = 0;
  std::optional<std::string> after;  // cursor: the last id / reference of the previous page
  int limit = 50;
};

/// A Meta data-deletion candidate: a channel whose app secret may have
/// signed the request, and the contacts of the named user on it.
struct DeletionCandidate {
  std::int64_t business_id = 0;
  std::int64_t channel_id = 0;
  std::string app_secret_enc_hex;
  std::vector<std::int64_t> contact_ids;
};

struct ContactErasure {
  std::int64_t business_id = 0;
  std::int64_t contact_id = 0;
};

class LifecycleRepository {
 public:
  explicit LifecycleRepository(Database& db) : db_(db) {}

  boost::asio::awaitable<Page> List(SetupKind kind, const PageQuery& query);
  /// `key`: the id, order reference or SKU. nullopt when not the business's.
  boost::asio::awaitable<std::optional<std::string>> Get(SetupKind kind, std::int64_t business_id,
                                                         const std::string& key);
  /// Queues, orders, products: `params_json` as the patch statement says.
  boost::asio::awaitable<std::optional<std::string>> Patch(SetupKind kind, const std::string& params_json,
                                                           const AuditEntry& audit);
  /// {business_id, id, name?, capacity?, skills?, active?} and, when given,
  /// the agent's new queues (checked by the caller), then, when `deactivate`,
  /// what DeactivateAgent does: all in one transaction with one audit row.
  boost::asio::awaitable<std::optional<std::string>> PatchAgent(const std::string& params_json,
                                                                const std::optional<std::string>& queue_ids_json,
                                                                bool deactivate, const AuditEntry& audit);
  /// Offline, no new work, tokens revoked (every process told), open
  /// conversations back to waiting. nullopt when not the business's.
  boost::asio::awaitable<std::optional<std::string>> DeactivateAgent(std::int64_t business_id, std::int64_t agent_id,
                                                                     const AuditEntry& audit);
  /// True when queue `id` is the default queue of the business's routing.
  boost::asio::awaitable<bool> IsDefaultQueue(std::int64_t business_id, std::int64_t queue_id);

  /// A new business key (its hash); the current keys work `grace_s` more
  /// seconds. Returns {previous_keys, previous_keys_expire_at, created_at}.
  boost::asio::awaitable<std::string> RotateBusinessKey(std::int64_t business_id, const std::string& token_hash_hex,
                                                        int grace_s, const AuditEntry& audit);
  /// A new agent token (its hash); the old ones stop. False when the agent
  /// is not an active agent of the business.
  boost::asio::awaitable<bool> RotateAgentToken(std::int64_t business_id, std::int64_t agent_id,
                                                const std::string& token_hash_hex, const AuditEntry& audit);

  /// Erases one contact (sb_erase_contact): the counts of what went (also
  /// the audit row's summary), or nullopt when the contact is not the
  /// business's or was erased already.
  boost::asio::awaitable<std::optional<std::string>> EraseContact(std::int64_t business_id, std::int64_t contact_id,
                                                                  const AuditEntry& audit);
  boost::asio::awaitable<std::vector<DeletionCandidate>> DeletionCandidates(const std::string& user_id);
  /// Erases `contacts` for a Meta data-deletion request and records it
  /// under `confirmation_code` (and each erasure in the audit log, actor
  /// `meta`), in one transaction; returns how many went.
  boost::asio::awaitable<int> EraseForDataDeletion(const std::vector<ContactErasure>& contacts,
                                                   const std::string& confirmation_code);
  boost::asio::awaitable<std::optional<std::string>> DataDeletionStatus(const std::string& confirmation_code);

 private:
  Database& db_;
};

}  // namespace sb::store
