#include <spdlog/spdlog.h>
#include <nlohmann/json.hpp>

#include "lease.hpp"
#include "sb/store/repositories.hpp"
#include "session.hpp"

namespace sb::store {
namespace {

bool Housekeeping(Session& s, int retention_days, const LeaseHolder& lease) {
  if (!HoldLease(s, kHousekeepingLease, lease)) return false;
  int created = s.Exec("maintenance/ensure_archive_partitions")[0][0].as<int>();
  int dropped = s.Exec("maintenance/drop_archive_partitions", std::to_string(retention_days))[0][0].as<int>();
  auto pruned = s.Exec("maintenance/prune_pending_statuses").affected_rows();
  auto notes = s.Exec("maintenance/prune_hour_changes").affected_rows();
  if (created || dropped || pruned || notes) {
    spdlog::info(
        "housekeeping: archive partitions created={} dropped={}, stale statuses pruned={}, notes of changes to "
        "unstored hours pruned={}",
        created, dropped, pruned, notes);
  }
  return true;
}

}  // namespace

boost::asio::awaitable<bool> MaintenanceRepository::RefreshStaleStatistics() {
  bool waiting = false;
  co_await db_.Run("maintenance/stale_statistics", [&](Session& s) {
    bool sampling_set = false;
    for (const auto& row : s.Exec("maintenance/stale_statistics")) {
      if (row[2].as<bool>()) waiting = true;
      if (!row[1].as<bool>()) continue;
      if (!sampling_set) {
        // A sample of 3,000 rows, not 30,000: enough to show how rows
        // spread over businesses and channels, and a tenth of the work
        // (messages of 20,000 rows took 127 ms of a core to analyze, then
        // 12; analyzed under load, it held up routing for as long).
        // Autovacuum's own passes use the configured target.
        s.tx().exec0("SET LOCAL default_statistics_target = 10");
        sampling_set = true;
      }
      // ANALYZE takes a table name, not a parameter; the name comes quoted
      // from the catalog.
      s.tx().exec0("ANALYZE " + row[0].as<std::string>());
      spdlog::debug("analyzed {}", row[0].as<std::string>());
    }
  });
  co_return waiting;
}

boost::asio::awaitable<bool> MaintenanceRepository::RunHousekeeping(int archive_retention_days,
                                                                    const LeaseHolder& lease) {
  bool ran = false;
  co_await db_.Run("maintenance", [&](Session& s) { ran = Housekeeping(s, archive_retention_days, lease); });
  co_return ran;
}

bool MaintenanceRepository::RunHousekeepingSync(int archive_retention_days, const LeaseHolder& lease) {
  bool ran = false;
  db_.RunSync("maintenance", [&](Session& s) { ran = Housekeeping(s, archive_retention_days, lease); });
  return ran;
}

std::vector<ArchivedBody> MaintenanceRepository::ArchiveSinceSync(const std::string& since,
                                                                  const std::optional<ArchivedBody>& after, int limit) {
  nlohmann::json param = {{"since", since}, {"limit", limit}};
  if (after) {
    param["after_received_at"] = after->received_at;
    param["after_id"] = after->id;
  }
  std::vector<ArchivedBody> out;
  db_.RunSync("archive/since", [&](Session& s) {
    for (const auto& row : s.Exec("archive/since", param.dump())) {
      out.push_back(ArchivedBody{row[0].as<std::int64_t>(), row[1].as<std::int64_t>(), row[2].as<std::string>(),
                                 row[3].as<std::string>(), row[4].as<std::string>()});
    }
  });
  return out;
}

}  // namespace sb::store
