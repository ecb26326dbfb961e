#include "sb/agent_api/presence_keeper.hpp"

#include <spdlog/spdlog.h>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <algorithm>

namespace sb::agent_api {

namespace asio = boost::asio;
using std::chrono::milliseconds;

PresenceKeeper::PresenceKeeper(store::PresenceRepository& presence, AgentStream& stream, milliseconds timeout,
                               std::function<void()> assignment_needed)
    : presence_(presence), stream_(stream), timeout_(timeout), assignment_needed_(std::move(assignment_needed)) {}

// Three beats per timeout: a stream survives a missed beat (a row locked by
// a long transaction is skipped, not waited for) without its agent going away.
milliseconds PresenceKeeper::HeartbeatInterval() const { return std::max(milliseconds(100), timeout_ / 3); }

milliseconds PresenceKeeper::SweepInterval() const {
  return std::clamp(timeout_ / 4, milliseconds(50), milliseconds(1000));
}

asio::awaitable<void> PresenceKeeper::Run() {
  auto executor = co_await asio::this_coro::executor;
  asio::steady_timer timer(executor);
  const double timeout_s = std::chrono::duration<double>(timeout_).count();
  auto next_beat = std::chrono::steady_clock::now();
  for (;;) {
    try {
      if (std::chrono::steady_clock::now() >= next_beat) {
        next_beat = std::chrono::steady_clock::now() + HeartbeatInterval();
        auto restored = co_await presence_.Heartbeat(stream_.ConnectedAgents());
        if (!restored.empty() && assignment_needed_) assignment_needed_();
      }
      for (const auto& [business, agent] : co_await presence_.Sweep(timeout_s)) {
        spdlog::info("business_id={} agent_id={} away: no agent stream for {:.1f} s", business, agent, timeout_s);
      }
    } catch (const std::exception& e) {
      spdlog::debug("presence upkeep failed (retried): {}", e.what());
    }
    timer.expires_after(SweepInterval());
    auto [ec] = co_await timer.async_wait(asio::as_tuple(asio::use_awaitable));
    if (ec) co_return;
  }
}

}  // namespace sb::agent_api
