#pragma once
/// Parsing of untrusted JSON: depth-limited, UTF-8 checked, never throws.
#include <nlohmann/json_fwd.hpp>
#include <string_view>

#include "sb/common/result.hpp"

namespace sb::json {

inline constexpr int kMaxDepth = 64;

/// Parses `text` as one JSON document. Fails with code `invalid_json`
/// (syntax, invalid UTF-8, lone surrogate escapes) or `too_deep` (arrays and
/// objects nested more than `max_depth` levels) and a message naming the
/// byte offset. Stops reading at the first violation, so a 100,000-deep
/// document costs no more than its first `max_depth` levels.
Result<nlohmann::json> ParseLimited(std::string_view text, int max_depth = kMaxDepth);

}  // namespace sb::json
