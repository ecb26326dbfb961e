#include "sb/store/event_listener.hpp"

#include <spdlog/spdlog.h>
#include <pqxx/pqxx>

#include <chrono>
#include <memory>

#include "sb/store/database.hpp"

namespace sb::store {

namespace {

class Receiver : public pqxx::notification_receiver {
 public:
  Receiver(pqxx::connection_base& conn, const std::string& channel, std::function<void(const std::string&)>& fn)
      : pqxx::notification_receiver(conn, channel), fn_(fn) {}
  void operator()(const std::string& payload, int) override { fn_(payload); }

 private:
  std::function<void(const std::string&)>& fn_;
};

}  // namespace

EventListener::EventListener(std::string database_url, std::string channel,
                             std::function<void(const std::string&)> on_notify, std::function<void()> on_reconnect)
    : url_(WithConnectionDefaults(std::move(database_url))),
      channel_(std::move(channel)),
      on_notify_(std::move(on_notify)),
      on_reconnect_(std::move(on_reconnect)) {}

EventListener::~EventListener() { Stop(); }

void EventListener::Subscribe(std::string channel, std::function<void(const std::string&)> on_notify) {
  more_.emplace_back(std::move(channel), std::move(on_notify));
}

void EventListener::Start() {
  thread_ = std::thread([this] { Loop(); });
}

void EventListener::Stop() {
  stopping_ = true;
  if (thread_.joinable()) thread_.join();
}

void EventListener::Loop() {
  auto backoff = std::chrono::milliseconds(200);
  while (!stopping_) {
    try {
      pqxx::connection conn(url_);
      Receiver receiver(conn, channel_, on_notify_);
      std::vector<std::unique_ptr<Receiver>> others;
      for (auto& [channel, fn] : more_) others.push_back(std::make_unique<Receiver>(conn, channel, fn));
      // LISTEN is issued by the receiver; anything sent while we were away
      // is lost, so listeners resync now.
      if (on_reconnect_) on_reconnect_();
      backoff = std::chrono::milliseconds(200);
      while (!stopping_) conn.await_notification(0, 250000);  // wake to check stopping_
    } catch (const std::exception& e) {
      if (stopping_) break;
      spdlog::warn("event listener: {} (reconnecting in {} ms)", e.what(), backoff.count());
      std::this_thread::sleep_for(backoff);
      backoff = std::min(backoff * 2, std::chrono::milliseconds(2000));
    }
  }
}

}  // namespace sb::store
