#pragma once
// Every long-lived object of a Switchboard process, built in dependency
// order, and the route table that exposes them.
#include <boost/asio/io_context.hpp>

#include <atomic>
#include <chrono>
#include <memory>

#include "cached_channel_directory.hpp"
#include "queue_gauges.hpp"
#include "roles.hpp"
#include "sb/admin/audit_api.hpp"
#include "sb/admin/authenticator.hpp"
#include "sb/admin/conversation_api.hpp"
#include "sb/admin/dashboard_page.hpp"
#include "sb/admin/erasure_api.hpp"
#include "sb/admin/lifecycle_api.hpp"
#include "sb/admin/metrics_api.hpp"
#include "sb/admin/routing_setup_api.hpp"
#include "sb/admin/setup_api.hpp"
#include "sb/admin/template_api.hpp"
#include "sb/agent_api/agent_api.hpp"
#include "sb/agent_api/agent_stream.hpp"
#include "sb/agent_api/media_api.hpp"
#include "sb/agent_api/presence_keeper.hpp"
#include "sb/app/app.hpp"
#include "sb/common/crypto.hpp"
#include "sb/common/metrics.hpp"
#include "sb/common/rate_limiter.hpp"
#include "sb/gateway/webhook_handler.hpp"
#include "sb/outbound/media_fetcher.hpp"
#include "sb/outbound/outbound_sender.hpp"
#include "sb/router/router_worker.hpp"
#include "sb/store/agent_repository.hpp"
#include "sb/store/database.hpp"
#include "sb/store/event_listener.hpp"
#include "sb/store/event_notifier.hpp"
#include "sb/store/group_commit_writer.hpp"
#include "sb/store/lease.hpp"
#include "sb/store/lifecycle_repository.hpp"
#include "sb/store/media_repository.hpp"
#include "sb/store/metrics_repository.hpp"
#include "sb/store/presence_repository.hpp"
#include "sb/store/repositories.hpp"
#include "sb/store/router_repository.hpp"
#include "sb/store/secret_repository.hpp"
#include "sb/store/setup_repository.hpp"
#include "sb/store/template_repository.hpp"

namespace sb::app {

/// Hands verified webhooks to the group-commit writer, turning "cannot
/// commit" into the 503 Meta retries.
class WriterSink : public gateway::IngestSink {
 public:
  /// What a commit that stored messages leaves to do.
  struct Committed {
    bool route = false;        // a conversation of theirs waits for the router (which then looks at once)
    bool attachments = false;  // one carried an attachment URL to keep
  };
  /// `committed` runs after every commit that stored messages.
  WriterSink(store::GroupCommitWriter& writer, std::function<void(Committed)> committed)
      : writer_(writer), committed_(std::move(committed)) {}
  boost::asio::awaitable<gateway::IngestOutcome> Ingest(gateway::IngestRequest request) override;
  /// New webhooks are shed from now for `d` (MeasureLoopLag calls this
  /// while the event loop runs late); from any thread.
  void ShedFor(std::chrono::steady_clock::duration d) {
    shed_until_.store((std::chrono::steady_clock::now() + d).time_since_epoch().count(), std::memory_order_relaxed);
  }
  bool Shedding() const override {
    return std::chrono::steady_clock::now().time_since_epoch().count() < shed_until_.load(std::memory_order_relaxed);
  }

 private:
  store::GroupCommitWriter& writer_;
  std::function<void(Committed)> committed_;
  std::atomic<std::chrono::steady_clock::rep> shed_until_{0};  // steady clock ticks
};

struct App::Services {
  explicit Services(const Config& config);
  ~Services();

  const Config& config;
  Roles roles;
  store::LeaseHolder lease;  // this process, for single-owner timers
  metrics::Registry registry;
  crypto::SecretBox secrets;
  store::Database db;
  store::Database router_db;  // the router's own connection: its ticks never queue behind API requests
  store::Database notify_db;  // the event notifier's own connection
  store::Database feed_db;    // the agent event feed's own connection (AgentStream::RunFeed)
  store::EventNotifier notifier{notify_db};
  store::LeaseRepository leases{db};
  store::GroupCommitWriter writer;
  outbound::OutboundSender outbound;
  outbound::MediaFetcher media_fetcher;  // the outbound role's: keeps Messenger/Instagram attachments
  store::BusinessRepository businesses{db};
  store::ChannelRepository channels;
  store::ConversationRepository conversations{db};
  store::MaintenanceRepository maintenance{db};
  store::SetupRepository setup_store{db};
  store::AgentRepository agents{db, notifier, &registry};
  store::RouterRepository router_store{router_db, notifier};
  store::SecretRepository secret_store{db};
  store::AuditRepository audit_store{db};
  RateLimiter api_limiter;  // per business, /v1 only (webhooks are Meta's retries)
  store::MetricsRepository metrics_store{db};
  store::TemplateRepository templates{db};
  admin::Authenticator auth;
  CachedChannelDirectory directory;
  router::RouterWorker router;
  WriterSink sink;
  gateway::WebhookHandler webhooks;
  admin::SetupApi setup;
  admin::RoutingSetupApi routing_setup;
  admin::ConversationApi conversation_api{auth, conversations, &agents};
  admin::AuditApi audit_api{auth, audit_store};
  admin::MetricsApi metrics_api{auth, metrics_store};
  admin::TemplateApi template_api{auth, templates};
  agent_api::AgentApi agent_api;
  store::MediaRepository media_store{db};
  agent_api::MediaApi media_api{auth, agents, media_store, secrets, config.graph_api_base};
  store::PresenceRepository presence{db};
  store::AgentRepository feed_reads{feed_db, notifier};
  agent_api::AgentStream stream{auth, agents, feed_reads, presence, registry, [this] { router.Wake(); }};
  agent_api::PresenceKeeper presence_keeper{presence, stream, config.presence_timeout, [this] { router.Wake(); }};
  store::EventListener listener;
  store::QueueStatsRepository queue_stats{db};
  QueueGauges queue_gauges{queue_stats, registry};
  admin::DashboardPage dashboard;
  store::LifecycleRepository lifecycle_store{db};
  admin::LifecycleApi lifecycle;
  admin::ErasureApi erasure{auth, lifecycle_store, secrets, config.public_url};

  /// True while a statement succeeded in the last 2 s.
  bool DatabaseReady() const;
  /// A NOTIFY on sb_agent_events arrived (from this or another process).
  void OnAgentEvents(const std::string& payload);
  /// A NOTIFY on sb_invalidate: tokens were revoked or channels changed
  /// (in this or another process); forget what the caches hold.
  void OnInvalidate(const std::string& payload);
};

/// Seals every secret still under an older key with the current one.
store::ReencryptReport ReencryptSecrets(App::Services& s);

/// Declares every route. `s` may be null when only the table is wanted.
void RegisterRoutes(http::Router& router, App::Services* s);

}  // namespace sb::app
