#pragma once
// A transaction on a pooled connection, with the named-statement helpers the
// repositories use. The only place above libpqxx itself that sees its types.
#include <pqxx/pqxx>

#include <string>
#include <string_view>

namespace sb::store {

/// The text of a named statement (`queries/<group>/<name>.sql`, named
/// "<group>/<name>"); aborts on an unknown name (a build error, really).
const std::string& Sql(std::string_view name);

class Session {
 public:
  explicit Session(pqxx::work& tx) : tx_(tx) {}

  template <class... Args>
  pqxx::result Exec(std::string_view name, Args&&... args) {
    return tx_.exec_params(Sql(name), std::forward<Args>(args)...);
  }
  pqxx::work& tx() { return tx_; }

 private:
  pqxx::work& tx_;
};

}  // namespace sb::store
