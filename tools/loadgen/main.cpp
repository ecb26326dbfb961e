// sb-loadgen: a webhook load generator. Sends signed single-message WhatsApp,
// Messenger or Instagram webhooks over keep-alive HTTP/1.1 connections, closed loop (as fast as the
// connections allow) or open loop (a fixed rate, latency measured from the
// scheduled send time), and prints what was acknowledged and how fast.
#include <CLI/CLI.hpp>
#include <algorithm>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <cctype>
#include <csignal>
#include <cstdio>
#include <iostream>
#include <nlohmann/json.hpp>
#include <random>
#include <thread>

#include "load_options.hpp"
#include "load_phase.hpp"
#include "payload_factory.hpp"
#include "run_report.hpp"

namespace sb::loadgen {
namespace {

using namespace std::chrono_literals;
using Seconds = std::chrono::duration<double>;

std::string RandomRunId() {
  std::random_device device;
  std::uniform_int_distribution<unsigned> hex(0, 15);
  std::string id = "r";
  for (int i = 0; i < 10; ++i) id += "0123456789abcdef"[hex(device)];
  return id;
}

bool IsValidRunId(const std::string& id) {
  if (id.empty() || id.size() > 64) return false;
  for (const char c : id) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '-' && c != '_') return false;
  }
  return true;
}

extern "C" void OnStopSignal(int) {
  g_stop_requested.store(true);
  // A second signal ends the process the default way.
  std::signal(SIGINT, SIG_DFL);
  std::signal(SIGTERM, SIG_DFL);
}

std::optional<boost::asio::ip::tcp::endpoint> Resolve(const client::TargetUrl& url, std::string& error) {
  boost::asio::io_context io;
  boost::asio::ip::tcp::resolver resolver(io);
  boost::system::error_code ec;
  const auto results = resolver.resolve(url.host, url.port, ec);
  if (ec || results.empty()) {
    error = ec ? ec.message() : "no address";
    return std::nullopt;
  }
  for (const auto& entry : results) {
    if (entry.endpoint().address().is_v4()) return entry.endpoint();
  }
  return results.begin()->endpoint();
}

// Runs `configs` on one thread each, printing a progress line every second.
PhaseResult RunThreads(std::vector<PhaseConfig> configs, const WebhookPayloadFactory& factory, AckLog& acks,
                       LiveCounters& live, bool quiet, const char* label) {
  std::vector<PhaseResult> results(configs.size());
  std::atomic<std::size_t> running{configs.size()};
  std::vector<std::thread> threads;
  for (std::size_t i = 0; i < configs.size(); ++i) {
    threads.emplace_back([&, i, config = std::move(configs[i])]() mutable {
      results[i] = RunPhase(std::move(config), factory, acks, live);
      running.fetch_sub(1);
    });
  }
  const auto begin = Clock::now();
  auto next_report = begin + 1s;
  std::uint64_t last_acknowledged = live.acknowledged.load();
  while (running.load() > 0) {
    std::this_thread::sleep_for(50ms);
    if (quiet || Clock::now() < next_report) continue;
    const std::uint64_t acknowledged = live.acknowledged.load();
    std::fprintf(stderr, "[%s %5.0fs] sent %llu  acknowledged %llu (%llu/s)  failed %llu\n", label,
                 Seconds(Clock::now() - begin).count(), static_cast<unsigned long long>(live.sent.load()),
                 static_cast<unsigned long long>(acknowledged),
                 static_cast<unsigned long long>(acknowledged - last_acknowledged),
                 static_cast<unsigned long long>(live.failed.load()));
    last_acknowledged = acknowledged;
    next_report += 1s;
  }
  for (auto& thread : threads) thread.join();
  PhaseResult merged;
  merged.finished = Clock::time_point::min();
  for (auto& result : results) merged.Merge(std::move(result));
  return merged;
}

