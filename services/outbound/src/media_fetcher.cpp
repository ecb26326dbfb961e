#include "sb/outbound/media_fetcher.hpp"

#include <spdlog/spdlog.h>
#include <boost/asio/steady_timer.hpp>

#include <algorithm>
#include <optional>
#include <stdexcept>
#include <vector>

#include "sb/common/metrics.hpp"
#include "sb/outbound/graph_client.hpp"
#include "sb/outbound/media_download.hpp"
#include "sb/store/media_repository.hpp"
#include "worker_thread.hpp"

namespace sb::outbound {

namespace asio = boost::asio;
using std::chrono::milliseconds;
using namespace std::chrono_literals;

namespace {

constexpr const char* kResults[] = {"kept", "retry", "failed", "too_large", "refused"};
constexpr milliseconds kMaxRetryPause = 10min;

// No answer, or an answer that says "later": worth another attempt.
bool Retryable(int status) { return status == 0 || status == 408 || status == 425 || status == 429 || status >= 500; }

MediaHostAllowList ParsedHosts(const std::string& text) {
  auto parsed = MediaHostAllowList::Parse(text);
  if (!parsed) throw std::invalid_argument(parsed.error().message);
  return std::move(parsed).value();
}

}  // namespace

class MediaFetcher::Impl {
 public:
  Impl(store::Database& db, metrics::Registry& registry, MediaFetcherOptions options)
      : repo_(db), registry_(registry), options_(std::move(options)), hosts_(ParsedHosts(options_.hosts)) {
    if (options_.concurrency < 1 || options_.max_attempts < 1 || options_.max_bytes < 1) {
      throw std::invalid_argument("media fetcher: concurrency, max_attempts and max_bytes must be at least 1");
    }
    if (options_.lease <= options_.request_timeout + 10s) {
      throw std::invalid_argument("media fetcher: the lease must exceed the request timeout by more than 10 s");
    }
    for (const char* result : kResults) Fetches(result);
  }

  ~Impl() { Stop(); }

  void Start() {
    std::vector<asio::awaitable<void>> tasks;
    for (int i = 0; i < options_.concurrency; ++i) tasks.push_back(Worker());
    worker_.Start(std::move(tasks));
  }

  void Stop() { worker_.Stop(); }

  void Notify() { worker_.Notify(); }

 private:
  asio::awaitable<void> Worker() {
    asio::steady_timer timer(worker_.io());
    bool db_down = false;
    while (!worker_.stopping()) {
      std::uint64_t wakes_seen = worker_.wakes();
      std::vector<store::MediaClaim> claims;
      bool claimed = false;
      try {
        claims = co_await repo_.ClaimDue(1, options_.lease);
        claimed = true;
      } catch (const std::exception& e) {
        if (!db_down) spdlog::warn("media: claiming attachments failed (retrying): {}", e.what());
      }
      db_down = !claimed;
      if (!claimed) {
        co_await worker_.Sleep(timer, std::max(options_.poll_interval, milliseconds(1s)));
        continue;
      }
      for (const auto& c : claims) {
        try {
          co_await FetchOne(c);
        } catch (const std::exception& e) {
          spdlog::error("media: business_id={} message {}: the fetch failed unexpectedly (its lease retries it): {}",
                        c.business_id, c.message_id, e.what());
        }
      }
      if (!claims.empty()) {
        worker_.WakeOne();  // more may be due: get help
        continue;
      }
      if (wakes_seen != worker_.wakes()) continue;
      co_await worker_.Sleep(timer, options_.poll_interval);
    }
  }

  // Why a claimed attachment is not to be fetched at all ({state, error}), or nullopt.
  std::optional<std::pair<std::string, std::string>> Unfetchable(const store::MediaClaim& c) const {
    // Earlier attempts that died with their process count too.
    if (c.attempts > options_.max_attempts) {
      return std::pair<std::string, std::string>("failed",
                                                 "gave up after " + std::to_string(c.attempts - 1) + " attempts");
    }
    if (!c.url) return std::pair<std::string, std::string>("failed", "the message has no attachment URL any more");
    // The URL is what the customer's webhook carried (with signed tokens): it is never logged.
    if (!SplitUrl(*c.url) || !hosts_.Allows(*c.url)) {
      return std::pair<std::string, std::string>(
          "refused", "the attachment URL is not an http(s) URL on an allowed host (SWITCHBOARD_MEDIA_HOSTS)");
    }
    return std::nullopt;
  }

