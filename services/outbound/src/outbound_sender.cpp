#include "sb/outbound/outbound_sender.hpp"

#include <spdlog/spdlog.h>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <algorithm>
#include <random>
#include <stdexcept>
#include <vector>

#include "sb/common/crypto.hpp"
#include "sb/common/metrics.hpp"
#include "sb/outbound/graph_client.hpp"
#include "sb/outbound/graph_request.hpp"
#include "sb/store/database.hpp"
#include "sb/store/outbound_repository.hpp"
#include "worker_thread.hpp"

namespace sb::outbound {

namespace asio = boost::asio;
using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;
using namespace std::chrono_literals;
constexpr auto kTuple = asio::as_tuple(asio::use_awaitable);

namespace {

// Time a claim must still have left when a send starts: the send itself
// (request_timeout) plus recording its outcome.
constexpr milliseconds kMarkMargin = 10s;
// Statuses parked while their send committed are looked for this often,
// this far back.
constexpr milliseconds kLateStatusInterval = 15s;
constexpr milliseconds kLateStatusWindow = 2min;
constexpr const char* kResults[] = {"sent", "retry", "failed"};
constexpr const char* kKinds[] = {"messenger", "instagram", "whatsapp"};
constexpr int kProfileBatch = 20;

const char* ResultName(RetryDecision::Action a) {
  switch (a) {
    case RetryDecision::Action::kSent:
      return "sent";
    case RetryDecision::Action::kRetry:
      return "retry";
    case RetryDecision::Action::kFail:
      return "failed";
  }
  return "failed";
}

}  // namespace

class OutboundSender::Impl {
 public:
  Impl(store::Database& db, const crypto::SecretBox& secrets, metrics::Registry& registry, SenderOptions options)
      : repo_(db), secrets_(secrets), registry_(registry), options_(std::move(options)), rng_(std::random_device{}()) {
    auto base = ParseBaseUrl(options_.graph_api_base);
    if (!base) throw std::invalid_argument(base.error().message);
    https_ = base.value().tls;
    if (options_.connections < 1 || options_.batch < 1) {
      throw std::invalid_argument("outbound sender: connections and batch must be at least 1");
    }
    if (options_.lease < options_.request_timeout + kMarkMargin + 1s) {
      throw std::invalid_argument("outbound sender: the lease must exceed the request timeout by more than 10 s");
    }
    for (const char* kind : kKinds) {
      for (const char* result : kResults) Sends(kind, result);
    }
  }

  ~Impl() { Stop(); }

  void Start() {
    // Loading the CA bundle takes tens of milliseconds: only where the
    // outbound role runs.
    if (https_ && !tls_) tls_ = MakeTlsContext();
    std::vector<asio::awaitable<void>> tasks;
    for (int i = 0; i < options_.connections; ++i) tasks.push_back(Worker());
    tasks.push_back(LateStatusSweeper());
    tasks.push_back(ProfileLookups());
    worker_.Start(std::move(tasks));
  }

  void Stop() { worker_.Stop(); }

  void Notify() { worker_.Notify(); }

 private:
  // A Graph API client of this sender's, on its thread; Stop's grace timer
  // cuts it off while it lives.
  class ListedClient {
   public:
    explicit ListedClient(Impl& sender)
        : client(sender.worker_.io().get_executor(), sender.options_.graph_api_base, sender.options_.request_timeout,
                 sender.tls_),
          listed_(sender.worker_, client) {}

    GraphClient client;

   private:
    WorkerThread::Listed listed_;
  };

