#include "sb/admin/template_api.hpp"

#include <re2/re2.h>
#include <nlohmann/json.hpp>

#include "sb/common/http/json_body.hpp"

namespace sb::admin {

namespace {
// Meta's template names: lower-case letters, digits and underscores.
const RE2& NamePattern() {
  static const RE2 kName("[a-z0-9_]{1,512}");
  return kName;
}
// Language codes as Meta lists them: "en", "en_US", "pt_BR", "zh_CN", "es_MX".
const RE2& LanguagePattern() {
  static const RE2 kLanguage("[a-z]{2,3}(_[A-Za-z]{2,4})?");
  return kLanguage;
}
}  // namespace

boost::asio::awaitable<http::Response> TemplateApi::Put(http::Request& req) {
  Principal who = co_await auth_.RequireBusiness(req);
  std::string name(req.Param("name"));
  if (!RE2::FullMatch(name, NamePattern())) {
    throw http::HttpError(400, "invalid_field",
                          "the template name must be 1 to 512 lower-case letters, digits or underscores");
  }
  http::JsonBody body(req, {"language", "category", "body_parameter_count", "body_examples"});
  store::TemplateDefinition t;
  t.name = name;
  t.language = body.RequiredString("language", 20);
  if (!RE2::FullMatch(t.language, LanguagePattern())) {
    throw http::HttpError(400, "invalid_field", "'language' must be a language code such as 'en' or 'en_US'");
  }
  t.category = body.RequiredEnum("category", {"marketing", "utility", "authentication"});
  t.body_examples = body.OptionalStringArray("body_examples", 100, 1024);
  auto count = body.OptionalInt("body_parameter_count", 0, 100);
  if (!count && !body.Has("body_examples")) {
    throw http::HttpError(400, "missing_field", "give 'body_parameter_count' or 'body_examples' (one per parameter)");
  }
  t.body_parameter_count = count ? static_cast<int>(*count) : static_cast<int>(t.body_examples.size());
  if (body.Has("body_examples") && static_cast<int>(t.body_examples.size()) != t.body_parameter_count) {
    throw http::HttpError(
        400, "invalid_field",
        "'body_examples' must have one example per body parameter (" + std::to_string(t.body_parameter_count) + ")");
  }
  http::Response res;
  res.body = co_await templates_.Put(who.business_id, t);
  co_return res;
}

}  // namespace sb::admin
