// sb-agents: N agents online at once. Each holds a WebSocket on
// GET /v1/agent/stream with its token; for every conversation.assigned frame
// the latency from the conversation's opened_at (PostgreSQL's now() in the
// ingest transaction) to the frame's arrival is recorded. With --resolve,
// each agent resolves what it was given after --hold-ms, so capacity frees up
// and a run can go on at a steady rate. Prints latency percentiles and counts.
#include <CLI/CLI.hpp>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/address.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <csignal>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>

#include "agent_options.hpp"
#include "agent_session.hpp"
#include "assignment_tally.hpp"

namespace sb::agents {
namespace {

namespace asio = boost::asio;
using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;
using Seconds = std::chrono::duration<double>;

constexpr std::size_t kMaxAgents = 10000;
constexpr auto kUseTuple = asio::as_tuple(asio::use_awaitable);

// The latency compares our clock with PostgreSQL's: only meaningful when both
// run on this machine, so only loopback targets are accepted.
std::optional<asio::ip::address> LoopbackAddress(const std::string& host) {
  if (host == "localhost") return asio::ip::make_address("127.0.0.1");
  boost::system::error_code ec;
  const auto address = asio::ip::make_address(host, ec);
  if (ec || !address.is_loopback()) return std::nullopt;
  return address;
}

bool ReadTokens(const std::string& path, std::vector<std::string>& tokens, std::string& error) {
  std::ifstream in(path);
  if (!in) {
    error = "cannot read " + path;
    return false;
  }
  for (std::string line; std::getline(in, line);) {
    const auto first = line.find_first_not_of(" \t\r");
    if (first == std::string::npos) continue;
    const auto last = line.find_last_not_of(" \t\r");
    tokens.push_back(line.substr(first, last - first + 1));
  }
  if (tokens.empty()) error = path + " holds no token";
  if (tokens.size() > kMaxAgents) error = path + " holds more than " + std::to_string(kMaxAgents) + " tokens";
  return error.empty();
}

// Written once every agent is connected, through a rename so a reader never
// sees half a file.
void WriteReadyFile(const std::string& path, std::size_t agents) {
  const std::string partial = path + ".partial";
  {
    std::ofstream out(partial);
    out << agents << '\n';
  }
  std::error_code ec;
  std::filesystem::rename(partial, path, ec);
  if (ec) std::cerr << "sb-agents: cannot write --ready-file " << path << ": " << ec.message() << '\n';
}

// Owns the sessions and decides when the run ends: after --duration, on
// SIGINT/SIGTERM, or when the server refuses a token.
class AgentRun {
 public:
  AgentRun(asio::io_context& io, asio::ip::tcp::endpoint endpoint, const AgentOptions& options)
      : io_(io), options_(options), signals_(io, SIGINT, SIGTERM), end_timer_(io), progress_timer_(io) {
    context_.executor = io.get_executor();
    context_.endpoint = std::move(endpoint);
    context_.options = &options_;
    context_.tally = &tally_;
    context_.on_first_connect = [this] { OnFirstConnect(); };
    context_.on_token_rejected = [this](std::size_t agent, int status) {
      std::cerr << "sb-agents: the server refused token " << agent + 1 << " of " << options_.tokens_file << ": HTTP "
                << status << '\n';
      failed_ = true;
      RequestStop();
    };
    if (!options_.frames_file.empty()) tally_.KeepFrames();
    for (std::size_t i = 0; i < options_.tokens.size(); ++i) {
      sessions_.push_back(std::make_unique<AgentSession>(context_, i, options_.tokens[i]));
    }
  }