  asio::awaitable<void> Worker() {
    ListedClient listed(*this);
    GraphClient& client = listed.client;
    asio::steady_timer timer(worker_.io());
    bool db_down = false;
    while (!worker_.stopping()) {
      std::uint64_t wakes_seen = worker_.wakes();
      std::vector<store::OutboundClaim> claims;
      bool claimed = false;
      try {
        claims = co_await repo_.ClaimDue(options_.batch, options_.lease);
        claimed = true;
      } catch (const std::exception& e) {
        if (!db_down) spdlog::warn("outbound: claiming replies failed (retrying): {}", e.what());
      }
      db_down = !claimed;
      if (!claimed) {
        co_await worker_.Sleep(timer, std::max(options_.poll_interval, milliseconds(1s)));
        continue;
      }
      auto claimed_at = Clock::now();
      for (std::size_t i = 0; i < claims.size(); ++i) {
        if (worker_.stopping() || Clock::now() - claimed_at + options_.request_timeout + kMarkMargin > options_.lease) {
          co_await Release(claims, i);
          break;
        }
        try {
          co_await SendOne(client, claims[i]);
        } catch (const std::exception& e) {
          spdlog::error("outbound: sending message {} of business {} failed unexpectedly (its lease will retry it): {}",
                        claims[i].id, claims[i].business_id, e.what());
        }
      }
      if (static_cast<int>(claims.size()) == options_.batch) {
        worker_.WakeOne();  // more may be due: get help
        continue;
      }
      if (wakes_seen != worker_.wakes()) continue;
      co_await worker_.Sleep(timer, options_.poll_interval);
    }
  }

  asio::awaitable<void> Release(const std::vector<store::OutboundClaim>& claims, std::size_t from) {
    for (std::size_t i = from; i < claims.size(); ++i) {
      try {
        co_await repo_.Release(claims[i].business_id, claims[i].id);
      } catch (const std::exception& e) {
        spdlog::warn("outbound: releasing message {} of business {} failed (its lease will): {}", claims[i].id,
                     claims[i].business_id, e.what());
      }
    }
  }

  // A claim's payload, read once: the attachment of a media reply, the
  // template of a template reply.
  struct Payload {
    std::optional<MediaPayload> media;
    std::optional<TemplatePayload> tmpl;
  };
  static Payload ReadPayload(const store::OutboundClaim& c) {
    Payload p;
    if (!c.payload) return p;
    if (IsMediaType(c.type)) {
      p.media = MediaPayload::Parse(*c.payload);
    } else if (c.type == "template") {
      p.tmpl = TemplatePayload::Parse(*c.payload);
    }
    return p;
  }

  // Why a claimed reply cannot be sent at all, or "".
  std::string Unsendable(const store::OutboundClaim& c, const std::optional<gateway::ChannelKind>& kind,
                         const Payload& payload) const {
    if (!kind) return "the message's channel no longer exists";
    if (!c.channel_active) return "the channel is deactivated";
    if (c.contact_external_id.empty()) return "the message's contact no longer exists";
    if (IsMediaType(c.type)) {
      if (!payload.media) return "the attachment has no URL";
    } else if (c.type == "template") {
      if (*kind != gateway::ChannelKind::kWhatsapp) return "templates are sent on WhatsApp channels only";
      if (!payload.tmpl) return "the template message is malformed";
    } else if (c.text.empty()) {
      return "the message has no text to send";
    }
    if (!c.access_token_enc_hex) return "the channel has no access token";
    // Earlier attempts that died with their sender count too.
    if (c.attempts > options_.retry.max_attempts) {
      return "gave up after " + std::to_string(c.attempts - 1) + " attempts";
    }
    if (c.age >= options_.retry.give_up_after) return "gave up: the message waited too long to be sent";
    return "";
  }

  std::optional<std::string> AccessToken(std::string_view sealed_hex) const {
    auto token = secrets_.OpenHex(sealed_hex);
    if (!token || token->empty()) return std::nullopt;
    return token;
  }

