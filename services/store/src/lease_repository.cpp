#include <unistd.h>

#include <array>
#include <random>

#include "lease.hpp"

namespace sb::store {

std::string NewLeaseHolderId() {
  std::array<char, 256> host{};
  if (gethostname(host.data(), host.size() - 1) != 0) host[0] = '\0';
  std::random_device random;
  std::uniform_int_distribution<unsigned> digit(0, 15);
  std::string suffix;
  for (int i = 0; i < 8; ++i) suffix += "0123456789abcdef"[digit(random)];
  return std::string(host.data()) + "/" + std::to_string(getpid()) + "/" + suffix;
}

void LeaseRepository::ReleaseAllSync(const LeaseHolder& holder) {
  db_.RunSync("leases/release", [&](Session& s) { s.Exec("leases/release", holder.id); });
}

}  // namespace sb::store
