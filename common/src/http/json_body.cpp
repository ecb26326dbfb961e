#include "sb/common/http/json_body.hpp"

#include <nlohmann/json.hpp>

#include <charconv>

#include "sb/common/json/limited_parse.hpp"

namespace sb::http {
namespace {

HttpError Invalid(std::string_view field, const std::string& what) {
  return HttpError(400, "invalid_field", "'" + std::string(field) + "' " + what);
}

std::optional<std::int64_t> ParseInt(std::string_view text) {
  std::int64_t v = 0;
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc() || ptr != text.data() + text.size()) return std::nullopt;
  return v;
}

}  // namespace

bool HasControlCharacters(std::string_view s) {
  return std::any_of(s.begin(), s.end(), [](char c) {
    auto u = static_cast<unsigned char>(c);
    return u < 0x20 && c != '\t' && c != '\n' && c != '\r';
  });
}

JsonBody::JsonBody(const Request& req, std::initializer_list<std::string_view> allowed) {
  auto parsed = json::ParseLimited(req.body);
  if (!parsed) throw HttpError(400, parsed.error().code, "request body: " + parsed.error().message);
  if (!parsed.value().is_object()) throw HttpError(400, "invalid_json", "request body must be a JSON object");
  body_ = std::make_unique<nlohmann::json>(std::move(parsed).value());
  for (const auto& [key, value] : body_->items()) {
    if (std::find(allowed.begin(), allowed.end(), key) == allowed.end()) {
      std::string list;
      for (auto a : allowed) list += (list.empty() ? "" : ", ") + std::string(a);
      throw HttpError(400, "unknown_field", "unknown field '" + key + "'; allowed: " + list);
    }
  }
}

JsonBody::~JsonBody() = default;

const nlohmann::json& JsonBody::json() const { return *body_; }

bool JsonBody::Has(std::string_view field) const {
  auto it = body_->find(field);
  return it != body_->end() && !it->is_null();
}

std::optional<std::string> JsonBody::OptionalString(std::string_view field, std::size_t max_len) {
  auto it = body_->find(field);
  if (it == body_->end() || it->is_null()) return std::nullopt;
  if (!it->is_string()) throw Invalid(field, "must be a string");
  auto s = it->get<std::string>();
  if (s.empty()) throw Invalid(field, "must not be empty");
  if (s.size() > max_len) throw Invalid(field, "must be at most " + std::to_string(max_len) + " bytes");
  if (HasControlCharacters(s)) throw Invalid(field, "must not contain control characters");
  return s;
}

std::string JsonBody::RequiredString(std::string_view field, std::size_t max_len) {
  auto s = OptionalString(field, max_len);
  if (!s) throw HttpError(400, "missing_field", "'" + std::string(field) + "' is required");
  return *s;
}

std::string JsonBody::RequiredEnum(std::string_view field, std::initializer_list<std::string_view> choices) {
  auto s = RequiredString(field, 100);
  if (std::find(choices.begin(), choices.end(), s) == choices.end()) {
    std::string list;
    for (auto c : choices) list += (list.empty() ? "" : ", ") + std::string(c);
    throw Invalid(field, "must be one of: " + list);
  }
  return s;
}

std::optional<std::int64_t> JsonBody::OptionalInt(std::string_view field, std::int64_t min, std::int64_t max) {
  auto it = body_->find(field);
  if (it == body_->end() || it->is_null()) return std::nullopt;
  std::int64_t v = 0;
  if (it->is_number_unsigned()) {
    auto u = it->get<std::uint64_t>();
    // Compare before converting: a value past INT64_MAX (or any when max is
    // negative) must not wrap around into the range.
    if (max < 0 || u > static_cast<std::uint64_t>(max)) {
      throw Invalid(field, "must be from " + std::to_string(min) + " to " + std::to_string(max));
    }
    v = static_cast<std::int64_t>(u);
  } else if (it->is_number_integer()) {
    v = it->get<std::int64_t>();
  } else {
    throw Invalid(field, "must be an integer");
  }
  if (v < min || v > max) {
    throw Invalid(field, "must be from " + std::to_string(min) + " to " + std::to_string(max));
  }
  return v;
}

