#include "assignment_tally.hpp"

#include <cmath>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

namespace sb::agents {
namespace {

double Round3(double v) { return std::round(v * 1000.0) / 1000.0; }

}  // namespace

bool AssignmentTally::RecordAssigned(std::int64_t conversation_id, std::chrono::system_clock::time_point opened_at,
                                     std::chrono::system_clock::time_point received) {
  if (!assigned_ids_.insert(conversation_id).second) {
    ++duplicates_;
    return false;
  }
  const auto latency = received - opened_at;
  if (latency < latency.zero()) ++negative_;
  latency_.Record(std::chrono::duration_cast<std::chrono::nanoseconds>(latency));
  if (keep_frames_) {
    frames_.emplace_back(conversation_id,
                         std::chrono::duration_cast<std::chrono::microseconds>(received.time_since_epoch()).count());
  }
  return true;
}

bool AssignmentTally::WriteFrames(const std::string& path) const {
  std::ofstream out(path, std::ios::trunc);
  for (const auto& [id, arrival_us] : frames_) out << id << ',' << arrival_us << '\n';
  out.flush();
  return static_cast<bool>(out);
}

std::uint64_t AssignmentTally::ResolvePending() const {
  std::uint64_t failed = 0;
  for (const auto& [status, n] : resolve_failed_) failed += n;
  return resolve_scheduled_ - resolved_ - failed;
}

nlohmann::json AssignmentTally::ToJson(const RunFacts& facts) const {
  const AgentOptions& o = *facts.options;
  nlohmann::json failed = nlohmann::json::object();
  for (const auto& [status, n] : resolve_failed_) failed[status == 0 ? "connection" : std::to_string(status)] = n;
  return {
      {"url", o.url_text},
      {"agents", o.tokens.size()},
      {"duration_s", Round3(facts.seconds)},
      {"interrupted", facts.interrupted},
      {"connections",
       {{"connected_at_end", facts.connected_at_end},
        {"connects", connects_},
        {"disconnects", disconnects_},
        {"connect_errors", connect_errors_},
        {"rejected_tokens", rejected_tokens_}}},
      {"events", events_},
      {"malformed_frames", malformed_},
      {"assigned", latency_.Count()},
      {"duplicates", duplicates_},
      {"latency_ms",
       {{"count", latency_.Count()},
        {"p50", latency_.QuantileMs(0.50)},
        {"p90", latency_.QuantileMs(0.90)},
        {"p99", latency_.QuantileMs(0.99)},
        {"p999", latency_.QuantileMs(0.999)},
        {"max", latency_.MaxMs()},
        {"mean", Round3(latency_.MeanMs())},
        {"negative", negative_}}},
      {"resolve",
       {{"enabled", o.resolve},
        {"hold_ms", o.hold.count()},
        {"scheduled", resolve_scheduled_},
        {"resolved", resolved_},
        {"retries", resolve_retries_},
        {"failed", failed},
        {"pending_at_stop", ResolvePending()}}},
  };
}

std::string AssignmentTally::ToText(const RunFacts& facts) const {
  const AgentOptions& o = *facts.options;
  std::ostringstream out;
  out.setf(std::ios::fixed);
  out.precision(2);
  out << "sb-agents: " << o.tokens.size() << " agent WebSocket(s) against " << o.url_text << '\n';
  out << "  duration            " << facts.seconds << " s" << (facts.interrupted ? " (interrupted)" : "") << '\n';
  out << "  connections         " << facts.connected_at_end << " open at the end; " << connects_ << " handshakes, "
      << disconnects_ << " lost, " << connect_errors_ << " failed, " << rejected_tokens_ << " tokens rejected\n";
  out << "  events              ";
  if (events_.empty()) out << "none";
  for (const auto& [type, n] : events_) out << type << ' ' << n << "  ";
  if (malformed_ > 0) out << "malformed " << malformed_;
  out << '\n';
  out << "  assigned            " << latency_.Count() << " conversations, " << duplicates_
      << " assigned again (must be 0)\n";
  out.precision(3);
  out << "  latency ms          p50 " << latency_.QuantileMs(0.5) << "  p90 " << latency_.QuantileMs(0.9) << "  p99 "
      << latency_.QuantileMs(0.99) << "  p99.9 " << latency_.QuantileMs(0.999) << "  max " << latency_.MaxMs()
      << "  (receive time - opened_at; opened_at has ms precision)\n";
  if (negative_ > 0) out << "  clock warning       " << negative_ << " frames arrived before their opened_at\n";
  if (o.resolve) {
    out << "  resolve             after " << o.hold.count() << " ms: " << resolve_scheduled_ << " scheduled, "
        << resolved_ << " resolved, " << resolve_retries_ << " retries, failed ";
    if (resolve_failed_.empty()) out << "none";
    for (const auto& [status, n] : resolve_failed_) {
      out << (status == 0 ? std::string("connection") : std::to_string(status)) << ": " << n << "  ";
    }
    out << ", " << ResolvePending() << " pending at stop\n";
  }
  return out.str();
}

}  // namespace sb::agents
