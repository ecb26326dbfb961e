#pragma once
// Numbering committed agent events (store-internal).
#include "session.hpp"

namespace sb::store {

/// Numbers up to 5,000 committed agent events in commit order, in `s`'s
/// transaction; the count numbered, or -1 while another transaction is
/// numbering (those events become readable at its commit).
inline int SequenceAgentEvents(Session& s) {
  return s.Exec("agent/sequence_events", std::to_string(5000))[0][0].as<int>();
}

}  // namespace sb::store
