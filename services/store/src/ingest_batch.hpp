#pragma once
// Turns queued ingest requests into the JSON parameters of the ingest
// statements, and maps the statements' answers back to each request.
#include <nlohmann/json.hpp>

#include <string>
#include <vector>

#include "sb/store/group_commit_writer.hpp"

namespace sb::store {

struct IngestBatch {
  nlohmann::json messages_param;      // {"archives": [...], "messages": [...]}
  nlohmann::json archive_only_param;  // {"archives": [...]} for bodies without messages
  nlohmann::json statuses_param;      // {"statuses": [...]}
  nlohmann::json watermarks_param;    // {"watermarks": [...]}
  nlohmann::json events_param;        // {"events": [...]}
  std::vector<int> message_counts;    // per request
};

IngestBatch BuildIngestBatch(const std::vector<const IngestRequest*>& requests);

/// "business:channel:provider id", the key the answer rows are matched on.
std::string MessageKey(std::int64_t business_id, std::int64_t channel_id, const std::string& provider_id);

}  // namespace sb::store
