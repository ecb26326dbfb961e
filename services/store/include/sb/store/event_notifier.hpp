#pragma once
/// Numbers committed agent events and announces them to every process (NOTIFY
/// sb_agent_events, this one included) from a thread and connection of its
/// own, after the transactions that recorded them committed, in one commit:
/// the streams it wakes then only read. A NOTIFY takes a cluster-wide lock that it keeps
/// through its transaction's commit: sent from inside the recording
/// transactions, it lined up every resolve and assignment behind one another
/// while they still held their agents' rows. Events posted while one
/// announcement is being sent go out together in the next. A lost
/// announcement (a failure, a crash just after the commit) delays an event
/// by one stream poll at most: the streams read the events table itself.
/// The router's turn, one transaction, announces its own assignments in
/// that transaction (sb_router_turn): one NOTIFY for every 100 events, and
/// no second transaction between its commit and the streams.
#include <condition_variable>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "sb/store/database.hpp"
#include "sb/store/router_repository.hpp"

namespace sb::store {

/// router/notify's parameter for `events`: a JSON array of [business_id,
/// agent_id, event_id] (sb_announce_agent_event_refs sends them 100 to a
/// NOTIFY).
std::string AnnouncementRefs(const std::vector<AgentEventRef>& events);

class EventNotifier {
 public:
  /// `db` should be a pool of its own (one connection) so announcements
  /// never wait behind requests.
  explicit EventNotifier(Database& db);
  ~EventNotifier();
  EventNotifier(const EventNotifier&) = delete;
  EventNotifier& operator=(const EventNotifier&) = delete;

  void Post(const std::vector<AgentEventRef>& events);
  /// Sends what is pending, then joins.
  void Stop();

 private:
  void Loop();

  Database& db_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<AgentEventRef> pending_;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace sb::store
