// FormatMoney (declared in bot_replies.hpp).
#include <algorithm>
#include <cstdint>
#include <string>
#include <string_view>

#include "sb/router/bot_replies.hpp"

namespace sb::router {
namespace {

// ISO 4217 minor-unit exponents that are not 2.
constexpr std::string_view kExponent0[] = {"BIF", "CLP", "DJF", "GNF", "ISK", "JPY", "KMF", "KRW", "PYG",
                                           "RWF", "UGX", "UYI", "VND", "VUV", "XAF", "XOF", "XPF"};
constexpr std::string_view kExponent3[] = {"BHD", "IQD", "JOD", "KWD", "LYD", "OMR", "TND"};
constexpr std::string_view kExponent4[] = {"CLF", "UYW"};

template <std::size_t N>
bool Contains(const std::string_view (&list)[N], std::string_view code) {
  return std::find(std::begin(list), std::end(list), code) != std::end(list);
}

int Exponent(std::string_view code) {
  if (Contains(kExponent0, code)) return 0;
  if (Contains(kExponent3, code)) return 3;
  if (Contains(kExponent4, code)) return 4;
  return 2;
}

}  // namespace

std::string FormatMoney(std::int64_t cents, std::string_view currency) {
  std::string code;
  for (char c : currency) code += static_cast<char>(c >= 'a' && c <= 'z' ? c - 'a' + 'A' : c);
  int exponent = Exponent(code);

  // The magnitude as unsigned, so that INT64_MIN does not overflow.
  std::uint64_t magnitude = cents < 0 ? ~static_cast<std::uint64_t>(cents) + 1 : static_cast<std::uint64_t>(cents);
  std::string digits = std::to_string(magnitude);
  if (digits.size() <= static_cast<std::size_t>(exponent)) {
    digits.insert(0, static_cast<std::size_t>(exponent) + 1 - digits.size(), '0');
  }
  std::string whole = digits.substr(0, digits.size() - exponent);
  std::string fraction = digits.substr(digits.size() - exponent);

  std::string out = cents < 0 ? "-" : "";
  for (std::size_t i = 0; i < whole.size(); ++i) {
    if (i > 0 && (whole.size() - i) % 3 == 0) out += ',';
    out += whole[i];
  }
  if (exponent > 0) out += "." + fraction;
  if (!code.empty()) out += " " + code;
  return out;
}

}  // namespace sb::router
