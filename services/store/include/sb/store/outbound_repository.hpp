#pragma once
/// Outbound delivery bookkeeping: claiming queued replies for the sender and
/// recording what the channel's send API answered. Every method runs on the
/// database pool (never blocking the caller's thread); the marks are scoped
/// by business and touch only replies still queued. Thread-safe.
#include <boost/asio/awaitable.hpp>

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "sb/store/database.hpp"

namespace sb::store {

/// A queued reply claimed for one send attempt, with what the send needs.
struct OutboundClaim {
  std::int64_t business_id = 0;
  std::int64_t id = 0;
  std::int64_t conversation_id = 0;
  std::int64_t channel_id = 0;
  std::string channel_kind;         // messenger | instagram | whatsapp; empty when the channel is gone
  std::string channel_external_id;  // page id, Instagram account id, WhatsApp phone_number_id
  bool channel_active = false;
  std::optional<std::string> access_token_enc_hex;  // channels.access_token_enc (SecretBox-sealed), hex
  std::string contact_external_id;                  // PSID / IGSID / wa_id; empty when the contact is gone
  std::string text;
  std::optional<std::string> tag;      // e.g. HUMAN_AGENT
  std::string type = "text";           // text | template | image | audio | video | document | sticker
  std::optional<std::string> payload;  // a template's {"name", "language", "params"}, an attachment's {"url"}
  int attempts = 0;                    // including this one
  std::chrono::milliseconds age{0};    // since the reply was queued, by the database's clock
};

/// A Messenger/Instagram contact whose name is to be looked up.
struct ProfileClaim {
  std::int64_t business_id = 0;
  std::int64_t contact_id = 0;
  std::string external_id;  // PSID / IGSID
  std::string channel_kind;
  std::string access_token_enc_hex;
};

class OutboundRepository {
 public:
  explicit OutboundRepository(Database& db) : db_(db) {}

  /// Claims up to `limit` due replies (queued, next_attempt_at NULL or past,
  /// the oldest queued one of their conversation), skipping rows other
  /// senders hold, and pushes their next attempt `lease` out: unless marked
  /// sooner, a claimed reply is claimed again when the lease ends. Counts
  /// the attempt.
  boost::asio::awaitable<std::vector<OutboundClaim>> ClaimDue(int limit, std::chrono::milliseconds lease);

  /// 'sent' with the provider's id, sent_at now; a status that arrived for
  /// that id first is applied (never backwards) and consumed. Returns the
  /// reply's status after the mark, or nullopt when it was no longer queued.
  /// Throws Conflict when the channel already has a message with that id.
  boost::asio::awaitable<std::optional<std::string>> MarkSent(std::int64_t business_id, std::int64_t id,
                                                              const std::string& provider_message_id);

  /// Stays queued, due again `delay` from now (database clock). False when
  /// the reply was no longer queued.
  boost::asio::awaitable<bool> MarkRetry(std::int64_t business_id, std::int64_t id, std::chrono::milliseconds delay,
                                         const std::string& error);

  /// 'failed' with `error`. False when the reply was no longer queued.
  boost::asio::awaitable<bool> MarkFailed(std::int64_t business_id, std::int64_t id, const std::string& error);

  /// Gives a claimed reply back unsent: due at once, the attempt uncounted.
  boost::asio::awaitable<bool> Release(std::int64_t business_id, std::int64_t id);

  /// Applies statuses parked in pending_statuses during the last `window`
  /// whose id a send has recorded since (a status and the send recording
  /// its id can commit at the same moment). Returns how many were consumed.
  boost::asio::awaitable<int> ApplyLateStatuses(std::chrono::milliseconds window);

  /// Claims up to `limit` contacts whose profile to look up (each once).
  boost::asio::awaitable<std::vector<ProfileClaim>> ClaimProfiles(int limit);
  /// Caches the looked-up name in the contact row.
  boost::asio::awaitable<void> SetContactName(std::int64_t business_id, std::int64_t contact_id,
                                              const std::string& name);

 private:
  Database& db_;
};

}  // namespace sb::store
