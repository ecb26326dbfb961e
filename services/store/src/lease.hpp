#pragma once
// Taking a lease inside a transaction (store-internal).
#include "sb/store/lease.hpp"
#include "session.hpp"

namespace sb::store {

/// True when `holder` holds lease `name` until `s` ends (the lease row stays
/// locked, so work done under it never runs in two processes at once).
inline bool HoldLease(Session& s, std::string_view name, const LeaseHolder& holder) {
  return s.Exec("leases/hold", std::string(name), holder.id, static_cast<std::int64_t>(holder.ttl.count()))[0][0]
      .as<bool>();
}

}  // namespace sb::store
