#include "api_client.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/url/encode.hpp>
#include <boost/url/rfc/unreserved_chars.hpp>

#include <algorithm>
#include <exception>
#include <optional>

#include "target_url.hpp"

namespace sb::sbctl {

namespace asio = boost::asio;

ApiClient::ApiClient(const std::string& base_url, std::string token, std::chrono::milliseconds timeout)
    : token_(std::move(token)), timeout_(timeout) {
  std::string error;
  auto url = client::ParseTargetUrl(base_url, error);
  if (!url) throw CommandError("invalid server URL '" + base_url + "': " + error);
  host_header_ = url->host_header;
  prefix_ = url->target;
  while (!prefix_.empty() && prefix_.back() == '/') prefix_.pop_back();
  asio::ip::tcp::resolver resolver(io_);
  boost::system::error_code ec;
  endpoints_ = resolver.resolve(url->host, url->port, ec);
  if (ec || endpoints_.empty()) throw CommandError("cannot resolve " + url->host + ": " + ec.message());
  connection_ =
      std::make_unique<client::ApiConnection>(io_.get_executor(), endpoints_.begin()->endpoint(), host_header_, token_);
}

ApiClient::~ApiClient() = default;

ApiAnswer ApiClient::Call(const std::string& method, const std::string& path, const std::string& body,
                          const client::Header& extra_header) {
  std::optional<client::PostResult> result;
  std::exception_ptr failure;
  const auto deadline = std::chrono::steady_clock::now() + timeout_;
  const std::string target = prefix_ + path;
  io_.restart();
  asio::co_spawn(io_, connection_->Send(method, target, body, deadline, extra_header),
                 [&](std::exception_ptr e, client::PostResult r) {
                   failure = e;
                   if (!e) result = std::move(r);
                 });
  io_.run();
  if (failure) std::rethrow_exception(failure);
  if (!result || result->status == 0) {
    std::string why = result ? (result->timed_out ? "no answer in time" : result->error) : "no answer";
    throw CommandError(method + " " + path + ": cannot reach " + host_header_ + ": " + why);
  }
  if (result->content_type.find("json") == std::string::npos)
    return ApiAnswer{result->status, std::move(result->body), nullptr};
  return MakeAnswer(result->status, std::move(result->body));
}

nlohmann::json ApiClient::Expect(const std::string& method, const std::string& path, const nlohmann::json& body,
                                 std::vector<int> ok) {
  auto answer = Call(method, path, body.is_null() ? std::string() : body.dump());
  if (std::find(ok.begin(), ok.end(), answer.status) == ok.end()) {
    throw CommandError(DescribeFailure(method + " " + path, answer));
  }
  return answer.json;
}

ApiAnswer MakeAnswer(int status, std::string body) {
  ApiAnswer answer;
  answer.status = status;
  answer.body = std::move(body);
  answer.json = nlohmann::json::parse(answer.body, nullptr, false);
  if (answer.json.is_discarded()) answer.json = nullptr;
  return answer;
}

std::string DescribeFailure(const std::string& what, const ApiAnswer& answer) {
  std::string out = what + ": HTTP " + std::to_string(answer.status);
  const auto& j = answer.json;
  if (j.is_object() && j.contains("error") && j["error"].is_object()) {
    const auto& e = j["error"];
    if (e.contains("code") && e["code"].is_string()) out += " " + e["code"].get<std::string>();
    if (e.contains("message") && e["message"].is_string()) out += ": " + e["message"].get<std::string>();
  } else if (!answer.body.empty()) {
    out += ": " + answer.body.substr(0, 300);
  }
  return out;
}

std::string UrlEncode(const std::string& s) { return boost::urls::encode(s, boost::urls::unreserved_chars); }

}  // namespace sb::sbctl
