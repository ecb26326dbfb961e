#pragma once
/// What the agents saw during a run: events by type, the assignment latency
/// histogram, resolves, connection trouble; and the summary as text or one
/// JSON object. Touched from the one io_context thread only.
#include <chrono>
#include <cstdint>
#include <map>
#include <nlohmann/json_fwd.hpp>
#include <string>
#include <unordered_set>
#include <utility>
#include <vector>

#include "agent_options.hpp"
#include "latency_histogram.hpp"

namespace sb::agents {

class AssignmentTally {
 public:
  /// A `conversation.assigned` frame for `conversation_id` arrived at
  /// `received`; the conversation was opened at `opened_at` (the database's
  /// clock, which is ours: same machine). False when the conversation had
  /// already been assigned to one of the agents during this run.
  bool RecordAssigned(std::int64_t conversation_id, std::chrono::system_clock::time_point opened_at,
                      std::chrono::system_clock::time_point received);
  void RecordEvent(const std::string& type) { ++events_[type]; }
  void RecordMalformed() { ++malformed_; }

  void RecordResolveScheduled() { ++resolve_scheduled_; }
  void RecordResolved() { ++resolved_; }
  void RecordResolveRetry() { ++resolve_retries_; }
  /// A resolve that gave up: the final HTTP status, or 0 for a connection error.
  void RecordResolveFailed(int status) { ++resolve_failed_[status]; }

  void RecordConnected() { ++connects_; }
  void RecordConnectError() { ++connect_errors_; }
  void RecordDisconnect() { ++disconnects_; }
  void RecordRejectedToken() { ++rejected_tokens_; }

  std::uint64_t Assigned() const { return latency_.Count(); }

  /// Keeps every first assignment's conversation id and arrival from now on,
  /// for WriteFrames.
  void KeepFrames() { keep_frames_ = true; }
  /// Writes the kept frames to `path`, one "conversation_id,arrival_us" line
  /// each (arrival in microseconds since the Unix epoch); false on an I/O error.
  bool WriteFrames(const std::string& path) const;

  struct RunFacts {
    const AgentOptions* options = nullptr;
    double seconds = 0;
    std::size_t connected_at_end = 0;
    bool interrupted = false;
  };
  nlohmann::json ToJson(const RunFacts& facts) const;
  std::string ToText(const RunFacts& facts) const;

 private:
  std::uint64_t ResolvePending() const;

  client::LatencyHistogram latency_;
  bool keep_frames_ = false;
  std::vector<std::pair<std::int64_t, std::int64_t>> frames_;  // conversation id, arrival µs
  std::unordered_set<std::int64_t> assigned_ids_;
  std::uint64_t duplicates_ = 0;
  std::uint64_t negative_ = 0;  // received "before" opened_at: clocks disagree
  std::map<std::string, std::uint64_t> events_;
  std::uint64_t malformed_ = 0;
  std::uint64_t resolve_scheduled_ = 0;
  std::uint64_t resolved_ = 0;
  std::uint64_t resolve_retries_ = 0;
  std::map<int, std::uint64_t> resolve_failed_;
  std::uint64_t connects_ = 0;
  std::uint64_t connect_errors_ = 0;
  std::uint64_t disconnects_ = 0;
  std::uint64_t rejected_tokens_ = 0;
};

}  // namespace sb::agents
