#include "sb/store/setup_repository.hpp"

#include <nlohmann/json.hpp>

#include "audit_record.hpp"
#include "session.hpp"

namespace sb::store {

boost::asio::awaitable<std::string> SetupRepository::WriteOne(std::string_view statement,
                                                              std::vector<std::string> params,
                                                              const AuditEntry* audit) {
  std::string out;
  co_await db_.Run(statement, [&](Session& s) {
    pqxx::result rows;
    if (params.size() == 1) {
      rows = s.Exec(statement, params[0]);
    } else {
      rows = s.Exec(statement, params[0], params[1], params[2]);
    }
    out = rows[0][0].as<std::string>();
    if (audit) RecordAudit(s, *audit, &out);
  });
  co_return out;
}

boost::asio::awaitable<std::vector<std::int64_t>> SetupRepository::ExistingQueues(
    std::int64_t business_id, const std::vector<std::int64_t>& queue_ids) {
  std::vector<std::int64_t> out;
  auto ids = nlohmann::json(queue_ids).dump();
  co_await db_.Run("queues/existing", [&](Session& s) {
    for (const auto& row : s.Exec("queues/existing", std::to_string(business_id), ids)) {
      out.push_back(row[0].as<std::int64_t>());
    }
  });
  co_return out;
}

boost::asio::awaitable<std::string> SetupRepository::CreateQueue(const std::string& params_json,
                                                                 const AuditEntry& audit) {
  std::vector<std::string> params{params_json};  // g++ 12: no initializer_list inside co_await
  co_return co_await WriteOne("queues/create", std::move(params), &audit);
}

boost::asio::awaitable<std::string> SetupRepository::CreateAgent(const std::string& params_json,
                                                                 const AuditEntry& audit) {
  std::vector<std::string> params{params_json};  // g++ 12: no initializer_list inside co_await
  co_return co_await WriteOne("agents/create", std::move(params), &audit);
}

boost::asio::awaitable<std::string> SetupRepository::PutRouting(std::int64_t business_id, std::int64_t default_queue_id,
                                                                const std::string& rules_json,
                                                                const AuditEntry& audit) {
  std::vector<std::string> params{std::to_string(business_id), std::to_string(default_queue_id), rules_json};
  co_return co_await WriteOne("routing/put", std::move(params), &audit);
}

boost::asio::awaitable<std::string> SetupRepository::PutOrder(const std::string& params_json) {
  std::vector<std::string> params{params_json};  // g++ 12: no initializer_list inside co_await
  co_return co_await WriteOne("orders/put", std::move(params));
}

boost::asio::awaitable<std::string> SetupRepository::PutProduct(const std::string& params_json) {
  std::vector<std::string> params{params_json};  // g++ 12: no initializer_list inside co_await
  co_return co_await WriteOne("products/put", std::move(params));
}

}  // namespace sb::store
