#pragma once
/// The hosts attachment files may be fetched from (SWITCHBOARD_MEDIA_HOSTS).
/// Attachment URLs come in webhook bodies, which carry what customers send:
/// only an http(s) URL whose host is on the list is ever requested.
/// Immutable after Parse; thread-safe.
#include <string>
#include <string_view>
#include <vector>

#include "sb/common/result.hpp"

namespace sb::outbound {

class MediaHostAllowList {
 public:
  /// Meta's CDNs: Messenger images and video (fbcdn.net), Messenger files
  /// and Instagram media (fbsbx.com, cdninstagram.com).
  static constexpr std::string_view kDefault = "*.fbcdn.net,*.fbsbx.com,*.cdninstagram.com";

  /// Comma-separated entries, case-insensitive: a host name or address
  /// that must match exactly ("127.0.0.1", "cdn.example.com"), or
  /// "*.<domain>": any name below the domain (not the domain itself).
  /// "none" allows nothing. Fails with code `invalid_media_hosts` for an
  /// empty list or entry, a bare "*", or characters no host has.
  static Result<MediaHostAllowList> Parse(std::string_view text);

  /// True when `url` is an absolute http or https URL without user info
  /// whose host is on the list (any port).
  bool Allows(std::string_view url) const;

  /// True when `host` (a name or address, IPv6 without brackets) is on the list.
  bool AllowsHost(std::string_view host) const;

 private:
  std::vector<std::string> exact_;     // lower-case hosts
  std::vector<std::string> suffixes_;  // ".domain", lower-case
};

}  // namespace sb::outbound
