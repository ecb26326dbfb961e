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
    int writers = 2;                            // concurrent batches (threads, connections)
    std::size_t max_batch = 512;                // requests per batch
    std::size_t max_batch_bytes = 16u << 20;    // body bytes per batch
    std::size_t max_backlog_bytes = 64u << 20;  // queued body bytes before Overloaded
    std::chrono::milliseconds statement_timeout{4000};
  };

  GroupCommitWriter(Options options, metrics::Registry* registry);
  ~GroupCommitWriter();
  GroupCommitWriter(const GroupCommitWriter&) = delete;
  GroupCommitWriter& operator=(const GroupCommitWriter&) = delete;

  /// Queues the request and resumes after its batch committed. Throws
  /// Overloaded when the backlog is full, Unavailable when the database
  /// cannot commit it or its deadline passed before its batch started.
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
