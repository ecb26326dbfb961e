#include "fixtures.hpp"

#include <cstdlib>

namespace sb::test {

std::optional<std::filesystem::path> PeerFixturesDir() {
  if (const char* env = std::getenv("SB_PEER_FIXTURES"); env && *env) {
    if (std::filesystem::is_directory(env)) return std::filesystem::path(env);
    return std::nullopt;
  }
  auto dir = std::filesystem::path(SB_SOURCE_DIR).parent_path() / "shared" / "peer-fixtures";
  if (std::filesystem::is_directory(dir)) return dir;
  return std::nullopt;
}

}  // namespace sb::test
