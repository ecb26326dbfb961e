#pragma once
/// The summary of a load run, as one JSON object or as text for humans.
#include <nlohmann/json_fwd.hpp>
#include <string>

#include "load_options.hpp"
#include "load_phase.hpp"

namespace sb::loadgen {

/// Re-deliveries of what the main phase could not get acknowledged.
struct ResendReport {
  bool enabled = false;
  unsigned rounds = 0;
  std::uint64_t pending_at_start = 0;
  std::uint64_t attempts = 0;
  std::uint64_t acknowledged = 0;
  std::uint64_t unacknowledged = 0;  // given up after --max-retry-seconds
  double seconds = 0;
};

struct RunReport {
  const LoadOptions* options = nullptr;
  PhaseResult main;  // latency and counters of the load itself
  double main_seconds = 0;
  ResendReport resend;
  bool interrupted = false;

  std::uint64_t AcknowledgedIds() const { return main.acknowledged + resend.acknowledged; }
  nlohmann::json ToJson() const;
  std::string ToText() const;
};

}  // namespace sb::loadgen