  asio::awaitable<void> SendOne(GraphClient& client, const store::OutboundClaim& c) {
    auto kind = gateway::ChannelKindFromString(c.channel_kind);
    std::string kind_label = kind ? c.channel_kind : "unknown";
    // Arguments of co_await calls are named locals, never temporaries: GCC 12
    // destroys some temporaries of a co_await expression twice.
    const std::string no_provider_id;
    std::optional<std::string> token;
    if (c.access_token_enc_hex) token = AccessToken(*c.access_token_enc_hex);
    auto payload = ReadPayload(c);
    RetryDecision refusal;  // kFail
    refusal.error = Unsendable(c, kind, payload);
    if (refusal.error.empty() && !token) refusal.error = "the channel's access token cannot be decrypted";
    if (!refusal.error.empty()) {
      co_await Record(c, kind_label, refusal, no_provider_id);
      co_return;
    }
    GraphRequest request;
    if (payload.media) {
      request = BuildMediaMessage(*kind, client.BasePath(), c.channel_external_id, c.contact_external_id, c.type,
                                  payload.media->url, c.text, c.tag);
    } else if (payload.tmpl) {
      request = BuildTemplateMessage(client.BasePath(), c.channel_external_id, c.contact_external_id,
                                     payload.tmpl->name, payload.tmpl->language, payload.tmpl->params);
    } else {
      request = BuildTextMessage(*kind, client.BasePath(), c.channel_external_id, c.contact_external_id, c.text, c.tag);
    }
    auto started = Clock::now();
    GraphAnswer answer = co_await client.Post(request.target, request.body, *token);
    auto took = std::chrono::duration_cast<milliseconds>(Clock::now() - started);
    registry_
        .GetHistogram("switchboard_outbound_send_seconds", "Graph API send call latency", metrics::LatencyBuckets(),
                      {{"kind", kind_label}})
        .Observe(std::chrono::duration<double>(took).count());
    SendResult result;
    if (answer.status == 0) {
      result.error = std::move(answer.error);
    } else {
      std::optional<std::string_view> retry_after;
      if (answer.retry_after) retry_after = *answer.retry_after;
      result = ParseSendAnswer(*kind, answer.status, answer.body, retry_after, std::chrono::system_clock::now());
    }
    auto decision = DecideRetry(result, c.attempts, c.age + took, Random01(), options_.retry);
    co_await Record(c, kind_label, decision, result.provider_message_id);
  }

  asio::awaitable<void> Record(const store::OutboundClaim& c, const std::string& kind, const RetryDecision& decision,
                               const std::string& provider_id) {
    Sends(kind, ResultName(decision.action)).Inc();
    try {
      switch (decision.action) {
        case RetryDecision::Action::kSent:
          co_await RecordSent(c, provider_id);
          break;
        case RetryDecision::Action::kRetry:
          spdlog::info("outbound: business {} conversation {} message {}: attempt {} failed, retry in {} ms: {}",
                       c.business_id, c.conversation_id, c.id, c.attempts, decision.delay.count(), decision.error);
          co_await repo_.MarkRetry(c.business_id, c.id, decision.delay, decision.error);
          break;
        case RetryDecision::Action::kFail:
          spdlog::warn("outbound: business {} conversation {} message {}: failed after {} attempt(s): {}",
                       c.business_id, c.conversation_id, c.id, c.attempts, decision.error);
          co_await repo_.MarkFailed(c.business_id, c.id, decision.error);
          break;
      }
    } catch (const std::exception& e) {
      spdlog::warn("outbound: recording the outcome of message {} of business {} failed (its lease will retry it): {}",
                   c.id, c.business_id, e.what());
    }
  }

  // The provider has the message now: recording that is worth a few tries,
  // since a lost mark means the lease sends it a second time.
  asio::awaitable<void> RecordSent(const store::OutboundClaim& c, const std::string& provider_id) {
    asio::steady_timer pause(worker_.io());
    for (int attempt = 1;; ++attempt) {
      bool conflict = false;
      try {
        auto status = co_await repo_.MarkSent(c.business_id, c.id, provider_id);
        if (!status) {
          spdlog::warn("outbound: business {} message {} was sent as {} but was no longer queued", c.business_id, c.id,
                       provider_id);
        }
        co_return;
      } catch (const store::Conflict&) {
        conflict = true;
      } catch (const store::Unavailable&) {
        if (attempt == 3) throw;
      }
      if (conflict) {
        std::string error = "the send API answered with a message id this channel already has: " + provider_id;
        co_await repo_.MarkFailed(c.business_id, c.id, error);
        co_return;
      }
      pause.expires_after(1s);
      co_await pause.async_wait(kTuple);
    }
  }

