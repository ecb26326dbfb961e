#include "arrival.hpp"

#include <linux/errqueue.h>
#include <linux/net_tstamp.h>
#include <sys/socket.h>
#include <sys/uio.h>

#include <cerrno>
#include <chrono>
#include <cstring>

namespace sb::http {

void EnableArrivalTimestamps(int fd) {
  int flags = SOF_TIMESTAMPING_RX_SOFTWARE | SOF_TIMESTAMPING_SOFTWARE;
  (void)setsockopt(fd, SOL_SOCKET, SO_TIMESTAMPING, &flags, sizeof flags);
}

TimedRead ReadWithArrival(int fd, void* data, std::size_t size) {
  iovec iov{data, size};
  alignas(cmsghdr) char control[CMSG_SPACE(sizeof(scm_timestamping))];
  msghdr msg{};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  msg.msg_control = control;
  msg.msg_controllen = sizeof control;
  TimedRead out;
  out.bytes = recvmsg(fd, &msg, MSG_DONTWAIT);
  if (out.bytes < 0) {
    out.error = errno;
    return out;
  }
  for (cmsghdr* c = CMSG_FIRSTHDR(&msg); c != nullptr; c = CMSG_NXTHDR(&msg, c)) {
    if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SO_TIMESTAMPING) continue;
    scm_timestamping stamps;
    std::memcpy(&stamps, CMSG_DATA(c), sizeof stamps);
    const timespec& software = stamps.ts[0];
    if (software.tv_sec == 0 && software.tv_nsec == 0) break;
    // The stamp is on the system clock (a wait below zero or over an hour
    // is a clock step, not a wait).
    auto stamped =
        std::chrono::system_clock::time_point(std::chrono::duration_cast<std::chrono::system_clock::duration>(
            std::chrono::seconds(software.tv_sec) + std::chrono::nanoseconds(software.tv_nsec)));
    auto waited = std::chrono::system_clock::now() - stamped;
    if (waited < std::chrono::system_clock::duration::zero() || waited > std::chrono::hours(1)) break;
    out.waited = std::chrono::duration_cast<Clock::duration>(waited);
    break;
  }
  return out;
}

}  // namespace sb::http
