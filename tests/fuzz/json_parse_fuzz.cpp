// The limited JSON parser (every webhook and /v1 body goes through it) over
// arbitrary bytes: it never throws, fails only with its two codes and a
// printable message, honours the depth limit, and what it accepts is valid
// UTF-8 that survives a dump and a second parse unchanged.
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cstdint>
#include <string>

#include "fuzz_checks.hpp"
#include "sb/common/json/limited_parse.hpp"

namespace {

int Depth(const nlohmann::json& value) {
  if (!value.is_structured()) return 0;
  int deepest = 0;
  for (const auto& item : value) deepest = std::max(deepest, Depth(item));
  return deepest + 1;
}

bool Printable(const std::string& s) {
  return std::all_of(s.begin(), s.end(), [](char c) { return c >= 0x20 && c < 0x7f; });
}

void CheckOne(std::string_view text, int max_depth) {
  auto parsed = sb::json::ParseLimited(text, max_depth);
  if (!parsed) {
    const auto& error = parsed.error();
    SB_FUZZ_CHECK(error.code == "invalid_json" || error.code == "too_deep", error.code);
    SB_FUZZ_CHECK(Printable(error.message), error.message);
    return;
  }
  const auto& value = parsed.value();
  SB_FUZZ_CHECK(Depth(value) <= max_depth, "accepted a document nested deeper than the limit");
  SB_FUZZ_CHECK(text.find('\0') == std::string_view::npos, "accepted a NUL byte");
  // A strict dump throws on invalid UTF-8: the parser must not have let any in.
  std::string dumped;
  try {
    dumped = value.dump();
  } catch (const nlohmann::json::exception& e) {
    SB_FUZZ_CHECK(false, e.what());
  }
  auto again = sb::json::ParseLimited(dumped, max_depth);
  SB_FUZZ_CHECK(again.ok(), "its own dump does not parse: " + dumped);
  // Numbers past double's range parse as infinity and dump as null, so
  // compare the second dump with the first, not the values.
  SB_FUZZ_CHECK(again.value().dump() == dumped, "dump changes on a second round: " + dumped);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text = sb::fuzz::AsText(data, size);
  CheckOne(text, sb::json::kMaxDepth);
  // A small limit reaches the too_deep path with short inputs.
  CheckOne(text, 3);
  return 0;
}
