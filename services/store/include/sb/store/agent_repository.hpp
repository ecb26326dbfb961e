#pragma once
/// What agents do to conversations, one transaction each, with the agent
/// events each change produces (numbered, NOTIFY'd at commit).
#include <boost/asio/awaitable.hpp>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "sb/store/database.hpp"

namespace sb::metrics {
class Registry;
}

namespace sb::store {

struct AgentEvent {
  std::int64_t seq = 0;
  std::string type;
  std::string payload_json;
};

struct ConversationAccess {
  std::string status;
  std::optional<std::int64_t> agent_id;
  std::string channel_kind;
  std::optional<double> hours_since_inbound;  // nullopt: the customer never wrote
  bool human_agent_enabled = false;
};

struct MediaSource {
  std::int64_t conversation_id = 0;
  std::string channel_kind;
  std::optional<std::string> media_id;              // WhatsApp
  std::optional<std::string> access_token_enc_hex;  // the channel's, sealed
  /// Messenger/Instagram: the kept copy's state (pending, kept, failed,
  /// too_large, refused) and last error; nullopt when none is kept.
  std::optional<std::string> kept_state, kept_error;
};

/// An agent reply to queue.
struct OutboundReply {
  std::string type = "text";           // text | template | image | audio | video | document | sticker
  std::optional<std::string> text;     // an attachment's caption
  std::optional<std::string> payload;  // a template's {name, language, params}, an attachment's {url}
  std::optional<std::string> tag;      // e.g. HUMAN_AGENT
};

class EventNotifier;

class AgentRepository {
 public:
  /// `registry`: where the resolve batches' sizes are counted (none: not counted).
  AgentRepository(Database& db, EventNotifier& notifier, metrics::Registry* registry = nullptr);
  ~AgentRepository();

  /// nullopt: no such active agent.
  boost::asio::awaitable<std::optional<std::string>> SetStatus(std::int64_t business, std::int64_t agent,
                                                               const std::string& status);
  boost::asio::awaitable<std::string> Conversations(std::int64_t business, std::int64_t agent);

  enum class Claim { kClaimed, kNoneWaiting, kAtCapacity };
  boost::asio::awaitable<std::pair<Claim, std::string>> ClaimNext(std::int64_t business, std::int64_t agent,
                                                                  std::optional<std::int64_t> queue_id);
  /// nullopt: not offered to this agent.
  boost::asio::awaitable<std::optional<std::string>> Accept(std::int64_t business, std::int64_t agent,
                                                            std::int64_t conversation);
  boost::asio::awaitable<std::optional<std::string>> Reject(std::int64_t business, std::int64_t agent,
                                                            std::int64_t conversation);
  /// nullopt: the agent may not see the conversation.
  boost::asio::awaitable<std::optional<ConversationAccess>> Access(std::int64_t business, std::int64_t agent,
                                                                   std::int64_t conversation);
  /// Is the conversation the business's?
  boost::asio::awaitable<bool> BusinessOwns(std::int64_t business, std::int64_t conversation);
  /// Queues an agent reply; returns the message JSON.
  boost::asio::awaitable<std::string> Reply(std::int64_t business, std::int64_t agent, std::int64_t conversation,
                                            const OutboundReply& reply);
  boost::asio::awaitable<std::optional<std::string>> TransferToQueue(std::int64_t business, std::int64_t conversation,
                                                                     std::int64_t queue_id,
                                                                     std::optional<std::int64_t> from_agent);
  /// nullopt: no such conversation, or no such agent in the business.
  boost::asio::awaitable<std::optional<std::string>> TransferToAgent(std::int64_t business, std::int64_t conversation,
                                                                     std::int64_t to_agent,
                                                                     std::optional<std::int64_t> from_agent);
  struct Resolution {
    enum class Refusal {
      kNone,
      kNotFound,     // no such conversation, or one the agent may not see
      kResolved,     // resolved already (the business's key)
      kNotAssigned,  // the agent sees it, but it is not assigned to them (`status` says what it is)
    };
    Refusal refused = Refusal::kNone;
    std::string status;        // the conversation's, when known
    std::string conversation;  // rendered, when resolved
  };
  /// Resolves as `agent` (nullopt: the business's key, which may resolve
  /// any conversation of the business), checking under the conversation's
  /// lock that the agent may. Resolves that arrive while one batch commits
  /// go together in the next (one statement, one commit); when a batch
  /// fails, each of its resolves is tried again alone, so one conversation's
  /// trouble (a lock held past the statement timeout) stays its own. Each
  /// answer is the one the resolves would get one after another in arrival
  /// order; the agents' events of one batch are recorded first for the
  /// resolves its one update made, then for the rest.
  /// Throws Unavailable (503) as a pooled job does: database away, more
  /// resolves waiting than the pool's max_queue (2,048), or one waiting past
  /// its queue_timeout (3 s); Timeout when it ran
  /// past the statement timeout (in its batch, or alone after its batch met
  /// a lock held past 100 ms).
  boost::asio::awaitable<Resolution> Resolve(std::int64_t business, std::int64_t conversation,
                                             const std::string& outcome, std::optional<std::int64_t> amount_cents,
                                             const std::optional<std::string>& currency,
                                             std::optional<std::int64_t> agent);
  /// nullopt: no such message in the business.
  boost::asio::awaitable<std::optional<MediaSource>> Media(std::int64_t business, std::int64_t message);
  boost::asio::awaitable<std::int64_t> LastEventSeq(std::int64_t business, std::int64_t agent);

