#pragma once
// Every long-lived object of a Switchboard process, built in dependency
// order, and the route table that exposes them.
#include <boost/asio/io_context.hpp>

#include <memory>

#include "cached_channel_directory.hpp"
#include "sb/admin/authenticator.hpp"
#include "sb/admin/conversation_api.hpp"
#include "sb/admin/setup_api.hpp"
#include "sb/app/app.hpp"
#include "sb/common/crypto.hpp"
#include "sb/common/metrics.hpp"
#include "sb/gateway/webhook_handler.hpp"
#include "sb/store/database.hpp"
#include "sb/store/group_commit_writer.hpp"
#include "sb/store/repositories.hpp"

namespace sb::app {

/// Hands verified webhooks to the group-commit writer, turning "cannot
/// commit" into the 503 Meta retries.
class WriterSink : public gateway::IngestSink {
 public:
  explicit WriterSink(store::GroupCommitWriter& writer) : writer_(writer) {}
  boost::asio::awaitable<gateway::IngestOutcome> Ingest(gateway::IngestRequest request) override;

 private:
  store::GroupCommitWriter& writer_;
};

struct App::Services {
  explicit Services(const Config& config);
  ~Services();

  const Config& config;
  metrics::Registry registry;
  crypto::SecretBox secrets;
  store::Database db;
  store::GroupCommitWriter writer;
  store::BusinessRepository businesses{db};
  store::ChannelRepository channels;
  store::ConversationRepository conversations{db};
  store::MaintenanceRepository maintenance{db};
  admin::Authenticator auth;
  CachedChannelDirectory directory;
  WriterSink sink{writer};
  gateway::WebhookHandler webhooks;
  admin::SetupApi setup;
  admin::ConversationApi conversation_api{auth, conversations};

  /// True while a statement succeeded in the last 2 s.
  bool DatabaseReady() const;
};

/// Declares every route. `s` may be null when only the table is wanted.
void RegisterRoutes(http::Router& router, App::Services* s);

}  // namespace sb::app
