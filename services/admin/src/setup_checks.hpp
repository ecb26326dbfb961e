#pragma once
// Checks the set-up routes share: queue ids that must name the business's
// active queues (keys from the path: path_key.hpp).
#include <boost/asio/awaitable.hpp>

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "path_key.hpp"
#include "sb/common/http/message.hpp"
#include "sb/store/setup_repository.hpp"

namespace sb::admin {

/// 400 `invalid_field` naming the first id that is not an active queue of
/// the business (`queue_ids[1]` for the array of that name).
boost::asio::awaitable<void> RequireQueues(store::SetupRepository& setup, std::int64_t business_id,
                                           const std::vector<std::int64_t>& ids, const std::string& field);

}  // namespace sb::admin