  asio::awaitable<void> FetchOne(const store::MediaClaim& c) {
    // Arguments of co_await calls are named locals, never temporaries or
    // literals: GCC 12 destroys some temporaries of a co_await expression twice.
    if (auto refusal = Unfetchable(c)) {
      co_await End(c, refusal->first, refusal->second);
      co_return;
    }
    auto parts = SplitUrl(*c.url);
    std::optional<GraphClient> client;
    try {
      if (!tls_ && parts->origin.rfind("https://", 0) == 0) tls_ = MakeTlsContext();
      client.emplace(worker_.io().get_executor(), parts->origin, options_.request_timeout, tls_);
    } catch (const std::invalid_argument&) {
      // (co_await is not allowed in a handler.)
    }
    if (!client) {
      const std::string state = "refused", error = "the attachment URL is malformed";
      co_await End(c, state, error);
      co_return;
    }
    WorkerThread::Listed listed(worker_, *client);
    MediaFile file = co_await DownloadFile(*client, parts->target, options_.max_bytes);

    if (file.status == 200) {
      bool kept = co_await repo_.Keep(c.business_id, c.message_id, file.content_type, file.body);
      Fetches("kept").Inc();
      if (kept) {
        spdlog::info("media: business_id={} message {}: kept {} bytes ({})", c.business_id, c.message_id,
                     file.body.size(), file.content_type);
      }
      co_return;
    }
    if (worker_.stopping() && file.status == 0 && !file.too_large) {
      co_await repo_.Release(c.business_id, c.message_id);
      co_return;
    }
    std::string state, error;
    if (file.too_large) {
      state = "too_large";
      error = "the file is larger than " + std::to_string(options_.max_bytes) + " bytes";
    } else {
      error = file.status == 0 ? file.error : "the CDN answered " + std::to_string(file.status);
      if (!Retryable(file.status)) {
        state = "failed";
      } else if (c.attempts >= options_.max_attempts) {
        state = "failed";
        error += " (after " + std::to_string(c.attempts) + " attempts)";
      }
    }
    if (!state.empty()) {
      co_await End(c, state, error);
      co_return;
    }
    auto pause = options_.first_retry;
    for (int i = 1; i < c.attempts && pause < kMaxRetryPause; ++i) pause *= 4;
    pause = std::min(pause, kMaxRetryPause);
    Fetches("retry").Inc();
    spdlog::info("media: business_id={} message {}: attempt {} failed, retry in {} ms: {}", c.business_id, c.message_id,
                 c.attempts, pause.count(), error);
    co_await repo_.Retry(c.business_id, c.message_id, pause, error);
  }

  asio::awaitable<void> End(const store::MediaClaim& c, const std::string& state, const std::string& error) {
    Fetches(state.c_str()).Inc();
    spdlog::warn("media: business_id={} message {}: {}: {}", c.business_id, c.message_id, state, error);
    co_await repo_.Finish(c.business_id, c.message_id, state, error);
  }

  metrics::Counter& Fetches(const char* result) {
    return registry_.GetCounter("switchboard_media_fetches_total",
                                "Messenger/Instagram attachment fetch attempts by result", {{"result", result}});
  }

  store::MediaRepository repo_;
  metrics::Registry& registry_;
  MediaFetcherOptions options_;
  MediaHostAllowList hosts_;
  // Made when the first https download needs it (loading the CA bundle
  // takes tens of milliseconds), then shared by every download.
  std::shared_ptr<boost::asio::ssl::context> tls_;

  WorkerThread worker_{"media", options_.stop_grace, "downloads", "they are fetched again"};
};

MediaFetcher::MediaFetcher(store::Database& db, metrics::Registry& registry, MediaFetcherOptions options)
    : impl_(std::make_unique<Impl>(db, registry, std::move(options))) {}

MediaFetcher::~MediaFetcher() = default;

void MediaFetcher::Start() { impl_->Start(); }
void MediaFetcher::Stop() { impl_->Stop(); }
void MediaFetcher::Notify() { impl_->Notify(); }

}  // namespace sb::outbound
