#include "sb/admin/erasure_api.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <vector>

#include "sb/admin/audit_api.hpp"
#include "sb/common/http/json_body.hpp"

namespace sb::admin {

namespace {

// base64url (padding optional); nullopt on any other character.
std::optional<std::string> Base64UrlDecode(std::string_view in) {
  while (!in.empty() && in.back() == '=') in.remove_suffix(1);
  std::string out;
  out.reserve(in.size() * 3 / 4);
  std::uint32_t acc = 0;
  int bits = 0;
  for (char c : in) {
    int v;
    if (c >= 'A' && c <= 'Z') {
      v = c - 'A';
    } else if (c >= 'a' && c <= 'z') {
      v = c - 'a' + 26;
    } else if (c >= '0' && c <= '9') {
      v = c - '0' + 52;
    } else if (c == '-' || c == '+') {
      v = 62;
    } else if (c == '_' || c == '/') {
      v = 63;
    } else {
      return std::nullopt;
    }
    acc = (acc << 6) | static_cast<std::uint32_t>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(static_cast<char>((acc >> bits) & 0xff));
    }
  }
  if (bits >= 6) return std::nullopt;  // a dangling character
  return out;
}

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// One field of an application/x-www-form-urlencoded body.
std::optional<std::string> FormField(std::string_view body, std::string_view name) {
  while (!body.empty()) {
    auto amp = body.find('&');
    auto pair = body.substr(0, amp);
    body = amp == std::string_view::npos ? std::string_view() : body.substr(amp + 1);
    auto eq = pair.find('=');
    if (eq == std::string_view::npos || pair.substr(0, eq) != name) continue;
    std::string out;
    auto raw = pair.substr(eq + 1);
    for (std::size_t i = 0; i < raw.size(); ++i) {
      if (raw[i] == '+') {
        out.push_back(' ');
      } else if (raw[i] == '%' && i + 2 < raw.size() && HexValue(raw[i + 1]) >= 0 && HexValue(raw[i + 2]) >= 0) {
        out.push_back(static_cast<char>(HexValue(raw[i + 1]) * 16 + HexValue(raw[i + 2])));
        i += 2;
      } else {
        out.push_back(raw[i]);
      }
    }
    return out;
  }
  return std::nullopt;
}

http::HttpError BadRequest(std::string message) { return http::HttpError(400, "invalid_signed_request", message); }

// A signed request taken apart once; nothing in it counts until SignedWith.
struct SignedRequest {
  std::optional<std::string> signature;
  std::string_view encoded_payload;
  std::optional<std::string> payload;
};

std::optional<SignedRequest> Split(std::string_view signed_request) {
  auto dot = signed_request.find('.');
  if (dot == std::string_view::npos) return std::nullopt;
  auto encoded_payload = signed_request.substr(dot + 1);
  return SignedRequest{Base64UrlDecode(signed_request.substr(0, dot)), encoded_payload,
                       Base64UrlDecode(encoded_payload)};
}

bool SignedWith(const SignedRequest& request, std::string_view app_secret) {
  if (!request.signature || request.signature->size() != 32) return false;
  // Meta signs the payload as sent (its base64url text).
  auto expected = crypto::HexDecode(crypto::HmacSha256Hex(app_secret, request.encoded_payload));
  return expected && crypto::ConstantTimeEqual(*expected, *request.signature);
}

bool NamesHmacSha256(const nlohmann::json& claims) {
  return claims.is_object() && claims.value("algorithm", "") == "HMAC-SHA256";
}

}  // namespace

std::optional<std::string> VerifySignedRequest(std::string_view signed_request, std::string_view app_secret) {
  auto request = Split(signed_request);
  if (!request || !SignedWith(*request, app_secret) || !request->payload) return std::nullopt;
  if (!NamesHmacSha256(nlohmann::json::parse(*request->payload, nullptr, false))) return std::nullopt;
  return request->payload;
}

ErasureApi::ErasureApi(Authenticator& auth, store::LifecycleRepository& lifecycle, const crypto::SecretBox& secrets,
                       std::string public_url)
    : auth_(auth), lifecycle_(lifecycle), secrets_(secrets), public_url_(std::move(public_url)) {}