  void Start() {
    start_ = Clock::now();
    for (auto& session : sessions_) {
      ++running_;
      asio::co_spawn(io_, session->Run(), [this](std::exception_ptr error) {
        --running_;
        if (error) {
          failed_ = true;
          RequestStop();
        }
      });
    }
    signals_.async_wait([this](const boost::system::error_code& ec, int) {
      if (ec) return;
      interrupted_ = true;
      RequestStop();
    });
    end_timer_.expires_after(std::chrono::duration_cast<Clock::duration>(Seconds(options_.duration_s)));
    end_timer_.async_wait([this](const boost::system::error_code& ec) {
      if (!ec) RequestStop();
    });
    if (!options_.quiet) asio::co_spawn(io_, Progress(), asio::detached);
  }

  int Report() const {
    const AssignmentTally::RunFacts facts = facts_at_stop_.value_or(Facts());
    bool ok = !failed_;
    if (!options_.frames_file.empty() && !tally_.WriteFrames(options_.frames_file)) {
      std::cerr << "sb-agents: cannot write --frames-file " << options_.frames_file << '\n';
      ok = false;
    }
    if (options_.json) {
      if (!options_.quiet) std::cerr << tally_.ToText(facts);
      std::cout << tally_.ToJson(facts).dump() << std::endl;
    } else {
      std::cout << tally_.ToText(facts);
    }
    return ok ? 0 : 1;
  }

 private:
  void OnFirstConnect() {
    if (++first_connects_ != sessions_.size()) return;
    if (!options_.quiet) std::cerr << "sb-agents: all " << sessions_.size() << " agents connected\n";
    if (!options_.ready_file.empty()) WriteReadyFile(options_.ready_file, sessions_.size());
  }

  AssignmentTally::RunFacts Facts() const {
    AssignmentTally::RunFacts facts;
    facts.options = &options_;
    facts.seconds = Seconds(stopped_at_.value_or(Clock::now()) - start_).count();
    facts.interrupted = interrupted_;
    for (const auto& session : sessions_) facts.connected_at_end += session->Connected() ? 1 : 0;
    return facts;
  }

  void RequestStop() {
    if (stopped_at_) return;
    stopped_at_ = Clock::now();
    facts_at_stop_ = Facts();  // who was connected when the run ended, before the sockets close
    for (auto& session : sessions_) session->Stop();
    asio::co_spawn(io_, Drain(), asio::detached);
  }

  bool Quiet() const {
    if (running_ > 0) return false;
    for (const auto& session : sessions_) {
      if (!session->Idle()) return false;
    }
    return true;
  }

  // Resolves already on the wire get until the grace period ends; then
  // everything still open is closed, and io.run() returns.
  asio::awaitable<void> Drain() {
    const auto deadline = Clock::now() + options_.stop_grace;
    asio::steady_timer tick(io_);
    while (!Quiet() && Clock::now() < deadline) {
      tick.expires_after(20ms);
      co_await tick.async_wait(kUseTuple);
    }
    for (auto& session : sessions_) session->Abort();
    boost::system::error_code ignored;
    signals_.cancel(ignored);
    end_timer_.cancel();
    progress_timer_.cancel();
  }

  asio::awaitable<void> Progress() {
    std::uint64_t last_assigned = 0;
    for (int second = 1; !stopped_at_; ++second) {
      progress_timer_.expires_at(start_ + std::chrono::seconds(second));
      auto [ec] = co_await progress_timer_.async_wait(kUseTuple);
      if (ec || stopped_at_) co_return;
      std::size_t connected = 0;
      for (const auto& session : sessions_) connected += session->Connected() ? 1 : 0;
      const std::uint64_t assigned = tally_.Assigned();
      std::fprintf(stderr, "[agents %4ds] connected %zu  assigned %llu (%llu/s)\n", second, connected,
                   static_cast<unsigned long long>(assigned),
                   static_cast<unsigned long long>(assigned - last_assigned));
      last_assigned = assigned;
    }
  }

