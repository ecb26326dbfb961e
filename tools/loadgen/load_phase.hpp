#pragma once
/// One phase of a load run on one thread: its own io_context, its share of
/// the connections, and (open loop) its share of the request rate.
#include <atomic>
#include <boost/asio/ip/tcp.hpp>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "latency_histogram.hpp"
#include "payload_factory.hpp"

namespace sb::loadgen {

using Clock = std::chrono::steady_clock;

/// Appends acknowledged message ids to a file, one per line. Thread-safe.
class AckLog {
 public:
  /// Opens `path` for appending; an empty path discards everything.
  explicit AckLog(const std::string& path);
  ~AckLog();
  AckLog(const AckLog&) = delete;
  AckLog& operator=(const AckLog&) = delete;

  bool ok() const { return path_.empty() || file_ != nullptr; }
  void Write(std::string_view lines);

 private:
  std::string path_;
  std::FILE* file_ = nullptr;
  std::mutex mutex_;
};

/// Counters the progress line reads while phases run. Relaxed atomics.
struct LiveCounters {
  std::atomic<std::uint64_t> sent{0};
  std::atomic<std::uint64_t> acknowledged{0};
  std::atomic<std::uint64_t> failed{0};
};

/// Set from a signal handler: stop scheduling new requests.
extern std::atomic<bool> g_stop_requested;

struct PhaseConfig {
  enum class Mode {
    kClosed,  // each connection sends its next request as soon as the last is answered
    kOpen,    // requests are scheduled at fixed intervals, whatever the answers
    kList,    // send the given payloads once each (re-delivery of failures)
  };
  Mode mode = Mode::kClosed;
  boost::asio::ip::tcp::endpoint endpoint;
  std::string host_header;
  std::string target;
  unsigned connections = 1;
  std::chrono::milliseconds timeout{10000};
  Clock::time_point start;
  std::optional<Clock::time_point> stop_at;  // no new request is scheduled at or after it
  std::optional<std::uint64_t> request_limit;
  std::atomic<std::uint64_t>* next_index = nullptr;  // shared by every thread of the phase
  // Open loop: this thread schedules request k at start + first_offset + k * interval.
  std::chrono::duration<double> interval{0};
  std::chrono::duration<double> first_offset{0};
  std::vector<Payload> payloads;  // kList
  bool keep_failed = false;       // keep payloads that were not acknowledged
};

struct PhaseResult {
  std::uint64_t scheduled = 0;  // requests this phase owed (open loop: offered)
  std::uint64_t sent = 0;       // requests actually put on a connection
  std::uint64_t acknowledged = 0;
  std::uint64_t timeouts = 0;          // includes expired_in_queue
  std::uint64_t expired_in_queue = 0;  // open loop: waited past the timeout for a connection
  std::uint64_t connect_errors = 0;
  std::uint64_t io_errors = 0;
  std::map<int, std::uint64_t> non_200;
  std::chrono::seconds max_retry_after{0};
  client::LatencyHistogram latency;  // of acknowledged requests, from the scheduled send time
  // Every answer (any status), from the moment the request was put on a
  // connection: how long the server held it.
  client::LatencyHistogram answer_latency;
  std::vector<Payload> failed;
  Clock::time_point finished;

  void Merge(PhaseResult&& other);
};

/// Runs the phase to completion on the calling thread.
PhaseResult RunPhase(PhaseConfig config, const WebhookPayloadFactory& factory, AckLog& acks, LiveCounters& live);

}  // namespace sb::loadgen
