#pragma once
// Keys a business names in the path (order references, SKUs, ad ids).
#include <algorithm>
#include <string>
#include <string_view>

#include "sb/common/http/message.hpp"

namespace sb::admin {

/// The path parameter `name`: 1 to 100 printable characters without spaces,
/// else 400 invalid_field.
inline std::string PathKey(const http::Request& req, std::string_view name) {
  std::string key(req.Param(name));
  if (key.empty() || key.size() > 100 ||
      !std::all_of(key.begin(), key.end(), [](char c) { return c > 0x20 && c < 0x7f; })) {
    throw http::HttpError(400, "invalid_field",
                          "'" + std::string(name) + "' must be 1 to 100 printable characters without spaces");
  }
  return key;
}

}  // namespace sb::admin
