#include "services.hpp"

#include <algorithm>

#include <nlohmann/json.hpp>

#include "secret_key.hpp"

namespace sb::app {

namespace asio = boost::asio;

namespace {
outbound::SenderOptions SenderOptionsFor(const Config& c) {
  outbound::SenderOptions options;
  options.graph_api_base = c.graph_api_base;
  return options;
}
outbound::MediaFetcherOptions MediaFetcherOptionsFor(const Config& c) {
  outbound::MediaFetcherOptions options;
  options.max_bytes = c.media_max_bytes;
  if (!c.media_hosts.empty()) options.hosts = c.media_hosts;
  return options;
}
}  // namespace

boost::asio::awaitable<gateway::IngestOutcome> WriterSink::Ingest(gateway::IngestRequest request) {
  const auto& messages = request.parsed.messages;
  const bool attachments =
      std::any_of(messages.begin(), messages.end(), [](const auto& m) { return m.media_url.has_value(); });
  try {
    auto outcome = co_await writer_.Submit(std::move(request));
    if (outcome.messages > 0 && committed_) committed_({.route = outcome.to_route > 0, .attachments = attachments});
    co_return outcome;
  } catch (const store::Overloaded&) {
    throw http::HttpError(503, "overloaded", "too many webhooks are waiting to be stored; retry shortly")
        .WithRetryAfter(1);
  } catch (const store::Unavailable&) {
    throw http::HttpError(503, "database_unavailable", "the message could not be stored in time; retry shortly")
        .WithRetryAfter(2);
  }
}

App::Services::Services(const Config& c)
    : config(c),
      roles(Roles::Parse(c.roles)),
      lease{store::NewLeaseHolderId(), c.lease_ttl},
      secrets(LoadSecretKeys(c)),
      db(store::DbOptions{.url = c.database_url, .pool_size = c.db_pool_size, .prepare = c.db_prepare}),
      router_db(store::DbOptions{.url = c.database_url, .pool_size = 1, .prepare = c.db_prepare, .name = "router"}),
      notify_db(store::DbOptions{.url = c.database_url, .pool_size = 1, .prepare = c.db_prepare, .name = "notifier"}),
      feed_db(store::DbOptions{.url = c.database_url, .pool_size = 1, .prepare = c.db_prepare, .name = "feed"}),
      writer(store::GroupCommitWriter::Options{.database_url = c.database_url,
                                               .writers = c.ingest_writers,
                                               .max_batch = c.ingest_max_batch,
                                               .gather_delay = c.ingest_gather,
                                               .gather_batch = c.ingest_gather_batch,
                                               .max_backlog_bytes = c.ingest_max_backlog_bytes,
                                               .statement_timeout = c.ingest_deadline,
                                               .prepare = c.db_prepare},
             &registry),
      outbound(db, secrets, registry, SenderOptionsFor(c)),
      media_fetcher(db, registry, MediaFetcherOptionsFor(c)),
      channels(db, c.public_url),
      api_limiter(c.api_rate_limit, c.api_rate_burst),
      auth(businesses, c.admin_token, std::chrono::seconds(10), api_limiter),
      directory(channels, secrets),
      router(router_store, registry, router::RouterWorker::Hooks{[this] { outbound.Notify(); }}, lease, c.router_poll),
      sink(writer,
           [this](WriterSink::Committed done) {
             // Each is a transaction of its own: only when there is something to claim. A message
             // joining a conversation that is routed already gives the router nothing to do.
             if (done.route) router.Wake();
             if (done.attachments) media_fetcher.Notify();
           }),
      webhooks(directory, sink, registry, c.ingest_deadline),
      setup(auth, businesses, channels, secrets, [this] { directory.Invalidate(); }),
      routing_setup(auth, setup_store, [this](std::int64_t business) { router.ForgetRules(business); }),
      agent_api(auth, agents, setup_store, templates,
                agent_api::AgentApi::Hooks{[this] { router.Wake(); }, [this] { outbound.Notify(); },
                                           [this] { router.SlotFreed(); }}),
      listener(
          c.listen_database_url, "sb_agent_events", [this](const std::string& payload) { OnAgentEvents(payload); },
          [this] {
            stream.WakeAll();
            // Invalidations sent while the listener was away are lost.
            auth.Forget();
            directory.Invalidate();
          }),
      lifecycle(auth, lifecycle_store, setup_store,
                admin::LifecycleApi::Hooks{[this](std::int64_t agent_id) {
                                             auth.Forget();
                                             stream.Revoke(std::vector<std::int64_t>{agent_id});
                                           },
                                           [this] { auth.Forget(); }, [this] { router.Wake(); }}) {
  listener.Subscribe("sb_invalidate", [this](const std::string& payload) { OnInvalidate(payload); });
  registry.AddCallback([this](metrics::Registry& r) {
    r.GetGauge("switchboard_db_pool_in_use", "Pooled database connections running a statement")
        .Set(static_cast<double>(db.InUse()));
    r.GetGauge("switchboard_db_pool_queued", "Statements waiting for a pooled connection")
        .Set(static_cast<double>(db.Queued()));
    r.GetGauge("switchboard_database_ready", "1 while a statement succeeded in the last 2 s")
        .Set(DatabaseReady() ? 1 : 0);
  });
}

void App::Services::OnAgentEvents(const std::string& payload) {
  // [[business_id, agent_id, event_id], ...] from any process.
  auto ids = nlohmann::json::parse(payload, nullptr, false);
  if (!ids.is_array()) return;
  std::vector<std::int64_t> agents_to_wake;
  for (const auto& e : ids) {
    if (e.is_array() && e.size() == 3 && e[1].is_number_integer()) agents_to_wake.push_back(e[1].get<std::int64_t>());
  }
  stream.Wake(agents_to_wake);
}

void App::Services::OnInvalidate(const std::string& payload) {
  // {"tokens": true, "agents": [ids]} or {"channels": true}, from any process.
  auto j = nlohmann::json::parse(payload, nullptr, false);
  if (!j.is_object()) return;
  if (j.value("tokens", false)) auth.Forget();
  if (j.value("channels", false)) directory.Invalidate();
  if (auto agents = j.find("agents"); agents != j.end() && agents->is_array()) {
    std::vector<std::int64_t> ids;
    for (const auto& id : *agents) {
      if (id.is_number_integer()) ids.push_back(id.get<std::int64_t>());
    }
    stream.Revoke(ids);
  }
}

App::Services::~Services() {
  listener.Stop();
  router.Stop();
  outbound.Stop();
  media_fetcher.Stop();
  writer.Stop();
  router_db.Stop();
  db.Stop();
  feed_db.Stop();
  notifier.Stop();  // after every pool that records events
  notify_db.Stop();
}

store::ReencryptReport ReencryptSecrets(App::Services& s) {
  return s.secret_store.ReencryptSync(s.secrets.current_key_id(),
                                      [&s](const std::string& hex) -> std::optional<std::string> {
                                        auto plain = s.secrets.OpenHex(hex);
                                        if (!plain) return std::nullopt;
                                        return crypto::HexEncode(s.secrets.Seal(*plain));
                                      });
}

bool App::Services::DatabaseReady() const {
  return std::chrono::steady_clock::now() - db.LastSuccess() < std::chrono::seconds(2);
}

namespace {

// Maps "the database is unavailable" from any handler to a 503 the client
// can retry; nothing above the store sees libpqxx.
http::Handler Guard(http::Handler handler) {
  return [handler = std::move(handler)](http::Request& req) -> asio::awaitable<http::Response> {
    try {
      co_return co_await handler(req);
    } catch (const store::Unavailable&) {
      throw http::HttpError(503, "database_unavailable", "the database is unavailable; retry shortly")
          .WithRetryAfter(2);
    }
  };
}

template <class T>
http::Handler Bind(T* target, asio::awaitable<http::Response> (T::*method)(http::Request&)) {
  return Guard([target, method](http::Request& req) { return (target->*method)(req); });
}

}  // namespace

void RegisterRoutes(http::Router& r, App::Services* s) {
  auto* webhooks = s ? &s->webhooks : nullptr;
  // A process serves the routes of its roles (every route when only the
  // table is wanted); health and metrics always.
  const bool gateway_routes = !s || s->roles.gateway;
  const bool api_routes = !s || s->roles.api;

  r.Add("GET", "/healthz", [](http::Request&) -> asio::awaitable<http::Response> {
    co_return http::Response::Json(200, {{"status", "ok"}});
  });
  r.Add("GET", "/readyz", [s](http::Request&) -> asio::awaitable<http::Response> {
    if (!s->DatabaseReady()) {
      throw http::HttpError(503, "database_unavailable", "no database statement succeeded in the last 2 s")
          .WithRetryAfter(1);
    }
    co_return http::Response::Json(200, {{"status", "ready"}});
  });
  r.Add("GET", "/metrics", [s](http::Request&) -> asio::awaitable<http::Response> {
    co_await s->queue_gauges.Refresh(s->DatabaseReady());
    co_return http::Response::Text(200, s->registry.Render(), "text/plain; version=0.0.4; charset=utf-8");
  });

  if (gateway_routes) {
    r.Add("GET", "/webhooks/{kind}", Bind(webhooks, &gateway::WebhookHandler::Verify));
    r.Add("POST", "/webhooks/{kind}", Bind(webhooks, &gateway::WebhookHandler::Receive), http::kWebhookBodyLimit);
  }
  // Every route below belongs to the api role.
  if (!api_routes) return;

#define SB_API_ROUTE(method, pattern, service, handler) \
  r.Add(method, pattern, Bind(s ? &s->service : nullptr, &handler));
#include "routes.inc"
#undef SB_API_ROUTE
  r.AddWebSocket("/v1/agent/stream", [s](http::Request& req, http::WebSocket& socket) -> asio::awaitable<void> {
    try {
      co_await s->stream.Serve(req, socket);
    } catch (const store::Unavailable&) {
      throw http::HttpError(503, "database_unavailable", "the database is unavailable; retry shortly")
          .WithRetryAfter(2);
    }
  });
}

}  // namespace sb::app
