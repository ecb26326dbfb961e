#pragma once
/// Group commit for webhook ingestion: concurrent requests queue here and
/// are committed together, one transaction (and one fsync) per batch. A
/// request is answered only after its batch commits.
#include <boost/asio/awaitable.hpp>

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "sb/gateway/ingest_sink.hpp"
#include "sb/store/database.hpp"

namespace sb::metrics {
class Registry;
}

namespace sb::store {

using gateway::ChannelKey;
using gateway::IngestOutcome;
using gateway::IngestRequest;

/// The backlog is over its bound: answer 503 at once.
class Overloaded : public Unavailable {
 public:
  using Unavailable::Unavailable;
};

class GroupCommitWriter {
 public:
  struct Options {
    std::string database_url;
    int writers = 2;              // concurrent batches (threads, connections)
    std::size_t max_batch = 512;  // requests per batch
    // A writer that finds fewer than gather_batch requests queued waits for
    // more until the oldest has waited gather_delay (0: never waits). Under
    // load this turns many small commits into fewer larger ones, each of
    // which costs less per message; it adds at most gather_delay to a
    // request's time.
    std::chrono::microseconds gather_delay{0};
    std::size_t gather_batch = 16;
    std::size_t max_batch_bytes = 16u << 20;            // body bytes per batch
    std::size_t max_backlog_bytes = 64u << 20;          // queued body bytes before Overloaded
    std::chrono::milliseconds statement_timeout{4000};  // also the most a batch may take
    // Admission: while the oldest queued request has waited longer than
    // this, or when a request's time left to its deadline, less the queue's
    // age, is under statement_timeout - max_queue_delay (the commit's
    // budget), it gets Overloaded at once instead of a place in a queue it
    // would leave only at its deadline. 0: a quarter of the statement
    // timeout (1 s of the default 4 s deadline, leaving 3 s to commit).
    std::chrono::milliseconds max_queue_delay{0};
    bool prepare = true;  // see DbOptions::prepare
  };

  GroupCommitWriter(Options options, metrics::Registry* registry);
  ~GroupCommitWriter();
  GroupCommitWriter(const GroupCommitWriter&) = delete;
  GroupCommitWriter& operator=(const GroupCommitWriter&) = delete;

  /// Queues the request and resumes after its batch committed. Throws
  /// Overloaded when the backlog is full or admission refuses it (see
  /// max_queue_delay), Unavailable when the database cannot commit it or its
  /// deadline passed before its batch started. A batch's statements may
  /// run only until the earliest deadline in it.
  boost::asio::awaitable<IngestOutcome> Submit(IngestRequest request);

  /// The same, blocking (for `switchboard reprocess`).
  IngestOutcome SubmitSync(IngestRequest request);

  /// Commits everything queued, then joins the writer threads.
  void Stop();

  std::size_t BacklogBytes() const;

  class Impl;

 private:
  std::unique_ptr<Impl> impl_;
};

}  // namespace sb::store
