#include "sb/app/app.hpp"

#include <spdlog/spdlog.h>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <nlohmann/json.hpp>

#include <sys/resource.h>

#include <filesystem>
#include <fstream>
#include <thread>

#include "sb/common/http/server.hpp"
#include "sb/store/database.hpp"
#include "sb/store/migrator.hpp"
#include "services.hpp"

namespace sb::app {

namespace asio = boost::asio;
using namespace std::chrono_literals;

App::App(Config config) : config_(std::move(config)) {}
App::~App() = default;

std::vector<http::RouteInfo> App::Routes() {
  http::Router router;
  RegisterRoutes(router, nullptr);
  return router.Routes();
}

int App::Migrate() {
  auto report = store::Migrate(config_.database_url);
  spdlog::info("migrate: {} applied, {} known", report.applied.size(), report.total);
  return 0;
}

namespace {

// `serve --no-migrate` on a schema older than the binary would fail every
// batch that touches what changed: it refuses to start instead, naming what
// to run. A database it cannot reach yet is not refused (it serves 503s
// until the database answers, as it would after any outage).
void RequireMigratedSchema(const std::string& database_url) {
  std::vector<std::string> pending;
  try {
    pending = store::PendingMigrations(database_url);
  } catch (const store::Unavailable& e) {
    spdlog::warn("could not check the database's migrations at start (serving anyway): {}", e.what());
    return;
  }
  if (pending.empty()) return;
  throw std::runtime_error("the database lacks " + std::to_string(pending.size()) +
                           " migration(s) this binary needs (" + pending.front() +
                           (pending.size() > 1 ? " to " + pending.back() : "") +
                           "): run `switchboard migrate` first, or start `switchboard serve` without --no-migrate");
}

const std::string kUnmatched = "unmatched";

// Housekeeping (archive partitions, retention) and the numbering of agent
// events no stream reads.
asio::awaitable<void> BackgroundLoop(App::Services& s) {
  auto executor = co_await asio::this_coro::executor;
  asio::steady_timer timer(executor);
  // The first pass prunes agent events at start; archive partitions were
  // prepared synchronously before serving.
  bool pruned_at_start = false;
  auto next_housekeeping = std::chrono::steady_clock::now() + 1h;
  for (;;) {
    try {
      if (!pruned_at_start) {
        co_await s.agents.PruneEvents(s.config.agent_event_retention_hours);
        pruned_at_start = true;
      }
      if (std::chrono::steady_clock::now() >= next_housekeeping) {
        co_await s.maintenance.RunHousekeeping(s.config.archive_retention_days, s.lease);
        co_await s.agents.PruneEvents(s.config.agent_event_retention_hours);
        next_housekeeping = std::chrono::steady_clock::now() + 1h;
      }
      co_await s.agents.SequenceEvents();  // events no stream reads get their numbers too
    } catch (const std::exception& e) {
      spdlog::debug("background pass failed: {}", e.what());
    }
    timer.expires_after(500ms);
    auto [ec] = co_await timer.async_wait(asio::as_tuple(asio::use_awaitable));
    if (ec) co_return;
  }
}

// Statistics of a young database's hot tables (MaintenanceRepository::
// RefreshStaleStatistics): every 200 ms while one of them has no statistics
// of rows yet, so that the plans sessions keep are made from statistics soon
// after the first messages arrive; every second after that, and after the
// first 10 minutes (a database that gets no messages is not asked 5 times a
// second for ever). Each check also proves the database live for /readyz.
asio::awaitable<void> KeepStatistics(App::Services& s) {
  asio::steady_timer timer(co_await asio::this_coro::executor);
  const auto fast_until = std::chrono::steady_clock::now() + 10min;
  for (;;) {
    bool waiting = false;
    try {
      waiting = co_await s.maintenance.RefreshStaleStatistics();
    } catch (const std::exception& e) {
      spdlog::debug("statistics check failed: {}", e.what());
    }
    timer.expires_after(waiting && std::chrono::steady_clock::now() < fast_until ? 200ms : 1s);
    auto [ec] = co_await timer.async_wait(asio::as_tuple(asio::use_awaitable));
    if (ec) co_return;
  }
}

// How late a timer due every 50 ms runs: the time a ready handler waits for
// a thread. Once it is over the limit, webhooks are shed for a second
// (WriterSink::Shedding), which gives the loop the time to catch up.
asio::awaitable<void> MeasureLoopLag(App::Services& s) {
  asio::steady_timer timer(co_await asio::this_coro::executor);
  auto& lag =
      s.registry.GetGauge("switchboard_event_loop_lag_seconds", "How late the event loop ran its last 50 ms timer");
  for (;;) {
    timer.expires_after(50ms);
    auto due = timer.expiry();
    auto [ec] = co_await timer.async_wait(asio::as_tuple(asio::use_awaitable));
    if (ec) co_return;
    auto now = std::chrono::steady_clock::now();
    std::chrono::duration<double> late = now - due;
    lag.Set(late.count());
    if (late > s.config.ingest_max_loop_lag) s.sink.ShedFor(1s);
  }
}

// The connection limit must leave file descriptors for the database pool,
// the key file and the like: raise the soft descriptor limit to the hard
// one, and keep the limit that far below it.
std::size_t ConnectionLimit(int configured) {
  constexpr rlim_t kReserved = 256;
  rlimit limit{};
  if (getrlimit(RLIMIT_NOFILE, &limit) != 0) return static_cast<std::size_t>(configured);
  if (limit.rlim_cur < limit.rlim_max) {
    rlimit raised = limit;
    raised.rlim_cur = limit.rlim_max;
    if (setrlimit(RLIMIT_NOFILE, &raised) == 0) limit = raised;
  }
  auto wanted = static_cast<rlim_t>(configured);
  if (limit.rlim_cur != RLIM_INFINITY && limit.rlim_cur < wanted + kReserved) {
    auto reduced = limit.rlim_cur > 2 * kReserved ? limit.rlim_cur - kReserved : limit.rlim_cur / 2;
    spdlog::warn("SWITCHBOARD_MAX_CONNECTIONS={} exceeds what {} file descriptors allow; serving at most {}",
                 configured, limit.rlim_cur, reduced);
    return static_cast<std::size_t>(reduced);
  }
  return static_cast<std::size_t>(configured);
}

}  // namespace

int App::Serve(bool migrate, const std::string& ready_file) {
  Roles::Parse(config_.roles);  // a typo in --roles fails before anything starts
  if (migrate) {
    Migrate();
  } else {
    RequireMigratedSchema(config_.database_url);
  }
  services_ = std::make_unique<Services>(config_);
  auto& s = *services_;
  // Today's archive partition must exist before the first webhook: creating
  // it while batches insert would race them. When another process holds
  // the housekeeping lease, it has made them.
  try {
    s.maintenance.RunHousekeepingSync(config_.archive_retention_days, s.lease);
  } catch (const std::exception& e) {
    spdlog::warn("housekeeping at start failed (serving anyway; retried hourly): {}", e.what());
  }

  try {
    auto report = app::ReencryptSecrets(s);
    if (report.channels > 0)
      spdlog::info("re-encrypted the secrets of {} channel(s) with the current key", report.channels);
    if (report.unreadable > 0) {
      spdlog::error(
          "{} channel(s) hold a secret that no configured key opens (add the old key to "
          "SWITCHBOARD_OLD_SECRET_KEYS)",
          report.unreadable);
    }
  } catch (const std::exception& e) {
    spdlog::warn("re-encrypting secrets at start failed (serving anyway): {}", e.what());
  }

  http::Router router;
  RegisterRoutes(router, &s);

  asio::io_context io(config_.io_threads);
  http::ServerOptions server_options;
  server_options.listen = config_.listen;
  server_options.header_timeout = config_.http_header_timeout;
  server_options.body_timeout = config_.http_body_timeout;
  server_options.idle_timeout = config_.http_idle_timeout;
  server_options.max_connections = ConnectionLimit(config_.max_connections);
  http::Server server(io, router, server_options);
  s.registry.AddCallback([&server](metrics::Registry& r) {
    r.GetGauge("switchboard_http_connections", "Open HTTP and WebSocket connections")
        .Set(static_cast<double>(server.ActiveConnections()));
    r.GetGauge("switchboard_http_connections_refused", "Connections closed at accept: the connection limit was reached")
        .Set(static_cast<double>(server.RefusedConnections()));
  });
  server.SetObserver([&s](const http::Request&, const std::string& route, int status, std::chrono::nanoseconds took) {
    const std::string& name = route.empty() ? kUnmatched : route;
    s.registry
        .GetCounter("switchboard_http_requests_total", "HTTP requests by route and status",
                    {{"route", name}, {"status", std::to_string(status)}})
        .Inc();
    s.registry
        .GetHistogram("switchboard_http_request_seconds",
                      "Time from a request's arrival at the host to its answer written, any status",
                      metrics::LatencyBuckets(), {{"route", name}})
        .Observe(std::chrono::duration<double>(took).count());
  });
  std::string bound = server.Start();
  spdlog::info("switchboard serving on http://{} (public URL {}), roles {}, lease holder {}", bound, config_.public_url,
               s.roles.ToString(), s.lease.id);
  if (!ready_file.empty()) {
    std::ofstream(ready_file + ".tmp") << bound << "\n";
    std::filesystem::rename(ready_file + ".tmp", ready_file);
  }

  asio::co_spawn(io, BackgroundLoop(s), asio::detached);
  asio::co_spawn(io, KeepStatistics(s), asio::detached);
  if (s.roles.gateway) asio::co_spawn(io, MeasureLoopLag(s), asio::detached);
  // Presence: heartbeats for the sockets this process holds, and the sweep of stale ones.
  if (s.roles.api) {
    asio::co_spawn(io, s.presence_keeper.Run(), asio::detached);
    asio::co_spawn(asio::make_strand(io), s.stream.RunFeed(), asio::detached);
  }
  if (s.roles.router) s.router.Start();
  // Agent pushes (api) and cache invalidations (api and gateway: channels, tokens).
  if (s.roles.api || s.roles.gateway) s.listener.Start();
  if (s.roles.outbound) {
    s.outbound.Start();
    s.media_fetcher.Start();
  }

  // Shutdown: stop accepting, let requests in flight get their commit or a
  // 503, then stop; whatever is still running after 9 s is cut off so the
  // process exits within 10 s.
  asio::signal_set signals(io, SIGINT, SIGTERM);
  asio::steady_timer deadline(io);
  signals.async_wait([&](const boost::system::error_code& ec, int signo) {
    if (ec) return;
    spdlog::info("signal {}: draining", signo);
    s.stream.CloseAll();  // agents reconnect elsewhere with ?after
    server.Stop([&io] {
      spdlog::info("drained; stopping");
      io.stop();
    });
    deadline.expires_after(9s);
    deadline.async_wait([&io](const boost::system::error_code& e) {
      if (!e) {
        spdlog::warn("drain took too long; stopping with requests in flight");
        io.stop();
      }
    });
  });

  std::vector<std::thread> threads;
  for (int i = 1; i < config_.io_threads; ++i) threads.emplace_back([&io] { io.run(); });
  io.run();
  for (auto& t : threads) t.join();
  // Its callbacks wake sockets and the feed through `io`, which is about to
  // go, as do the feed's reads when they finish; the feed's timer is `io`'s.
  s.listener.Stop();
  s.feed_db.Stop();
  s.stream.ForgetFeed();
  s.router.Stop();
  s.outbound.Stop();
  s.media_fetcher.Stop();
  s.writer.Stop();
  // Another process takes the timers over now rather than when the lease
  // would expire.
  try {
    s.leases.ReleaseAllSync(s.lease);
  } catch (const std::exception& e) {
    spdlog::warn("releasing leases failed (they expire in {} ms): {}", s.lease.ttl.count(), e.what());
  }
  s.router_db.Stop();
  s.db.Stop();
  s.notifier.Stop();  // after every pool that records events
  s.notify_db.Stop();
  spdlog::info("stopped");
  return 0;
}

}  // namespace sb::app
