#pragma once
/// Erasure of a customer's personal data: DELETE /v1/contacts/{id} (business
/// key), Meta's data-deletion callback for Messenger and Instagram users
/// (POST /meta/data-deletion, a `signed_request` form field: base64url
/// HMAC-SHA256 signature, a dot, base64url JSON payload, signed with the
/// app secret) and its status page (GET /meta/data-deletion/{code}).
/// Both erase through the same operation (sb_erase_contact).
#include <boost/asio/awaitable.hpp>

#include <optional>
#include <string>
#include <string_view>

#include "sb/admin/authenticator.hpp"
#include "sb/common/crypto.hpp"
#include "sb/common/http/message.hpp"
#include "sb/store/lifecycle_repository.hpp"

namespace sb::admin {

/// The payload of a Meta signed request, when `signed_request` verifies
/// with `app_secret` and names algorithm HMAC-SHA256.
std::optional<std::string> VerifySignedRequest(std::string_view signed_request, std::string_view app_secret);

class ErasureApi {
 public:
  /// `public_url` is the base of the status URL handed to Meta.
  ErasureApi(Authenticator& auth, store::LifecycleRepository& lifecycle, const crypto::SecretBox& secrets,
             std::string public_url);

  boost::asio::awaitable<http::Response> DeleteContact(http::Request& req);
  boost::asio::awaitable<http::Response> MetaDataDeletion(http::Request& req);
  boost::asio::awaitable<http::Response> DataDeletionStatus(http::Request& req);

 private:
  Authenticator& auth_;
  store::LifecycleRepository& lifecycle_;
  const crypto::SecretBox& secrets_;
  std::string public_url_;
};

}  // namespace sb::admin