// Meta re-delivers what was not acknowledged; so do we, in rounds with a
// growing pause (at least the server's Retry-After), until all are
// acknowledged or --max-retry-seconds have passed.
ResendReport Resend(const LoadOptions& o, PhaseConfig base, std::vector<Payload> pending,
                    std::chrono::seconds retry_after, const WebhookPayloadFactory& factory, AckLog& acks) {
  ResendReport report;
  report.enabled = true;
  report.pending_at_start = pending.size();
  const auto start = Clock::now();
  const auto deadline = start + std::chrono::duration_cast<Clock::duration>(Seconds(o.max_retry_seconds));
  auto pause = std::clamp<Clock::duration>(retry_after, 1s, 30s);
  LiveCounters live;
  while (!pending.empty() && !g_stop_requested.load()) {
    const auto resume = std::min(Clock::now() + pause, deadline);
    while (Clock::now() < resume && !g_stop_requested.load()) std::this_thread::sleep_for(50ms);
    const auto now = Clock::now();
    if (now >= deadline || g_stop_requested.load()) break;

    PhaseConfig config = base;
    config.mode = PhaseConfig::Mode::kList;
    config.connections = static_cast<unsigned>(std::min<std::size_t>(o.connections, pending.size()));
    config.timeout = std::min(o.timeout, std::chrono::ceil<std::chrono::milliseconds>(deadline - now));
    config.start = now;
    config.stop_at = deadline;
    config.payloads = std::move(pending);
    config.keep_failed = true;
    std::vector<PhaseConfig> configs;
    configs.push_back(std::move(config));
    PhaseResult round = RunThreads(std::move(configs), factory, acks, live, o.quiet, "resend");
    ++report.rounds;
    report.attempts += round.sent;
    report.acknowledged += round.acknowledged;
    pending = std::move(round.failed);
    pause = std::clamp<Clock::duration>(std::max<Clock::duration>(pause * 2, round.max_retry_after), 1s, 30s);
  }
  report.unacknowledged = pending.size();
  report.seconds = Seconds(Clock::now() - start).count();
  return report;
}

