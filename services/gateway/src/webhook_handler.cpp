#include "sb/gateway/webhook_handler.hpp"

#include <spdlog/spdlog.h>
#include <nlohmann/json.hpp>

#include <algorithm>

#include "sb/common/crypto.hpp"
#include "sb/common/json/limited_parse.hpp"
#include "sb/common/metrics.hpp"
#include "sb/gateway/webhook_parser.hpp"

namespace sb::gateway {

struct WebhookHandler::Metrics {
  // The series every accepted webhook touches, resolved once per kind: the
  // registry's lookup takes a lock and builds label strings.
  struct Accepted {
    metrics::Counter* requests;
    metrics::Counter* ingested;
    metrics::Counter* duplicates;
    metrics::Histogram* latency;
  };

  explicit Metrics(metrics::Registry& r) : registry(r) {
    for (auto kind : {ChannelKind::kMessenger, ChannelKind::kInstagram, ChannelKind::kWhatsapp}) {
      accepted[static_cast<int>(kind)] = Accepted{
          &Result(kind, "accepted"), &Count("switchboard_messages_ingested_total", "Customer messages stored", kind),
          &Count("switchboard_duplicates_dropped_total", "Re-delivered messages stored once", kind), &Latency(kind)};
      SignatureFailures(kind);  // a zero is a value: the series exists before the first failure
      // Resolved now: shed requests come when the process has least time.
      shed[static_cast<int>(kind)] = &Result(kind, "shed");
    }
  }
  const Accepted& For(ChannelKind kind) const { return accepted[static_cast<int>(kind)]; }
  metrics::Counter& Result(ChannelKind kind, const char* result) {
    return registry.GetCounter("switchboard_webhooks_total", "Webhook POSTs by channel kind and result",
                               {{"kind", std::string(ToString(kind))}, {"result", result}});
  }
  metrics::Counter& Count(const char* name, const char* help, ChannelKind kind) {
    return registry.GetCounter(name, help, {{"kind", std::string(ToString(kind))}});
  }
  metrics::Counter& SignatureFailures(ChannelKind kind) {
    return Count("switchboard_webhook_signature_failures_total", "Webhook POSTs whose signature did not verify", kind);
  }
  metrics::Histogram& Latency(ChannelKind kind) {
    return registry.GetHistogram("switchboard_webhook_ingest_seconds",
                                 "Time from a webhook POST's arrival to its answer, accepted ones",
                                 metrics::LatencyBuckets(), {{"kind", std::string(ToString(kind))}});
  }
  metrics::Registry& registry;
  Accepted accepted[3];
  metrics::Counter* shed[3];
};

namespace {

ChannelKind KindOrThrow(const http::Request& req) {
  auto kind = ChannelKindFromString(req.Param("kind"));
  if (!kind) {
    throw http::HttpError(
        404, "not_found",
        "unknown channel kind '" + std::string(req.Param("kind")) + "': expected messenger, instagram or whatsapp");
  }
  return *kind;
}

// Keeps only what the verified channels carry.
ParsedWebhook KeepVerified(ParsedWebhook parsed, const std::vector<ChannelRef>& verified) {
  auto ok = [&](const ChannelRef& ref) { return std::find(verified.begin(), verified.end(), ref) != verified.end(); };
  auto drop = [&](auto& items) {
    items.erase(std::remove_if(items.begin(), items.end(), [&](const auto& item) { return !ok(item.channel); }),
                items.end());
  };
  drop(parsed.messages);
  drop(parsed.statuses);
  drop(parsed.watermarks);
  drop(parsed.events);
  return parsed;
}

}  // namespace

WebhookHandler::WebhookHandler(ChannelDirectory& directory, IngestSink& sink, metrics::Registry& registry,
                               std::chrono::milliseconds deadline)
    : directory_(directory), sink_(sink), metrics_(std::make_unique<Metrics>(registry)), deadline_(deadline) {}

WebhookHandler::~WebhookHandler() = default;

boost::asio::awaitable<http::Response> WebhookHandler::Verify(http::Request& req) {
  ChannelKind kind = KindOrThrow(req);
  auto mode = req.Query("hub.mode");
  auto token = req.Query("hub.verify_token");
  auto challenge = req.Query("hub.challenge");
  if (!mode || *mode != "subscribe" || !token || !challenge) {
    throw http::HttpError(403, "verification_failed",
                          "expected hub.mode=subscribe with hub.verify_token and hub.challenge");
  }
  if (!co_await directory_.IsVerifyToken(kind, std::string(*token))) {
    throw http::HttpError(403, "verification_failed",
                          "hub.verify_token matches no " + std::string(ToString(kind)) + " channel");
  }
  co_return http::Response::Text(200, std::string(*challenge));
}

boost::asio::awaitable<http::Response> WebhookHandler::Receive(http::Request& req) {
  ChannelKind kind = KindOrThrow(req);
  auto reject = [&](int status, const char* result, const Error& error) {
    metrics_->Result(kind, result).Inc();
    return http::HttpError(status, error.code, error.message);
  };
  // Refusing costs little next to parsing, verifying and storing: while the
  // process is behind, that is what leaves it the time to answer at all.
  if (sink_.Shedding() || http::Clock::now() - req.received_at > deadline_ / 4) {
    metrics_->shed[static_cast<int>(kind)]->Inc();
    throw http::HttpError(503, "overloaded", "the server is behind on the webhooks it has; retry shortly")
        .WithRetryAfter(1);
  }

  auto json = json::ParseLimited(req.body);
  if (!json) throw reject(400, "invalid_json", json.error());
  auto parsed = ParseWebhook(kind, json.value());
  if (!parsed) throw reject(400, "invalid_shape", parsed.error());

  auto known = co_await directory_.Find(kind, parsed.value().channels);
  if (known.empty()) {
    metrics_->Result(kind, "ignored").Inc();
    co_return http::Response::Json(200, {{"status", "ignored"}});
  }

  // Each entry counts only when the signature verifies with the secret of
  // the channel it names; secrets are shared across channels of one app, so
  // verify each distinct secret once.
  std::string_view signature = req.Header("x-hub-signature-256");
  std::vector<std::pair<std::string, bool>> checked;
  std::vector<ChannelRef> verified;
  std::vector<std::pair<ChannelRef, ChannelKey>> keys;
  int skipped = 0;
  for (const auto& channel : known) {
    auto it = std::find_if(checked.begin(), checked.end(), [&](auto& c) { return c.first == channel.app_secret; });
    bool ok =
        it != checked.end()
            ? it->second
            : checked
                  .emplace_back(channel.app_secret, crypto::VerifyHubSignature(signature, channel.app_secret, req.body))
                  .second;
    if (!ok || !channel.active) {
      ++skipped;
      continue;
    }
    if (std::find(verified.begin(), verified.end(), channel.ref) != verified.end()) continue;
    verified.push_back(channel.ref);
    keys.emplace_back(channel.ref, channel.key);
  }
  if (verified.empty()) {
    if (std::none_of(known.begin(), known.end(), [](auto& c) { return c.active; })) {
      metrics_->Result(kind, "inactive").Inc();
      co_return http::Response::Json(200, {{"status", "ignored"}});
    }
    metrics_->SignatureFailures(kind).Inc();
    throw reject(
        401, "invalid_signature",
        Error{"invalid_signature", signature.empty() ? "X-Hub-Signature-256 header is missing"
                                                     : "X-Hub-Signature-256 does not match the app secret of any "
                                                       "channel this body names"});
  }
  // Entries naming no registered channel are skipped too.
  for (const auto& ref : parsed.value().channels) {
    if (std::find(verified.begin(), verified.end(), ref) == verified.end() &&
        std::none_of(known.begin(), known.end(), [&](auto& c) { return c.ref == ref; })) {
      ++skipped;
    }
  }
  if (skipped > 0) {
    metrics_
        ->Count("switchboard_webhook_entries_skipped_total",
                "Webhook entries naming an unregistered, inactive or unverified channel", kind)
        .Inc(skipped);
  }

  IngestRequest ingest;
  ingest.kind = kind;
  ingest.parsed = KeepVerified(std::move(parsed).value(), verified);
  ingest.channels = std::move(keys);
  ingest.deadline = req.received_at + deadline_;
  int echoes = ingest.parsed.echoes;
  ingest.body = std::move(req.body);
  IngestOutcome outcome;
  try {
    outcome = co_await sink_.Ingest(std::move(ingest));
  } catch (const http::HttpError& e) {
    metrics_->Result(kind, e.status() == 503 ? "unavailable" : "failed").Inc();
    throw;
  }
  const auto& m = metrics_->For(kind);
  m.requests->Inc();
  m.ingested->Inc(outcome.messages);
  m.duplicates->Inc(outcome.duplicates);
  m.latency->Observe(std::chrono::duration<double>(http::Clock::now() - req.received_at).count());
  co_return http::Response::Json(200, {{"status", "ok"},
                                       {"messages", outcome.messages},
                                       {"duplicates", outcome.duplicates},
                                       {"statuses", outcome.statuses},
                                       {"events", outcome.events},
                                       {"echoes", echoes},
                                       {"skipped_entries", skipped}});
}

}  // namespace sb::gateway