std::int64_t JsonBody::RequiredInt(std::string_view field, std::int64_t min, std::int64_t max) {
  auto v = OptionalInt(field, min, max);
  if (!v) throw HttpError(400, "missing_field", "'" + std::string(field) + "' is required");
  return *v;
}

std::optional<bool> JsonBody::OptionalBool(std::string_view field) {
  auto it = body_->find(field);
  if (it == body_->end() || it->is_null()) return std::nullopt;
  if (!it->is_boolean()) throw Invalid(field, "must be true or false");
  return it->get<bool>();
}

std::vector<std::int64_t> JsonBody::RequiredIdArray(std::string_view field, std::size_t max_items) {
  auto it = body_->find(field);
  if (it == body_->end() || it->is_null()) {
    throw HttpError(400, "missing_field", "'" + std::string(field) + "' is required");
  }
  if (!it->is_array()) throw Invalid(field, "must be an array of ids");
  if (it->size() > max_items) throw Invalid(field, "must have at most " + std::to_string(max_items) + " items");
  std::vector<std::int64_t> out;
  for (std::size_t i = 0; i < it->size(); ++i) {
    const auto& v = (*it)[i];
    std::string path = std::string(field) + "[" + std::to_string(i) + "]";
    if (!v.is_number_integer() ||
        (v.is_number_unsigned() ? v.get<std::uint64_t>() > INT64_MAX : v.get<std::int64_t>() <= 0)) {
      throw Invalid(path, "must be a positive integer id");
    }
    out.push_back(v.get<std::int64_t>());
  }
  return out;
}

std::vector<std::string> JsonBody::OptionalStringArray(std::string_view field, std::size_t max_items,
                                                       std::size_t max_len) {
  auto it = body_->find(field);
  if (it == body_->end() || it->is_null()) return {};
  if (!it->is_array()) throw Invalid(field, "must be an array of strings");
  if (it->size() > max_items) throw Invalid(field, "must have at most " + std::to_string(max_items) + " items");
  std::vector<std::string> out;
  for (std::size_t i = 0; i < it->size(); ++i) {
    const auto& v = (*it)[i];
    std::string path = std::string(field) + "[" + std::to_string(i) + "]";
    if (!v.is_string() || v.get<std::string>().empty()) throw Invalid(path, "must be a non-empty string");
    if (v.get<std::string>().size() > max_len)
      throw Invalid(path, "must be at most " + std::to_string(max_len) + " bytes");
    if (HasControlCharacters(v.get<std::string>())) throw Invalid(path, "must not contain control characters");
    out.push_back(v.get<std::string>());
  }
  return out;
}

std::string JsonBody::RequiredCurrency(std::string_view field) {
  auto code = RequiredString(field, 3);
  if (code.size() != 3 || !std::all_of(code.begin(), code.end(), [](char c) { return c >= 'A' && c <= 'Z'; })) {
    throw Invalid(field, "must be an ISO 4217 code such as USD");
  }
  return code;
}

std::optional<std::int64_t> QueryInt(const Request& req, std::string_view name, std::int64_t min, std::int64_t max) {
  auto text = req.Query(name);
  if (!text || text->empty()) return std::nullopt;
  auto v = ParseInt(*text);
  if (!v || *v < min || *v > max) {
    throw HttpError(400, "invalid_field",
                    "query parameter '" + std::string(name) + "' must be a whole number from " + std::to_string(min) +
                        " to " + std::to_string(max));
  }
  return v;
}

std::int64_t PathId(const Request& req, std::string_view name) {
  auto v = ParseInt(req.Param(name));
  if (!v || *v <= 0) throw HttpError(404, "not_found", "no such " + std::string(name));
  return *v;
}

}  // namespace sb::http