int Run(int argc, char** argv) {
  LoadOptions o;
  CLI::App app{"sb-loadgen: signed webhook load generator (HTTP/1.1 keep-alive)"};
  double duration_s = 60;
  std::uint64_t requests = 0;
  unsigned timeout_ms = 10000;
  app.add_option("--url", o.url_text, "http://HOST:PORT/webhooks/KIND")->required();
  app.add_option("--kind", o.kind, "channel kind of the bodies")
      ->default_val("whatsapp")
      ->check(CLI::IsMember({"whatsapp", "messenger", "instagram"}));
  app.add_option("--secret", o.secret, "app secret for X-Hub-Signature-256")->required();
  app.add_option("--phone-number-id,--channel-id", o.channel_id,
                 "the channel's external id: WhatsApp phone_number_id, Messenger page id, Instagram account id")
      ->required();
  app.add_option("--account-id", o.account_id, "WhatsApp business account id (entry[].id)")
      ->default_val("100000000000001");
  app.add_option("--connections", o.connections, "keep-alive connections")
      ->default_val(64)
      ->check(CLI::Range(1, 100000));
  app.add_option("--threads", o.threads, "io threads (connections and rate are split among them)")
      ->default_val(1)
      ->check(CLI::Range(1, 256));
  auto* duration_opt = app.add_option("--duration", duration_s,
                                      "seconds to send for (default 60; unbounded when only --requests is given)")
                           ->check(CLI::PositiveNumber);
  auto* requests_opt = app.add_option("--requests", requests, "stop after N requests")->check(CLI::PositiveNumber);
  app.add_option("--rate", o.rate, "0 = closed loop; R > 0 = open loop at R requests/s")
      ->default_val(0)
      ->check(CLI::NonNegativeNumber);
  app.add_option("--customers", o.customers, "distinct wa_ids (request i comes from customer i % N)")
      ->default_val(100000)
      ->check(CLI::PositiveNumber);
  app.add_option("--body-bytes", o.body_bytes, "approximate body size")
      ->default_val(1024)
      ->check(CLI::Range(300, 4 << 20));
  app.add_option("--run-id", o.run_id, "message id prefix, [A-Za-z0-9_-] (default: random)");
  app.add_flag("--resend-failed", o.resend_failed, "re-deliver what was not acknowledged, at the end");
  app.add_option("--max-retry-seconds", o.max_retry_seconds, "give up re-delivering after this long")
      ->default_val(60)
      ->check(CLI::NonNegativeNumber);
  app.add_option("--timeout-ms", timeout_ms, "per request")->default_val(10000)->check(CLI::Range(1, 3600000));
  app.add_option("--ack-file", o.ack_file, "append the message id of every acknowledged request");
  app.add_flag("--json", o.json, "print the summary as one JSON line on stdout (text goes to stderr)");
  app.add_flag("--quiet", o.quiet, "no progress lines and no text summary with --json");
  CLI11_PARSE(app, argc, argv);

  o.timeout = std::chrono::milliseconds(timeout_ms);
  if (requests_opt->count() > 0) o.requests = requests;
  if (duration_opt->count() > 0 || !o.requests) o.duration_s = duration_s;
  if (o.run_id.empty()) o.run_id = RandomRunId();
  if (!IsValidRunId(o.run_id)) {
    std::cerr << "sb-loadgen: --run-id must be 1-64 characters of [A-Za-z0-9_-]\n";
    return 2;
  }
  std::string error;
  const auto url = client::ParseTargetUrl(o.url_text, error);
  if (!url) {
    std::cerr << "sb-loadgen: --url: " << error << '\n';
    return 2;
  }
  o.url = *url;
  const auto endpoint = Resolve(o.url, error);
  if (!endpoint) {
    std::cerr << "sb-loadgen: cannot resolve " << o.url.host << ": " << error << '\n';
    return 1;
  }
  AckLog acks(o.ack_file);
  if (!acks.ok()) {
    std::cerr << "sb-loadgen: cannot open --ack-file " << o.ack_file << '\n';
    return 1;
  }
  o.threads = std::min(o.threads, o.connections);

  const auto kind = o.kind == "messenger"   ? WebhookPayloadFactory::Kind::kMessenger
                    : o.kind == "instagram" ? WebhookPayloadFactory::Kind::kInstagram
                                            : WebhookPayloadFactory::Kind::kWhatsapp;
  const WebhookPayloadFactory factory(
      {kind, o.secret, o.channel_id, o.account_id, o.run_id, o.customers, o.body_bytes});
  std::signal(SIGINT, OnStopSignal);
  std::signal(SIGTERM, OnStopSignal);

  std::atomic<std::uint64_t> next_index{0};
  PhaseConfig base;
  base.endpoint = *endpoint;
  base.host_header = o.url.host_header;
  base.target = o.url.target;
  base.timeout = o.timeout;
  base.request_limit = o.requests;
  base.next_index = &next_index;
  base.keep_failed = o.resend_failed;
  base.start = Clock::now() + 5ms;  // all threads start together
  if (o.duration_s) {
    base.stop_at = base.start + std::chrono::duration_cast<Clock::duration>(Seconds(*o.duration_s));
  }
  std::vector<PhaseConfig> configs;
  const Seconds rate_interval = o.rate > 0 ? Seconds(1.0 / o.rate) : Seconds(0);
  for (unsigned t = 0; t < o.threads; ++t) {
    PhaseConfig config = base;
    config.mode = o.rate > 0 ? PhaseConfig::Mode::kOpen : PhaseConfig::Mode::kClosed;
    config.connections = o.connections / o.threads + (t < o.connections % o.threads ? 1 : 0);
    // Thread t sends requests t, t + T, t + 2T, ... of the global schedule.
    config.interval = rate_interval * o.threads;
    config.first_offset = rate_interval * t;
    configs.push_back(std::move(config));
  }

  LiveCounters live;
  RunReport report;
  report.options = &o;
  report.main = RunThreads(std::move(configs), factory, acks, live, o.quiet, "load");
  report.main_seconds = Seconds(std::max(report.main.finished, base.start) - base.start).count();
  report.interrupted = g_stop_requested.load();
  if (o.resend_failed) {
    report.resend.enabled = true;
    report.resend.pending_at_start = report.main.failed.size();
    report.resend.unacknowledged = report.main.failed.size();
    if (!report.main.failed.empty() && !report.interrupted) {
      report.resend = Resend(o, base, std::move(report.main.failed), report.main.max_retry_after, factory, acks);
    }
  }

  if (o.json) {
    if (!o.quiet) std::cerr << report.ToText();
    std::cout << report.ToJson().dump() << std::endl;
  } else {
    std::cout << report.ToText();
  }
  return 0;
}

}  // namespace
}  // namespace sb::loadgen

int main(int argc, char** argv) { return sb::loadgen::Run(argc, argv); }
