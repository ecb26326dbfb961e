#include "setup_checks.hpp"

#include <algorithm>

namespace sb::admin {

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
