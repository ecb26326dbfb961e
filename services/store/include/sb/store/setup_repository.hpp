#pragma once
/// Set-up writes of a business: queues, agents, routing rules, orders and
/// products. Parameters are JSON objects (validated by the API layer) and
/// results come back rendered in the API's shapes. Changes of the set-up
/// (queues, agents, routing) record their audit entry in the same
/// transaction; orders and products are business data, not set-up.
#include <boost/asio/awaitable.hpp>

#include <cstdint>
#include <string>
#include <vector>

#include "sb/store/audit.hpp"
#include "sb/store/database.hpp"

namespace sb::store {

class SetupRepository {
 public:
  explicit SetupRepository(Database& db) : db_(db) {}

  /// The ids among `queue_ids` that are queues of the business.
  boost::asio::awaitable<std::vector<std::int64_t>> ExistingQueues(std::int64_t business_id,
                                                                   const std::vector<std::int64_t>& queue_ids);
  /// {business_id, name, strategy, first_response_sla_s, require_accept, offer_timeout_s, overflow_wait_s}
  boost::asio::awaitable<std::string> CreateQueue(const std::string& params_json, const AuditEntry& audit);
  /// {business_id, name, capacity, skills, queue_ids, token_hash}
  boost::asio::awaitable<std::string> CreateAgent(const std::string& params_json, const AuditEntry& audit);
  boost::asio::awaitable<std::string> PutRouting(std::int64_t business_id, std::int64_t default_queue_id,
                                                 const std::string& rules_json, const AuditEntry& audit);
  /// {business_id, order_ref, customer_external_id, customer_phone, status, carrier, tracking_url, eta,
  ///  total_cents, currency}
  boost::asio::awaitable<std::string> PutOrder(const std::string& params_json);
  /// {business_id, sku, name, stock, price_cents, currency}
  boost::asio::awaitable<std::string> PutProduct(const std::string& params_json);

 private:
  /// Runs one statement returning one rendered row; records `audit` (when
  /// given) in the same transaction.
  boost::asio::awaitable<std::string> WriteOne(std::string_view statement, std::vector<std::string> params,
                                               const AuditEntry* audit = nullptr);
  Database& db_;
};

}  // namespace sb::store
