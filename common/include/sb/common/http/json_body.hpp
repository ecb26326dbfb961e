#pragma once
/// Validation of `/v1` request bodies and query strings. Every failure throws
/// HttpError 400 naming the field: `invalid_json`, `unknown_field`,
/// `missing_field`, `invalid_field`.
#include <nlohmann/json_fwd.hpp>

#include <cstdint>
#include <initializer_list>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "sb/common/http/message.hpp"

namespace sb::http {

class JsonBody {
 public:
  /// Parses the body as a JSON object whose keys are all in `allowed`.
  JsonBody(const Request& req, std::initializer_list<std::string_view> allowed);
  ~JsonBody();

  std::string RequiredString(std::string_view field, std::size_t max_len = 1000);
  std::optional<std::string> OptionalString(std::string_view field, std::size_t max_len = 1000);
  /// One of `choices`.
  std::string RequiredEnum(std::string_view field, std::initializer_list<std::string_view> choices);
  std::int64_t RequiredInt(std::string_view field, std::int64_t min, std::int64_t max);
  std::optional<std::int64_t> OptionalInt(std::string_view field, std::int64_t min, std::int64_t max);
  std::optional<bool> OptionalBool(std::string_view field);
  /// An array of positive integer ids (may be empty), at most `max_items`.
  std::vector<std::int64_t> RequiredIdArray(std::string_view field, std::size_t max_items = 1000);
  /// An array of non-empty strings, or empty when absent.
  std::vector<std::string> OptionalStringArray(std::string_view field, std::size_t max_items = 100,
                                               std::size_t max_len = 100);
  /// An ISO 4217 code: three upper-case letters.
  std::string RequiredCurrency(std::string_view field);
  bool Has(std::string_view field) const;
  const nlohmann::json& json() const;

 private:
  std::unique_ptr<nlohmann::json> body_;
};

/// True when `s` holds a control character other than tab, CR and LF: they
/// have no business in names and ids, and NUL cannot be stored at all.
bool HasControlCharacters(std::string_view s);

/// `?name=` as an integer in [min, max], or nullopt when absent.
std::optional<std::int64_t> QueryInt(const Request& req, std::string_view name, std::int64_t min, std::int64_t max);
/// A path parameter that must be a positive id; anything else is 404 (it
/// names nothing).
std::int64_t PathId(const Request& req, std::string_view name);

}  // namespace sb::http
