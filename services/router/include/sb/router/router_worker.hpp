#pragma once
/// The routing loop of a process: decides new conversations (rules -> queue
/// or bot), lets the bots answer, and assigns waiting conversations to
/// agents. Runs on its own thread; any number of processes may run one
/// (work is claimed with SKIP LOCKED). The timers (offers, SLAs, overflow)
/// run in one process at a time: the holder of the router-timers lease.
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>
#include <unordered_map>

#include "sb/store/router_repository.hpp"

namespace sb::metrics {
class Registry;
}

namespace sb::router {

class RuleSet;

class RouterWorker {
 public:
  /// The agents' sockets, here and in every other process, are woken by the
  /// event notifier once it has numbered the events.
  struct Hooks {
    std::function<void()> replies_queued;  // wake the outbound sender
  };
  RouterWorker(store::RouterRepository& repository, metrics::Registry& registry, Hooks hooks,
               store::LeaseHolder timer_lease, std::chrono::milliseconds poll = std::chrono::milliseconds(100));
  ~RouterWorker();

  void Start();
  /// Finishes the current tick and joins.
  void Stop();
  /// Run a tick now (a conversation was created, an agent came online...).
  void Wake();
  /// An agent here freed a slot (a resolve, a transfer to another agent):
  /// the router looks whether a conversation waits for one (one statement,
  /// at most once every kSlotCheckEvery however many slots free up) and
  /// turns when one does. Other processes' slots wait for the poll.
  void SlotFreed();
  static constexpr std::chrono::milliseconds kSlotCheckEvery{20};
  /// Forget compiled rules of a business (they changed).
  void ForgetRules(std::int64_t business_id);

  /// The decision for one conversation (public for tests).
  store::RoutingDecision Decide(const store::RoutingCandidate& c, const std::optional<store::RoutingRulesRow>& rules,
                                store::RoutingLookups& lookups);

 private:
  void Loop();
  std::shared_ptr<const RuleSet> Rules(std::int64_t business_id, const store::RoutingRulesRow& row);

  store::RouterRepository& repository_;
  metrics::Registry& registry_;
  Hooks hooks_;
  store::LeaseHolder timer_lease_;
  std::chrono::milliseconds poll_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool stopping_ = false;
  bool woken_ = false;
  bool slot_freed_ = false;
  std::thread thread_;
  std::mutex rules_mu_;
  std::unordered_map<std::int64_t, std::pair<std::int64_t, std::shared_ptr<const RuleSet>>> rules_;
};

}  // namespace sb::router