  asio::io_context& io_;
  const AgentOptions& options_;
  AssignmentTally tally_;
  SessionContext context_;
  std::vector<std::unique_ptr<AgentSession>> sessions_;
  asio::signal_set signals_;
  asio::steady_timer end_timer_;
  asio::steady_timer progress_timer_;
  Clock::time_point start_;
  std::optional<Clock::time_point> stopped_at_;
  std::optional<AssignmentTally::RunFacts> facts_at_stop_;
  std::size_t running_ = 0;
  std::size_t first_connects_ = 0;
  bool interrupted_ = false;
  bool failed_ = false;
};

int Run(int argc, char** argv) {
  AgentOptions o;
  CLI::App app{"sb-agents: agents on WebSockets, measuring webhook commit -> conversation.assigned latency"};
  unsigned hold_ms = 200;
  unsigned timeout_ms = 5000;
  unsigned stop_grace_ms = 3000;
  app.add_option("--url", o.url_text, "base URL of a switchboard on this machine, http://127.0.0.1:PORT")->required();
  app.add_option("--tokens", o.tokens_file, "file of agent tokens, one per line; one WebSocket per token")->required();
  app.add_option("--duration", o.duration_s, "seconds to run for")->default_val(60)->check(CLI::Range(0.1, 86400.0));
  app.add_flag("--resolve", o.resolve, "resolve every assigned conversation (outcome resolved) after --hold-ms");
  app.add_option("--hold-ms", hold_ms, "how long an agent keeps a conversation before resolving it")
      ->default_val(200)
      ->check(CLI::Range(0, 3600000));
  app.add_option("--timeout-ms", timeout_ms, "connect, WebSocket handshake, one resolve request")
      ->default_val(5000)
      ->check(CLI::Range(1, 600000));
  app.add_option("--stop-grace-ms", stop_grace_ms, "at the end, how long resolves on the wire may take")
      ->default_val(3000)
      ->check(CLI::Range(0, 600000));
  app.add_option("--ready-file", o.ready_file, "written (the number of agents) once every agent is connected");
  app.add_option("--frames-file", o.frames_file,
                 "at the end, each conversation's first conversation.assigned frame as a line "
                 "\"conversation_id,arrival_us\" (arrival in microseconds since the Unix epoch)");
  app.add_flag("--json", o.json, "print the summary as one JSON line on stdout (text goes to stderr)");
  app.add_flag("--quiet", o.quiet, "no progress lines and no text summary with --json");
  CLI11_PARSE(app, argc, argv);
  o.hold = std::chrono::milliseconds(hold_ms);
  o.timeout = std::chrono::milliseconds(timeout_ms);
  o.stop_grace = std::chrono::milliseconds(stop_grace_ms);

  std::string error;
  const auto url = client::ParseTargetUrl(o.url_text, error);
  if (!url) {
    std::cerr << "sb-agents: --url: " << error << '\n';
    return 2;
  }
  o.url = *url;
  if (o.url.target.find('?') != std::string::npos) {
    std::cerr << "sb-agents: --url: a base URL takes no query\n";
    return 2;
  }
  o.path_prefix = o.url.target;
  while (!o.path_prefix.empty() && o.path_prefix.back() == '/') o.path_prefix.pop_back();
  const auto address = LoopbackAddress(o.url.host);
  if (!address) {
    std::cerr << "sb-agents: --url: the host must be a loopback address (127.0.0.1, ::1, localhost): the latency "
                 "compares this machine's clock with the database's\n";
    return 2;
  }
  if (!ReadTokens(o.tokens_file, o.tokens, error)) {
    std::cerr << "sb-agents: --tokens: " << error << '\n';
    return 2;
  }
  if (!o.ready_file.empty()) std::filesystem::remove(o.ready_file);

  asio::io_context io{1};
  const asio::ip::tcp::endpoint endpoint(*address, static_cast<unsigned short>(std::stoul(o.url.port)));
  AgentRun run(io, endpoint, o);
  run.Start();
  io.run();
  return run.Report();
}

}  // namespace
}  // namespace sb::agents

int main(int argc, char** argv) { return sb::agents::Run(argc, argv); }
