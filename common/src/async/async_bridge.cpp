#include "sb/common/async_bridge.hpp"

#include <boost/asio/async_result.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <memory>

namespace sb::async {

namespace asio = boost::asio;

asio::awaitable<void> AwaitCompletion(std::function<void(Completion)> start) {
  std::exception_ptr error;
  co_await asio::async_initiate<const asio::use_awaitable_t<>, void()>(
      [&](auto handler) {
        // The handler owns the suspended coroutine frame, so `error` lives as
        // long as `shared` does.
        auto shared = std::make_shared<decltype(handler)>(std::move(handler));
        start([shared, &error](std::exception_ptr e) {
          error = std::move(e);
          auto ex = asio::get_associated_executor(*shared);
          asio::post(ex, [shared]() mutable { std::move (*shared)(); });
        });
      },
      asio::use_awaitable);
  if (error) std::rethrow_exception(error);
}

}  // namespace sb::async
