#pragma once
/// Runs a coroutine to completion on a private io_context: for CLI commands
/// and tests, which have no event loop of their own. Completions may arrive
/// from other threads (the store's); the calling thread blocks until done.
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>

#include <exception>
#include <optional>

namespace sb {

template <class T>
T Blocking(boost::asio::awaitable<T> task) {
  boost::asio::io_context io;
  // Completions arrive from the database threads: keep run() waiting.
  auto guard = boost::asio::make_work_guard(io);
  std::optional<T> result;
  std::exception_ptr error;
  boost::asio::co_spawn(io, std::move(task), [&](std::exception_ptr e, T value) {
    error = e;
    if (!e) result = std::move(value);
    guard.reset();
  });
  io.run();
  if (error) std::rethrow_exception(error);
  return std::move(*result);
}

inline void Blocking(boost::asio::awaitable<void> task) {
  // The same, through a task that answers something.
  Blocking([](boost::asio::awaitable<void> t) -> boost::asio::awaitable<bool> {
    co_await std::move(t);
    co_return true;
  }(std::move(task)));
}

}  // namespace sb
