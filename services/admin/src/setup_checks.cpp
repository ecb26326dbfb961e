#include "setup_checks.hpp"

#include <algorithm>

namespace sb::admin {

std::string PathKey(const http::Request& req, std::string_view name) {
  std::string key(req.Param(name));
  if (key.empty() || key.size() > 100 ||
      !std::all_of(key.begin(), key.end(), [](char c) { return c > 0x20 && c < 0x7f; })) {
    throw http::HttpError(400, "invalid_field",
                          "'" + std::string(name) + "' must be 1 to 100 printable characters without spaces");
  }
  return key;
}

boost::asio::awaitable<void> RequireQueues(store::SetupRepository& setup, std::int64_t business_id,
                                           const std::vector<std::int64_t>& ids, const std::string& field) {
  if (ids.empty()) co_return;
  auto existing = co_await setup.ExistingQueues(business_id, ids);
  for (std::size_t i = 0; i < ids.size(); ++i) {
    if (std::find(existing.begin(), existing.end(), ids[i]) == existing.end()) {
      // "queue_ids" is an array the caller sent: name the element.
      std::string where = field == "queue_ids" ? field + "[" + std::to_string(i) + "]" : field;
      throw http::HttpError(400, "invalid_field",
                            "'" + where + "' names no active queue of this business: " + std::to_string(ids[i]));
    }
  }
}

}  // namespace sb::admin
