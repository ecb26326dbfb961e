#include "sb/store/event_notifier.hpp"

#include <spdlog/spdlog.h>

#include <nlohmann/json.hpp>

#include "session.hpp"

namespace sb::store {

std::string AnnouncementRefs(const std::vector<AgentEventRef>& events) {
  nlohmann::json refs = nlohmann::json::array();
  for (const auto& e : events) refs.push_back({e.business_id, e.agent_id, e.event_id});
  return refs.dump();
}

EventNotifier::EventNotifier(Database& db) : db_(db), thread_([this] { Loop(); }) {}

EventNotifier::~EventNotifier() { Stop(); }

void EventNotifier::Post(const std::vector<AgentEventRef>& events) {
  if (events.empty()) return;
  {
    std::lock_guard lock(mu_);
    pending_.insert(pending_.end(), events.begin(), events.end());
  }
  cv_.notify_one();
}

void EventNotifier::Stop() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  cv_.notify_one();
  if (thread_.joinable()) thread_.join();
}

void EventNotifier::Loop() {
  for (;;) {
    std::vector<AgentEventRef> batch;
    {
      std::unique_lock lock(mu_);
      cv_.wait(lock, [&] { return stopping_ || !pending_.empty(); });
      if (pending_.empty()) return;  // stopping, nothing left to say
      batch.swap(pending_);
    }
    try {
      // The statement numbers the committed events before it wakes the
      // streams, in the same commit: the reads they make then find nothing
      // to number and stay read-only, instead of each committing (and
      // waiting for the disk) or, behind the one that numbers, retrying a
      // moment later.
      db_.RunSyncInOneTrip("router/notify",
                           [&](Session& s) { s.ExecInOneTrip("router/notify", AnnouncementRefs(batch)); });
    } catch (const std::exception& e) {
      spdlog::warn("announcing {} agent event(s) failed (streams read them at their next poll): {}", batch.size(),
                   e.what());
    }
  }
}

}  // namespace sb::store
