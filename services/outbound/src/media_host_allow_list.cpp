#include "sb/outbound/media_host_allow_list.hpp"

#include <boost/url/parse.hpp>

#include <cctype>

namespace sb::outbound {

namespace {

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

std::string_view Trim(std::string_view s) {
  while (!s.empty() && s.front() == ' ') s.remove_prefix(1);
  while (!s.empty() && s.back() == ' ') s.remove_suffix(1);
  return s;
}

// Letters, digits, '-', '.', and ':' (IPv6); no empty label.
bool PlausibleHost(std::string_view h) {
  if (h.empty() || h.size() > 253 || h.front() == '.' || h.find("..") != std::string_view::npos) return false;
  for (unsigned char c : h) {
    if (!std::isalnum(c) && c != '-' && c != '.' && c != ':') return false;
  }
  return true;
}

}  // namespace

Result<MediaHostAllowList> MediaHostAllowList::Parse(std::string_view text) {
  auto bad = [&text](const std::string& why) {
    return Error{"invalid_media_hosts", "SWITCHBOARD_MEDIA_HOSTS '" + std::string(text) + "': " + why};
  };
  MediaHostAllowList list;
  if (Trim(text) == "none") return list;
  std::string_view rest = text;
  while (true) {
    auto comma = rest.find(',');
    std::string entry = Lower(Trim(rest.substr(0, comma)));
    if (!entry.empty() && entry.back() == '.') entry.pop_back();
    if (entry.size() > 2 && entry.front() == '[' && entry.back() == ']') entry = entry.substr(1, entry.size() - 2);
    if (entry.empty()) return bad("an entry is empty");
    if (entry.rfind("*.", 0) == 0) {
      std::string domain = entry.substr(2);
      if (!PlausibleHost(domain) || domain.find(':') != std::string::npos) {
        return bad("'" + entry + "' is not a domain wildcard");
      }
      list.suffixes_.push_back("." + domain);
    } else if (PlausibleHost(entry)) {
      list.exact_.push_back(entry);
    } else {
      return bad("'" + entry + "' is not a host name, address or *.<domain>");
    }
    if (comma == std::string_view::npos) break;
    rest.remove_prefix(comma + 1);
  }
  return list;
}

bool MediaHostAllowList::AllowsHost(std::string_view raw) const {
  std::string host = Lower(raw);
  if (!host.empty() && host.back() == '.') host.pop_back();
  if (!PlausibleHost(host)) return false;
  for (const auto& e : exact_) {
    if (host == e) return true;
  }
  for (const auto& s : suffixes_) {
    if (host.size() > s.size() && host.compare(host.size() - s.size(), s.size(), s) == 0) return true;
  }
  return false;
}

bool MediaHostAllowList::Allows(std::string_view url) const {
  auto parsed = boost::urls::parse_absolute_uri(url);
  if (!parsed) return false;
  const auto& u = *parsed;
  if (u.scheme_id() != boost::urls::scheme::https && u.scheme_id() != boost::urls::scheme::http) return false;
  if (u.has_userinfo()) return false;
  // Percent-encoded hosts are refused outright: what is matched here must be
  // what the client resolves.
  std::string_view encoded = u.encoded_host();
  if (encoded.find('%') != std::string_view::npos) return false;
  return AllowsHost(u.host_address());
}

}  // namespace sb::outbound
