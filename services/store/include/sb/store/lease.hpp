#pragma once
/// Leases: work that must run in one process at a time (timers) is owned
/// through a row with an expiry in `process_leases`. The owner renews it as
/// it works; when the owner dies, another process takes it over once it
/// expires. Unlike session advisory locks, this works behind pgbouncer in
/// transaction pooling.
#include <chrono>
#include <string>
#include <string_view>

#include "sb/store/database.hpp"

namespace sb::store {

/// Who asks for a lease and for how long; plain data, one per process.
struct LeaseHolder {
  std::string id;  // unique per process (host/pid/random)
  std::chrono::milliseconds ttl{10000};
};

/// The router's offer, SLA and overflow sweep.
inline constexpr std::string_view kRouterTimersLease = "router_timers";
/// Archive partitions and retention (DDL, one process at a time).
inline constexpr std::string_view kHousekeepingLease = "housekeeping";

/// A process id for leases: "<host>/<pid>/<random hex>".
std::string NewLeaseHolderId();

class LeaseRepository {
 public:
  explicit LeaseRepository(Database& db) : db_(db) {}
  /// Gives up every lease `holder` has (at shutdown), so another process
  /// takes over at once. Blocking.
  void ReleaseAllSync(const LeaseHolder& holder);

 private:
  Database& db_;
};

}  // namespace sb::store
