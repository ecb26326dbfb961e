#include "sb/store/secret_repository.hpp"

#include "session.hpp"

namespace sb::store {

namespace {
constexpr int kBatch = 100;
}

ReencryptReport SecretRepository::ReencryptSync(
    unsigned char current, const std::function<std::optional<std::string>(const std::string&)>& reseal) {
  ReencryptReport report;
  std::int64_t after_business = 0, after_id = 0;
  for (;;) {
    int rows_seen = 0;
    db_.RunSync("secrets/reencrypt", [&](Session& s) {
      auto rows = s.Exec("secrets/stale", static_cast<int>(current), after_business, after_id, kBatch);
      rows_seen = static_cast<int>(rows.size());
      for (const auto& row : rows) {
        after_business = row[0].as<std::int64_t>();
        after_id = row[1].as<std::int64_t>();
        auto app_secret = reseal(row[2].as<std::string>());
        std::optional<std::string> access_token;
        bool readable = app_secret.has_value();
        if (!row[3].is_null()) {
          access_token = reseal(row[3].as<std::string>());
          readable = readable && access_token.has_value();
        }
        if (!readable) {
          ++report.unreadable;
          continue;
        }
        s.Exec("secrets/update", after_business, after_id, *app_secret, access_token.value_or(""));
        ++report.channels;
      }
    });
    if (rows_seen < kBatch) break;
  }
  return report;
}

}  // namespace sb::store
