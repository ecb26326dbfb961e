#pragma once
/// Logging set-up: spdlog, text or JSON lines, to stderr.
#include <string>

namespace sb::log {

/// `level`: trace|debug|info|warn|error; `format`: text|json. Throws
/// std::invalid_argument on an unknown level.
void Setup(const std::string& level, const std::string& format);

}  // namespace sb::log
