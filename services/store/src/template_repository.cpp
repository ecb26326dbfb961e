#include "sb/store/template_repository.hpp"

#include <nlohmann/json.hpp>

#include "session.hpp"

namespace sb::store {

boost::asio::awaitable<std::string> TemplateRepository::Put(std::int64_t business, const TemplateDefinition& t) {
  std::string out;
  std::string examples = nlohmann::json(t.body_examples).dump();
  co_await db_.Run("templates/put", [&](Session& s) {
    out = s.Exec("templates/put", std::to_string(business), t.name, t.language, t.category,
                 std::to_string(t.body_parameter_count), examples)[0][0]
              .as<std::string>();
  });
  co_return out;
}

boost::asio::awaitable<std::optional<int>> TemplateRepository::ParameterCount(std::int64_t business,
                                                                              const std::string& name,
                                                                              const std::string& language) {
  std::optional<int> out;
  co_await db_.Run("templates/parameter_count", [&](Session& s) {
    auto rows = s.Exec("templates/parameter_count", std::to_string(business), name, language);
    if (!rows.empty()) out = rows[0][0].as<int>();
  });
  co_return out;
}

}  // namespace sb::store