  /// Events of an agent after `after`, in `seq` order (numbers are given in
  /// commit order, so a later read never finds a smaller number).
  struct EventBatch {
    std::vector<AgentEvent> events;
    /// Another transaction was numbering new events: read again shortly.
    bool numbering_elsewhere = false;
    /// The newest number deleted by retention (events up to it are gone).
    std::int64_t pruned_through = 0;
  };
  /// Numbers what has committed since the last read (unless another
  /// transaction is doing it), then reads.
  boost::asio::awaitable<EventBatch> EventsAfter(std::int64_t business, std::int64_t agent, std::int64_t after,
                                                 int limit);
  /// Every agent's events numbered after `after`, in `seq` order: what a
  /// process hands to its streams (AgentStream's feed).
  struct FeedBatch {
    struct Item {
      std::int64_t agent_id = 0;
      AgentEvent event;
    };
    std::vector<Item> events;
    /// Another transaction was numbering new events: read again shortly.
    bool numbering_elsewhere = false;
  };
  /// Numbers what has committed (unless another transaction is doing it),
  /// then reads.
  boost::asio::awaitable<FeedBatch> EventsSince(std::int64_t after, int limit);
  /// The highest event number given so far (a feed starts after it).
  boost::asio::awaitable<std::int64_t> FeedPosition();
  /// Numbers committed events (background upkeep, so they are numbered
  /// when no stream reads them).
  boost::asio::awaitable<void> SequenceEvents();
  /// Deletes events older than `retention_hours`; returns how many.
  boost::asio::awaitable<std::int64_t> PruneEvents(int retention_hours);

 private:
  struct ResolveRequest;
  class ResolveBatches;
  /// Resolves `requests` in `s`'s transaction (one statement, see
  /// sb_resolve_conversations) and has their agents' events announced after
  /// the commit; their answers, in order. `batched`: waits at most 100 ms
  /// for each lock (LockTimeout).
  static std::vector<Resolution> ResolveIn(Session& s, EventNotifier& notifier,
                                           const std::vector<const ResolveRequest*>& requests, bool batched);

  Database& db_;
  EventNotifier& notifier_;
  std::unique_ptr<ResolveBatches> resolves_;
};

}  // namespace sb::store
