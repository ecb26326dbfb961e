#pragma once
/// WhatsApp message templates a business registered (PUT /v1/templates/{name}),
/// and what a template send checks against. Scoped by business; thread-safe.
#include <boost/asio/awaitable.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "sb/store/database.hpp"

namespace sb::store {

struct TemplateDefinition {
  std::string name, language, category;
  int body_parameter_count = 0;
  std::vector<std::string> body_examples;
};

class TemplateRepository {
 public:
  explicit TemplateRepository(Database& db) : db_(db) {}
  /// Creates or replaces; returns the template as JSON.
  boost::asio::awaitable<std::string> Put(std::int64_t business, const TemplateDefinition& t);
  /// The body parameter count, nullopt when the business has no such
  /// template in that language.
  boost::asio::awaitable<std::optional<int>> ParameterCount(std::int64_t business, const std::string& name,
                                                            const std::string& language);

 private:
  Database& db_;
};

}  // namespace sb::store
