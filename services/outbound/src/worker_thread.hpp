#pragma once
/// Coroutine tasks on a thread of their own, as the outbound sender and the
/// media fetcher run them: tasks sleep on timers that Notify wakes one at a
/// time and Stop cancels; Stop waits for every task to end and cuts the
/// listed clients off after a grace period.
#include <boost/asio/awaitable.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <thread>
#include <vector>

namespace sb::outbound {

class GraphClient;

class WorkerThread {
 public:
  /// `name` starts its log lines; `in_flight` names what Stop cuts off
  /// ("sends", ...) and `cut_off_note` what becomes of it.
  WorkerThread(std::string name, std::chrono::milliseconds grace, std::string in_flight, std::string cut_off_note);
  ~WorkerThread();
  WorkerThread(const WorkerThread&) = delete;
  WorkerThread& operator=(const WorkerThread&) = delete;

  boost::asio::io_context& io() { return io_; }

  /// Runs `tasks` on the thread; once.
  void Start(std::vector<boost::asio::awaitable<void>> tasks);
  /// Cancels every sleep, cuts the listed clients off after the grace, and
  /// returns when every task has ended.
  void Stop();
  /// Wakes one wakeable sleeper, from any thread. Before Start it does
  /// nothing (a process without the role never runs the thread).
  void Notify();

  // On the thread only:
  bool stopping() const { return stopping_; }
  /// Counts Notify and WakeOne calls: a task that saw it change while it
  /// worked looks again instead of sleeping.
  std::uint64_t wakes() const { return wakes_; }
  void WakeOne();
  /// Sleeps `d`, or until Stop, or (when `wakeable`) until a WakeOne.
  boost::asio::awaitable<void> Sleep(boost::asio::steady_timer& timer, std::chrono::milliseconds d,
                                     bool wakeable = true);

  /// Keeps `client` where Stop's grace finds it while this lives.
  class Listed {
   public:
    Listed(WorkerThread& worker, GraphClient& client);
    ~Listed();
    Listed(const Listed&) = delete;
    Listed& operator=(const Listed&) = delete;

   private:
    WorkerThread& worker_;
    GraphClient& client_;
  };

 private:
  void BeginStop();

  std::string name_, in_flight_, cut_off_note_;
  std::chrono::milliseconds grace_period_;
  boost::asio::io_context io_{1};
  std::optional<boost::asio::executor_work_guard<boost::asio::io_context::executor_type>> guard_;
  std::thread thread_;
  std::atomic<bool> started_{false};
  // Touched only on the thread:
  bool stopping_ = false;
  std::size_t running_ = 0;
  std::uint64_t wakes_ = 0;
  std::vector<boost::asio::steady_timer*> wakeable_, sleepers_;
  std::vector<GraphClient*> clients_;
  boost::asio::steady_timer grace_{io_};
};

}  // namespace sb::outbound