  // Messenger and Instagram webhooks carry no name: look each new contact's
  // profile up once and cache the name in the contact row.
  asio::awaitable<void> ProfileLookups() {
    ListedClient listed(*this);
    GraphClient& client = listed.client;
    asio::steady_timer timer(worker_.io());
    while (!worker_.stopping()) {
      std::vector<store::ProfileClaim> claims;
      try {
        claims = co_await repo_.ClaimProfiles(kProfileBatch);
      } catch (const std::exception& e) {
        spdlog::debug("outbound: claiming profile lookups failed: {}", e.what());
      }
      for (const auto& c : claims) {
        if (worker_.stopping()) break;
        try {
          co_await LookUpProfile(client, c);
        } catch (const std::exception& e) {
          spdlog::warn("outbound: profile lookup of contact {} of business {} failed: {}", c.contact_id, c.business_id,
                       e.what());
        }
      }
      if (static_cast<int>(claims.size()) == kProfileBatch) continue;
      // Not among the send workers: a reply's Notify must wake one of them.
      co_await worker_.Sleep(timer, options_.poll_interval, /*wakeable=*/false);
    }
  }

  asio::awaitable<void> LookUpProfile(GraphClient& client, const store::ProfileClaim& c) {
    auto token = AccessToken(c.access_token_enc_hex);
    if (!token) co_return;
    auto kind = gateway::ChannelKindFromString(c.channel_kind).value_or(gateway::ChannelKind::kMessenger);
    std::string target = BuildProfileLookup(kind, client.BasePath(), c.external_id);
    GraphAnswer answer = co_await client.Get(target, *token);
    if (answer.status != 200) {
      spdlog::info("outbound: no profile for contact {} of business {} ({} {})", c.contact_id, c.business_id,
                   answer.status, answer.status == 0 ? answer.error : "from the Graph API");
      co_return;
    }
    auto name = ParseProfileAnswer(kind, answer.body);
    if (name.empty()) co_return;
    co_await repo_.SetContactName(c.business_id, c.contact_id, name);
  }

  asio::awaitable<void> LateStatusSweeper() {
    asio::steady_timer timer(worker_.io());
    while (!worker_.stopping()) {
      co_await worker_.Sleep(timer, kLateStatusInterval, /*wakeable=*/false);
      if (worker_.stopping()) break;
      try {
        if (int n = co_await repo_.ApplyLateStatuses(kLateStatusWindow); n > 0) {
          spdlog::info("outbound: applied {} delivery status(es) that arrived while their send was recorded", n);
        }
      } catch (const std::exception& e) {
        spdlog::debug("outbound: applying late statuses failed: {}", e.what());
      }
    }
  }

  metrics::Counter& Sends(const std::string& kind, const char* result) {
    return registry_.GetCounter("switchboard_outbound_sends_total", "Outbound send attempts by channel kind and result",
                                {{"kind", kind}, {"result", result}});
  }

  double Random01() { return std::uniform_real_distribution<double>(0.0, 1.0)(rng_); }

  store::OutboundRepository repo_;
  const crypto::SecretBox& secrets_;
  metrics::Registry& registry_;
  SenderOptions options_;
  bool https_ = false;
  std::shared_ptr<boost::asio::ssl::context> tls_;  // every client's, for an https base
  std::mt19937_64 rng_;                             // used on the sender's thread only

  WorkerThread worker_{"outbound", options_.stop_grace, "sends", "their replies are retried"};
};

OutboundSender::OutboundSender(store::Database& db, const crypto::SecretBox& secrets, metrics::Registry& registry,
                               SenderOptions options)
    : impl_(std::make_unique<Impl>(db, secrets, registry, std::move(options))) {}

OutboundSender::~OutboundSender() = default;

void OutboundSender::Start() { impl_->Start(); }
void OutboundSender::Stop() { impl_->Stop(); }
void OutboundSender::Notify() { impl_->Notify(); }

}  // namespace sb::outbound
