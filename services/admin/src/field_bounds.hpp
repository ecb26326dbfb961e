#pragma once
// Bounds the create and patch routes share, and the JSON of an optional
// field (null when absent).
#include <nlohmann/json.hpp>

#include <cstdint>
#include <optional>

namespace sb::admin {

inline constexpr std::int64_t kMaxSeconds = 7 * 24 * 3600;
inline constexpr std::int64_t kMaxMoney = 1'000'000'000'000;  // minor units

template <class T>
nlohmann::json Nullable(const std::optional<T>& v) {
  return v ? nlohmann::json(*v) : nlohmann::json();
}

}  // namespace sb::admin
