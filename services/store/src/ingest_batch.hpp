#pragma once
// Turns queued ingest requests into the JSON parameters of the ingest
// statements. Written directly as text: this runs for every webhook.
#include <string>
#include <vector>

#include "sb/store/group_commit_writer.hpp"

namespace sb::store {

/// Each parameter is a JSON array of rows, empty when the batch has nothing
/// of that kind. Each array is its own parameter: PostgreSQL parses a `json`
/// value whole for every `->` on it, so rows reached through an enclosing
/// object were read three times.
struct IngestBatch {
  std::string archives;      // [...]: archive rows of the bodies that carried messages
  std::string messages;      // [...]: empty together with archives
  std::string archive_only;  // [...]: archive rows of bodies of a business that carried no message
  std::string bodies;        // raw bodies, concatenated; archive rows name off/len
  std::string statuses;      // [...]
  std::string watermarks;    // [...]
  std::string events;        // [...]
};

IngestBatch BuildIngestBatch(const std::vector<const IngestRequest*>& requests);

/// "business:channel:provider id", the key the answer rows are matched on.
std::string MessageKey(std::int64_t business_id, std::int64_t channel_id, const std::string& provider_id);

}  // namespace sb::store
