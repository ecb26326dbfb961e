#pragma once
/// Agent presence as PostgreSQL keeps it, so that any process may hold an
/// agent's stream and any process may notice that nobody does: heartbeats
/// from the process holding a stream, the sweep that moves agents without
/// one to away, and one-time stream tickets (stored as hashes).
#include <boost/asio/awaitable.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "sb/store/database.hpp"

namespace sb::store {

/// (business id, agent id)
using AgentKey = std::pair<std::int64_t, std::int64_t>;

class PresenceRepository {
 public:
  explicit PresenceRepository(Database& db) : db_(db) {}

  /// The agent opened a stream here: seen now; the status they chose is
  /// back when the lack of a stream had made them away. True when that made
  /// them online again.
  boost::asio::awaitable<bool> StreamOpened(std::int64_t business, std::int64_t agent);
  /// These agents' streams are open here (or just closed): seen now.
  /// Returns the agents who are online again because of it.
  boost::asio::awaitable<std::vector<AgentKey>> Heartbeat(const std::vector<AgentKey>& agents);
  /// Online agents without a stream for `timeout_s` become away; returns
  /// them (empty while another process sweeps).
  boost::asio::awaitable<std::vector<AgentKey>> Sweep(double timeout_s);

  /// Stores a ticket by the SHA-256 hex of its text; returns its expiry
  /// (ISO 8601), nullopt when the agent is not active.
  boost::asio::awaitable<std::optional<std::string>> CreateTicket(std::int64_t business, std::int64_t agent,
                                                                  const std::string& hash_hex, int ttl_s);
  /// Uses a ticket up (gone afterwards); its agent when it was valid.
  boost::asio::awaitable<std::optional<AgentKey>> UseTicket(const std::string& hash_hex);

 private:
  Database& db_;
};

}  // namespace sb::store