boost::asio::awaitable<http::Response> ErasureApi::DeleteContact(http::Request& req) {
  Principal who = co_await auth_.RequireBusiness(req);
  auto id = http::PathId(req, "id");
  // Who asked goes to the audit log with what was erased (counts only).
  auto audit = AuditEntryFor(who, req, "erase", "contact", nlohmann::json::object());
  audit.resource_id = std::to_string(id);
  auto counts = co_await lifecycle_.EraseContact(who.business_id, id, audit);
  if (!counts) throw http::HttpError(404, "not_found", "no such contact (or it was erased already)");
  nlohmann::json out = {{"contact_id", id}, {"status", "erased"}, {"erased", nlohmann::json::parse(*counts)}};
  co_return http::Response::Json(200, out);
}

boost::asio::awaitable<http::Response> ErasureApi::MetaDataDeletion(http::Request& req) {
  auto signed_request = FormField(req.body, "signed_request");
  if (!signed_request) {
    // Meta posts a form; a JSON body {"signed_request": "..."} is read too.
    auto json = nlohmann::json::parse(req.body, nullptr, false);
    if (json.is_object() && json.contains("signed_request") && json["signed_request"].is_string()) {
      signed_request = json["signed_request"].get<std::string>();
    }
  }
  if (!signed_request || signed_request->empty() || signed_request->size() > 8192) {
    throw BadRequest("the body must be a form with a signed_request field");
  }
  auto request = Split(*signed_request);
  auto claims =
      request && request->payload ? nlohmann::json::parse(*request->payload, nullptr, false) : nlohmann::json();
  if (!claims.is_object() || !claims.contains("user_id") ||
      !(claims["user_id"].is_string() || claims["user_id"].is_number_unsigned())) {
    throw BadRequest("signed_request must carry a base64url JSON payload with user_id");
  }
  std::string user_id = claims["user_id"].is_string() ? claims["user_id"].get<std::string>() : claims["user_id"].dump();
  if (user_id.empty() || user_id.size() > 128) throw BadRequest("user_id must be 1 to 128 characters");
  auto unverified = [] {
    return http::HttpError(401, "invalid_signature",
                           "signed_request does not verify with the app secret of any channel");
  };
  if (!NamesHmacSha256(claims)) throw unverified();  // before any database work

  // The request counts only when signed with the app secret of a channel;
  // the contacts erased are those of that id on channels whose secret verifies.
  auto candidates = co_await lifecycle_.DeletionCandidates(user_id);
  std::vector<store::ContactErasure> erase;
  bool verified = false;
  std::vector<std::pair<std::string, bool>> checked;  // sealed secrets differ per channel; verify each plain one once
  for (const auto& c : candidates) {
    auto secret = secrets_.OpenHex(c.app_secret_enc_hex);
    if (!secret) continue;
    auto it = std::find_if(checked.begin(), checked.end(), [&](const auto& p) { return p.first == *secret; });
    bool ok = it != checked.end() ? it->second : checked.emplace_back(*secret, SignedWith(*request, *secret)).second;
    if (!ok) continue;
    verified = true;
    for (auto contact : c.contact_ids) erase.push_back(store::ContactErasure{c.business_id, contact});
  }
  if (!verified) throw unverified();
  std::string code = crypto::RandomToken("del_");
  co_await lifecycle_.EraseForDataDeletion(erase, code);
  nlohmann::json out = {{"url", public_url_ + "/meta/data-deletion/" + code}, {"confirmation_code", code}};
  co_return http::Response::Json(200, out);
}

boost::asio::awaitable<http::Response> ErasureApi::DataDeletionStatus(http::Request& req) {
  std::string code(req.Param("code"));
  if (code.empty() || code.size() > 100) throw http::HttpError(404, "not_found", "no such data-deletion request");
  auto found = co_await lifecycle_.DataDeletionStatus(code);
  if (!found) throw http::HttpError(404, "not_found", "no such data-deletion request");
  auto out = nlohmann::json::parse(*found);
  out["message"] = "Every message, name and identifier this service held for you was erased on " +
                   out.value("completed_at", std::string()) +
                   ". Conversation times and outcomes are kept without anything that identifies you.";
  co_return http::Response::Json(200, out);
}

}  // namespace sb::admin
