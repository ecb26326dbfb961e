#include "worker_thread.hpp"

#include <spdlog/spdlog.h>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <algorithm>
#include <exception>

#include "sb/outbound/graph_client.hpp"

namespace sb::outbound {

namespace asio = boost::asio;

WorkerThread::WorkerThread(std::string name, std::chrono::milliseconds grace, std::string in_flight,
                           std::string cut_off_note)
    : name_(std::move(name)),
      in_flight_(std::move(in_flight)),
      cut_off_note_(std::move(cut_off_note)),
      grace_period_(grace) {}

WorkerThread::~WorkerThread() { Stop(); }

void WorkerThread::Start(std::vector<asio::awaitable<void>> tasks) {
  if (started_.exchange(true)) return;
  guard_.emplace(asio::make_work_guard(io_));
  running_ = tasks.size();
  for (auto& task : tasks) {
    asio::co_spawn(io_, std::move(task), [this](std::exception_ptr e) {
      if (e) {
        try {
          std::rethrow_exception(e);
        } catch (const std::exception& ex) {
          spdlog::error("{}: a task ended: {}", name_, ex.what());
        } catch (...) {
          spdlog::error("{}: a task ended with an unknown exception", name_);
        }
      }
      if (--running_ == 0) {
        grace_.cancel();
        guard_.reset();  // the thread returns once the last handler ran
      }
    });
  }
  thread_ = std::thread([this] { io_.run(); });
}

void WorkerThread::Stop() {
  if (!thread_.joinable()) return;
  asio::post(io_, [this] { BeginStop(); });
  thread_.join();
}

void WorkerThread::Notify() {
  if (!started_.load(std::memory_order_relaxed)) return;
  asio::post(io_, [this] { WakeOne(); });
}

void WorkerThread::BeginStop() {
  if (stopping_) return;
  stopping_ = true;
  for (auto* timer : wakeable_) timer->cancel();
  for (auto* timer : sleepers_) timer->cancel();
  wakeable_.clear();
  sleepers_.clear();
  grace_.expires_after(grace_period_);
  grace_.async_wait([this](const boost::system::error_code& ec) {
    if (ec) return;
    spdlog::warn("{}: {} still in flight after {} ms; cutting them off ({})", name_, in_flight_, grace_period_.count(),
                 cut_off_note_);
    for (auto* client : clients_) client->Shutdown();
  });
}

void WorkerThread::WakeOne() {
  ++wakes_;
  if (wakeable_.empty()) return;
  auto* timer = wakeable_.back();
  wakeable_.pop_back();
  timer->cancel();
}

asio::awaitable<void> WorkerThread::Sleep(asio::steady_timer& timer, std::chrono::milliseconds d, bool wakeable) {
  if (stopping_) co_return;
  auto& list = wakeable ? wakeable_ : sleepers_;
  timer.expires_after(d);
  list.push_back(&timer);
  co_await timer.async_wait(asio::as_tuple(asio::use_awaitable));
  std::erase(list, &timer);
}

WorkerThread::Listed::Listed(WorkerThread& worker, GraphClient& client) : worker_(worker), client_(client) {
  worker_.clients_.push_back(&client_);
}

WorkerThread::Listed::~Listed() { std::erase(worker_.clients_, &client_); }

}  // namespace sb::outbound
