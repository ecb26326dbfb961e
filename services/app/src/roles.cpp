#include "roles.hpp"

#include <stdexcept>
#include <string_view>

namespace sb::app {

Roles Roles::Parse(const std::string& text) {
  Roles r;
  if (text == "all") return Roles{true, true, true, true};
  std::string_view rest(text);
  while (true) {
    auto comma = rest.find(',');
    std::string_view name = rest.substr(0, comma);
    while (!name.empty() && name.front() == ' ') name.remove_prefix(1);
    while (!name.empty() && name.back() == ' ') name.remove_suffix(1);
    if (name == "gateway") {
      r.gateway = true;
    } else if (name == "router") {
      r.router = true;
    } else if (name == "outbound") {
      r.outbound = true;
    } else if (name == "api") {
      r.api = true;
    } else {
      throw std::invalid_argument("unknown role '" + std::string(name) +
                                  "' in --roles / SWITCHBOARD_ROLES (expected 'all' or a comma-separated list of "
                                  "gateway, router, outbound, api)");
    }
    if (comma == std::string_view::npos) break;
    rest.remove_prefix(comma + 1);
  }
  return r;
}

std::string Roles::ToString() const {
  std::string out;
  auto add = [&out](bool on, const char* name) {
    if (!on) return;
    if (!out.empty()) out += ',';
    out += name;
  };
  add(gateway, "gateway");
  add(router, "router");
  add(outbound, "outbound");
  add(api, "api");
  return out;
}

}  // namespace sb::app
