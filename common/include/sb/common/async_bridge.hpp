#pragma once
/// Hands work to another thread and suspends the calling coroutine until
/// that thread reports completion; the coroutine resumes on its own executor.
#include <boost/asio/awaitable.hpp>

#include <exception>
#include <functional>

namespace sb::async {

using Completion = std::function<void(std::exception_ptr)>;

/// Calls `start(done)` immediately; `done` may be called once, from any
/// thread. Rethrows the exception passed to `done`, if any.
boost::asio::awaitable<void> AwaitCompletion(std::function<void(Completion)> start);

}  // namespace sb::async
