#pragma once
// When a request reached this host, not when the server got round to reading
// it. Under overload requests wait in the kernel's socket buffers, where no
// queue of ours can see them; the kernel's receive timestamp (SO_TIMESTAMPING,
// software) says how long they waited. Private to common/http.
#include <cstddef>
#include <optional>

#include "sb/common/http/message.hpp"

namespace sb::http {

/// Asks the kernel to stamp the data arriving on `fd`. Best effort: without
/// it, reads report no arrival time.
void EnableArrivalTimestamps(int fd);

struct TimedRead {
  long bytes = 0;  // as recvmsg: > 0 read, 0 end of stream, < 0 failed (see error)
  int error = 0;   // errno when bytes < 0 (EAGAIN: nothing to read now)
  /// How long the last byte read had waited in the kernel since it reached
  /// this host; empty when the kernel gave no timestamp.
  std::optional<Clock::duration> waited;
};

/// One non-blocking read of up to `size` bytes from `fd`.
TimedRead ReadWithArrival(int fd, void* data, std::size_t size);

}  // namespace sb::http
