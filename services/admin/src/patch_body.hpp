#pragma once
// PATCH bodies: an absent field keeps its value, a value replaces it
// (validated as the create route validates it), and null clears a nullable
// field; null for any other field is 400 `invalid_field`.
#include <nlohmann/json.hpp>

#include <initializer_list>
#include <string>
#include <string_view>

#include "sb/common/http/json_body.hpp"
#include "sb/common/http/message.hpp"

namespace sb::admin {

class PatchBody {
 public:
  PatchBody(const http::Request& req, std::initializer_list<std::string_view> allowed) : body_(req, allowed) {}

  http::JsonBody& body() { return body_; }
  /// The fields given, validated, as the patch statement takes them.
  nlohmann::json& out() { return out_; }

  void String(std::string_view field, std::size_t max_len, bool nullable = false) {
    if (Present(field, nullable)) out_[std::string(field)] = *body_.OptionalString(field, max_len);
  }
  void Int(std::string_view field, std::int64_t min, std::int64_t max, bool nullable = false) {
    if (Present(field, nullable)) out_[std::string(field)] = *body_.OptionalInt(field, min, max);
  }
  void Bool(std::string_view field) {
    if (Present(field, false)) out_[std::string(field)] = *body_.OptionalBool(field);
  }
  void Enum(std::string_view field, std::initializer_list<std::string_view> choices) {
    if (Present(field, false)) out_[std::string(field)] = body_.RequiredEnum(field, choices);
  }
  void Currency(std::string_view field) {
    if (Present(field, false)) out_[std::string(field)] = body_.RequiredCurrency(field);
  }

 private:
  // True when the field has a value to validate; records null for nullable.
  bool Present(std::string_view field, bool nullable) {
    const auto& j = body_.json();
    auto it = j.find(field);
    if (it == j.end()) return false;
    if (!it->is_null()) return true;
    if (!nullable) {
      throw http::HttpError(400, "invalid_field", "'" + std::string(field) + "' cannot be null");
    }
    out_[std::string(field)] = nullptr;
    return false;
  }

  http::JsonBody body_;
  nlohmann::json out_ = nlohmann::json::object();
};

}  // namespace sb::admin
