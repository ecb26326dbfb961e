#include "run_report.hpp"

#include <cmath>
#include <nlohmann/json.hpp>
#include <sstream>

namespace sb::loadgen {
namespace {

double Round3(double v) { return std::round(v * 1000.0) / 1000.0; }

}  // namespace

nlohmann::json RunReport::ToJson() const {
  const LoadOptions& o = *options;
  const client::LatencyHistogram& lat = main.latency;
  nlohmann::json non_200 = nlohmann::json::object();
  for (const auto& [status, n] : main.non_200) non_200[std::to_string(status)] = n;

  nlohmann::json out = {
      {"url", o.url_text},
      {"run_id", o.run_id},
      {"kind", o.kind},
      {"mode", o.rate > 0 ? "open" : "closed"},
      {"connections", o.connections},
      {"threads", o.threads},
      {"offered_rate", o.rate},
      {"duration_s", Round3(main_seconds)},
      {"requests_scheduled", main.scheduled},
      {"requests_sent", main.sent},
      {"acknowledged", main.acknowledged},
      {"non_200", non_200},
      {"errors", main.timeouts + main.connect_errors + main.io_errors},
      {"timeouts", main.timeouts},
      {"expired_in_queue", main.expired_in_queue},
      {"connect_errors", main.connect_errors},
      {"io_errors", main.io_errors},
      {"achieved_rps", Round3(main_seconds > 0 ? static_cast<double>(main.acknowledged) / main_seconds : 0)},
      {"answer_ms",
       {{"count", main.answer_latency.Count()},
        {"p50", main.answer_latency.QuantileMs(0.50)},
        {"p99", main.answer_latency.QuantileMs(0.99)},
        {"max", main.answer_latency.MaxMs()}}},
      {"latency_ms",
       {{"count", lat.Count()},
        {"p50", lat.QuantileMs(0.50)},
        {"p90", lat.QuantileMs(0.90)},
        {"p99", lat.QuantileMs(0.99)},
        {"p999", lat.QuantileMs(0.999)},
        {"max", lat.MaxMs()},
        {"mean", Round3(lat.MeanMs())}}},
      {"resend",
       {{"enabled", resend.enabled},
        {"pending", resend.pending_at_start},
        {"rounds", resend.rounds},
        {"attempts", resend.attempts},
        {"acknowledged", resend.acknowledged},
        {"unacknowledged", resend.unacknowledged},
        {"seconds", Round3(resend.seconds)}}},
      {"acknowledged_ids", AcknowledgedIds()},
      {"interrupted", interrupted},
  };
  return out;
}

std::string RunReport::ToText() const {
  const LoadOptions& o = *options;
  const client::LatencyHistogram& lat = main.latency;
  std::ostringstream out;
  out.setf(std::ios::fixed);
  out.precision(2);
  out << "sb-loadgen " << (o.rate > 0 ? "open loop" : "closed loop") << " against " << o.url_text << " (run "
      << o.run_id << ")\n";
  out << "  connections         " << o.connections << " on " << o.threads << " thread(s)\n";
  out << "  duration            " << main_seconds << " s" << (interrupted ? " (interrupted)" : "") << '\n';
  if (o.rate > 0) out << "  offered rate        " << o.rate << " req/s\n";
  out << "  requests            " << main.scheduled << " scheduled, " << main.sent << " sent\n";
  out << "  acknowledged (200)  " << main.acknowledged << "  ("
      << (main_seconds > 0 ? static_cast<double>(main.acknowledged) / main_seconds : 0) << " /s)\n";
  out << "  non-200             ";
  if (main.non_200.empty()) out << "none";
  for (const auto& [status, n] : main.non_200) out << status << ": " << n << "  ";
  out << '\n';
  out << "  errors              timeouts " << main.timeouts << " (expired waiting for a connection "
      << main.expired_in_queue << "), connect " << main.connect_errors << ", i/o " << main.io_errors << '\n';
  out.precision(3);
  out << "  latency ms          p50 " << lat.QuantileMs(0.5) << "  p90 " << lat.QuantileMs(0.9) << "  p99 "
      << lat.QuantileMs(0.99) << "  p99.9 " << lat.QuantileMs(0.999) << "  max " << lat.MaxMs()
      << (o.rate > 0 ? "  (from the scheduled send time)" : "") << '\n';
  out << "  answers ms          p50 " << main.answer_latency.QuantileMs(0.5) << "  p99 "
      << main.answer_latency.QuantileMs(0.99) << "  max " << main.answer_latency.MaxMs()
      << "  (any status, from the send)\n";
  if (resend.enabled) {
    out.precision(1);
    out << "  resend              " << resend.pending_at_start << " pending, " << resend.rounds << " round(s), "
        << resend.attempts << " attempts, " << resend.acknowledged << " acknowledged, " << resend.unacknowledged
        << " given up, " << resend.seconds << " s\n";
  }
  out << "  acknowledged ids    " << AcknowledgedIds() << '\n';
  return out.str();
}

}  // namespace sb::loadgen
