#include "sb/gateway/webhook_parser.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <exception>
#include <limits>
#include <nlohmann/json.hpp>

#include "parsers.hpp"

namespace sb::gateway {
namespace parse {
namespace {

constexpr std::string_view kReplacementChar = "\xEF\xBF\xBD";
// Nothing Meta sends nests this deep; a value built in memory might, and
// dumping it must not exhaust the stack.
constexpr int kMaxDumpDepth = 96;
constexpr std::int64_t kMaxExactInteger = std::int64_t{1} << 53;

Json Storable(const Json& value, int depth) {
  if (depth > kMaxDumpDepth) return nullptr;
  if (value.is_string()) return CleanText(value.get<std::string>());
  if (value.is_array()) {
    Json out = Json::array();
    for (const auto& item : value) out.push_back(Storable(item, depth + 1));
    return out;
  }
  if (value.is_object()) {
    Json out = Json::object();
    for (auto it = value.begin(); it != value.end(); ++it) {
      out[CleanText(it.key())] = Storable(it.value(), depth + 1);
    }
    return out;
  }
  return value;
}

int CurrencyExponent(std::string_view currency) {
  static constexpr std::string_view kZero[] = {"BIF", "CLP", "DJF", "GNF", "ISK", "JPY", "KMF", "KRW", "PYG",
                                               "RWF", "UGX", "UYI", "VND", "VUV", "XAF", "XOF", "XPF"};
  static constexpr std::string_view kThree[] = {"BHD", "IQD", "JOD", "KWD", "LYD", "OMR", "TND"};
  if (std::find(std::begin(kZero), std::end(kZero), currency) != std::end(kZero)) return 0;
  if (std::find(std::begin(kThree), std::end(kThree), currency) != std::end(kThree)) return 3;
  return 2;
}

// Exact decimal scaling of "123.456" so that "19.99" is 1999, not 1998.
std::optional<std::int64_t> ScaleDecimal(std::string_view text, int exponent) {
  const auto dot = text.find('.');
  const std::string_view whole = text.substr(0, dot);
  const std::string_view frac = dot == std::string_view::npos ? "" : text.substr(dot + 1);
  if (whole.empty() && frac.empty()) return std::nullopt;
  const auto all_digits = [](std::string_view s) {
    return std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
  };
  if (!all_digits(whole) || !all_digits(frac) || whole.size() > 15) return std::nullopt;
  std::int64_t value = 0;
  for (char c : whole) value = value * 10 + (c - '0');
  for (int i = 0; i < exponent; ++i) {
    value = value * 10 + (static_cast<std::size_t>(i) < frac.size() ? frac[i] - '0' : 0);
  }
  if (frac.size() > static_cast<std::size_t>(exponent) && frac[exponent] >= '5') ++value;
  return value;
}

}  // namespace

const Json* Find(const Json& obj, std::string_view key) {
  if (!obj.is_object()) return nullptr;
  auto it = obj.find(key);
  return it == obj.end() ? nullptr : &*it;
}

const Json* FindObject(const Json& obj, std::string_view key) {
  const Json* v = Find(obj, key);
  return v != nullptr && v->is_object() ? v : nullptr;
}

const Json* FindArray(const Json& obj, std::string_view key) {
  const Json* v = Find(obj, key);
  return v != nullptr && v->is_array() ? v : nullptr;
}

std::optional<std::string> String(const Json& obj, std::string_view key) {
  const Json* v = Find(obj, key);
  if (v == nullptr || !v->is_string()) return std::nullopt;
  return CleanText(v->get<std::string>());
}

std::optional<std::string> Id(const Json& obj, std::string_view key) {
  const Json* v = Find(obj, key);
  if (v == nullptr) return std::nullopt;
  if (v->is_string() && !v->get_ref<const std::string&>().empty()) {
    return CleanText(v->get<std::string>());
  }
  if (v->is_number_unsigned()) return std::to_string(v->get<std::uint64_t>());
  return std::nullopt;
}

std::optional<std::int64_t> TimeMs(const Json& obj, std::string_view key) {
  const Json* v = Find(obj, key);
  return v != nullptr ? ProviderTimeMs(*v) : std::nullopt;
}

bool IsTrue(const Json& obj, std::string_view key) {
  const Json* v = Find(obj, key);
  return v != nullptr && v->is_boolean() && v->get<bool>();
}

std::string CleanText(std::string text) {
  for (auto pos = text.find('\0'); pos != std::string::npos; pos = text.find('\0', pos)) {
    text.replace(pos, 1, kReplacementChar);
  }
  return text;
}

std::string CompactJson(const Json& value) {
  return Storable(value, 0).dump(-1, ' ', false, Json::error_handler_t::replace);
}

std::optional<std::int64_t> Count(const Json& value) {
  if (value.is_number_unsigned()) {
    const auto v = value.get<std::uint64_t>();
    if (v > static_cast<std::uint64_t>(kMaxExactInteger)) return std::nullopt;
    return static_cast<std::int64_t>(v);
  }
  if (value.is_number_integer()) {
    const auto v = value.get<std::int64_t>();
    if (v < 0 || v > kMaxExactInteger) return std::nullopt;
    return v;
  }
  if (value.is_number_float()) {
    const double v = value.get<double>();
    if (!std::isfinite(v) || v < 0 || v > static_cast<double>(kMaxExactInteger) || v != std::floor(v)) {
      return std::nullopt;
    }
    return static_cast<std::int64_t>(v);
  }
  if (value.is_string()) {
    const auto& s = value.get_ref<const std::string&>();
    std::int64_t v = 0;
    const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    if (ec != std::errc() || end != s.data() + s.size() || v < 0 || v > kMaxExactInteger) {
      return std::nullopt;
    }
    return v;
  }
  return std::nullopt;
}

std::optional<std::int64_t> MinorUnits(const Json& price, std::string_view currency) {
  const int exponent = CurrencyExponent(currency);
  if (price.is_number_unsigned() || price.is_number_integer()) {
    const auto whole = Count(price);
    if (!whole || *whole > kMaxExactInteger / 1000) return std::nullopt;
    std::int64_t v = *whole;
    for (int i = 0; i < exponent; ++i) v *= 10;
    return v;
  }
  if (price.is_number_float()) {
    const double v = price.get<double>();
    if (!std::isfinite(v) || v < 0 || v > 1e12) return std::nullopt;
    return static_cast<std::int64_t>(std::llround(v * std::pow(10.0, exponent)));
  }
  if (price.is_string()) return ScaleDecimal(price.get_ref<const std::string&>(), exponent);
  return std::nullopt;
}

void AddChannel(ParsedWebhook& out, const ChannelRef& ref) {
  if (std::find(out.channels.begin(), out.channels.end(), ref) == out.channels.end()) {
    out.channels.push_back(ref);
  }
}

}  // namespace parse

namespace {

Error ShapeError(std::string message) { return Error{"invalid_shape", std::move(message)}; }

std::string_view ExpectedObject(ChannelKind kind) {
  switch (kind) {
    case ChannelKind::kMessenger:
      return "page";
    case ChannelKind::kInstagram:
      return "instagram";
    case ChannelKind::kWhatsapp:
      return "whatsapp_business_account";
  }
  return "";
}

// The checks every kind shares (DESIGN.md, "Channel webhooks"): these make a
// body a 400 before its signature is even looked at.
std::optional<Error> CheckEnvelope(ChannelKind kind, const nlohmann::json& body) {
  if (!body.is_object()) return ShapeError("the body must be a JSON object");
  const std::string_view expected = ExpectedObject(kind);
  const auto object = parse::String(body, "object");
  if (!object || *object != expected) {
    return ShapeError("object must be \"" + std::string(expected) + "\" for " + std::string(ToString(kind)) +
                      " webhooks");
  }
  const nlohmann::json* entries = parse::FindArray(body, "entry");
  if (entries == nullptr) return ShapeError("entry must be an array");
  for (std::size_t i = 0; i < entries->size(); ++i) {
    const auto& entry = (*entries)[i];
    const std::string path = "entry[" + std::to_string(i) + "]";
    if (!entry.is_object()) return ShapeError(path + " must be an object");
    const nlohmann::json* id = parse::Find(entry, "id");
    if (id == nullptr || !id->is_string() || id->get_ref<const std::string&>().empty()) {
      return ShapeError(path + ".id must be a non-empty string");
    }
  }
  return std::nullopt;
}

}  // namespace

Result<ParsedWebhook> ParseWebhook(ChannelKind kind, const nlohmann::json& body) {
  try {
    if (auto error = CheckEnvelope(kind, body)) return *error;
    if (kind == ChannelKind::kWhatsapp) return parse::ParseWhatsapp(body);
    return parse::ParseMessengerPlatform(kind, body);
  } catch (const std::exception& e) {
    // Only allocation failure can get here: every read above is checked.
    return Error{"invalid_shape", std::string("cannot normalize the body: ") + e.what()};
  }
}

std::optional<std::int64_t> ProviderTimeMs(const nlohmann::json& value) {
  // Below 1e11 a number is seconds (1e11 s is the year 5138; 1e11 ms is 1973).
  constexpr std::int64_t kSecondsBelow = 100'000'000'000;
  constexpr std::int64_t kMaxMs = 253'402'300'799'999;  // 9999-12-31T23:59:59.999Z
  const auto from_integer = [&](std::int64_t v) -> std::optional<std::int64_t> {
    if (v < 0) return std::nullopt;
    if (v < kSecondsBelow) return v * 1000;
    if (v <= kMaxMs) return v;
    return std::nullopt;
  };
  const auto from_double = [&](double v) -> std::optional<std::int64_t> {
    if (!std::isfinite(v) || v < 0) return std::nullopt;
    if (v < static_cast<double>(kSecondsBelow)) return static_cast<std::int64_t>(v * 1000.0);
    if (v <= static_cast<double>(kMaxMs)) return static_cast<std::int64_t>(v);
    return std::nullopt;
  };
  if (value.is_number_unsigned()) {
    const auto v = value.get<std::uint64_t>();
    if (v > static_cast<std::uint64_t>(kMaxMs)) return std::nullopt;
    return from_integer(static_cast<std::int64_t>(v));
  }
  if (value.is_number_integer()) return from_integer(value.get<std::int64_t>());
  if (value.is_number_float()) return from_double(value.get<double>());
  if (!value.is_string()) return std::nullopt;

  const auto& s = value.get_ref<const std::string&>();
  if (s.empty() || s.size() > 32) return std::nullopt;
  const char* first = s.data();
  const char* last = s.data() + s.size();
  std::int64_t integer = 0;
  if (auto [end, ec] = std::from_chars(first, last, integer); ec == std::errc() && end == last) {
    return from_integer(integer);
  }
  // A decimal such as "1527459824.123"; no exponents, signs or "inf" words.
  const bool plain = std::all_of(first, last, [](char c) { return (c >= '0' && c <= '9') || c == '.'; });
  double real = 0;
  if (auto [end, ec] = std::from_chars(first, last, real, std::chars_format::fixed);
      plain && ec == std::errc() && end == last) {
    return from_double(real);
  }
  return std::nullopt;
}

}  // namespace sb::gateway
