#pragma once
/// Keeps agent presence true across processes: every `timeout / 3` it marks
/// the agents whose stream this process holds as seen, and every
/// `min(timeout / 4, 1 s)` it runs the sweep that moves online agents with no
/// stream anywhere for `timeout` to away (one process at a time does the
/// work, claimed in the database). Time is PostgreSQL's clock, so processes
/// agree on it. Run() on one executor; Stop by destroying the io_context.
#include <boost/asio/awaitable.hpp>

#include <chrono>
#include <functional>

#include "sb/agent_api/agent_stream.hpp"
#include "sb/store/presence_repository.hpp"

namespace sb::agent_api {

class PresenceKeeper {
 public:
  /// `assignment_needed` runs when a heartbeat made an agent online again.
  PresenceKeeper(store::PresenceRepository& presence, AgentStream& stream, std::chrono::milliseconds timeout,
                 std::function<void()> assignment_needed);

  boost::asio::awaitable<void> Run();

  std::chrono::milliseconds HeartbeatInterval() const;
  std::chrono::milliseconds SweepInterval() const;

 private:
  store::PresenceRepository& presence_;
  AgentStream& stream_;
  std::chrono::milliseconds timeout_;
  std::function<void()> assignment_needed_;
};

}  // namespace sb::agent_api
