#pragma once
/// LISTEN on a dedicated connection and thread: calls `on_notify` with each
/// notification's payload, and `on_reconnect` after (re)connecting, when
/// anything may have been missed and listeners should resync.
#include <atomic>
#include <functional>
#include <string>
#include <thread>
#include <utility>
#include <vector>

namespace sb::store {

class EventListener {
 public:
  EventListener(std::string database_url, std::string channel, std::function<void(const std::string&)> on_notify,
                std::function<void()> on_reconnect);
  ~EventListener();
  /// Also LISTEN on `channel` (on the same connection); call before Start().
  void Subscribe(std::string channel, std::function<void(const std::string&)> on_notify);
  void Start();
  void Stop();

 private:
  void Loop();
  std::string url_, channel_;
  std::function<void(const std::string&)> on_notify_;
  std::function<void()> on_reconnect_;
  std::vector<std::pair<std::string, std::function<void(const std::string&)>>> more_;
  std::atomic<bool> stopping_{false};
  std::thread thread_;
};

}  // namespace sb::store
