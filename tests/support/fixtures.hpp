#pragma once
/// Where the test suite finds inputs that live outside the project.
#include <filesystem>
#include <optional>

namespace sb::test {

/// The peer webhook fixtures (`../shared/peer-fixtures` beside the project,
/// or $SB_PEER_FIXTURES); nullopt when absent, and tests that need them skip.
std::optional<std::filesystem::path> PeerFixturesDir();

}  // namespace sb::test
