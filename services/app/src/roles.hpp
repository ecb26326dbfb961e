#pragma once
// Which parts of Switchboard a process runs (`serve --roles`), so a
// deployment can scale webhook receivers apart from routers. Every role is
// safe in any number of copies.
#include <string>

namespace sb::app {

struct Roles {
  bool gateway = false;   // POST/GET /webhooks/{kind}, the group-commit writer
  bool router = false;    // routing, bots, assignment, the timers (under a lease)
  bool outbound = false;  // sending replies through the Graph API, keeping customers' attachments
  bool api = false;       // /v1 API, agent WebSocket stream and its LISTEN connection

  /// "all" or a comma-separated list of gateway, router, outbound, api.
  /// Throws std::invalid_argument naming the bad entry.
  static Roles Parse(const std::string& text);
  std::string ToString() const;
};

}  // namespace sb::app
