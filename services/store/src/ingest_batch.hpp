#pragma once
// Turns queued ingest requests into the JSON parameters of the ingest
// statements. Written directly as text: this runs for every webhook.
#include <string>
#include <vector>

#include "sb/store/group_commit_writer.hpp"

namespace sb::store {

/// Each parameter is empty when the batch has nothing of that kind.
struct IngestBatch {
  std::string messages;      // {"archives": [...], "messages": [...]}
  std::string archive_only;  // {"archives": [...]}: bodies of a business that carried no message
  std::string bodies;        // raw bodies, concatenated; archive rows name off/len
  std::string statuses;      // {"statuses": [...]}
  std::string watermarks;    // {"watermarks": [...]}
  std::string events;        // {"events": [...]}
};

IngestBatch BuildIngestBatch(const std::vector<const IngestRequest*>& requests);

/// "business:channel:provider id", the key the answer rows are matched on.
std::string MessageKey(std::int64_t business_id, std::int64_t channel_id, const std::string& provider_id);

}  // namespace sb::store
