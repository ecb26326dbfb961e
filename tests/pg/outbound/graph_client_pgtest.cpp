// GraphClient against the fake Graph API (no database needed): keep-alive
// reuse, reconnecting after the server closed, timeouts, refused connections.
#include "sb/outbound/graph_client.hpp"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <filesystem>
#include <tuple>

#include "fake_graph_process.hpp"

namespace sb::pgtest {
namespace {

using namespace std::chrono_literals;
using nlohmann::json;
using outbound::GraphAnswer;
using outbound::GraphClient;

class GraphClientTest : public ::testing::Test {
 protected:
  /// Runs the posts one after another on one client; returns the answers.
  std::vector<GraphAnswer> PostAll(int n, std::chrono::milliseconds timeout = 2s, const std::string& base = "") {
    boost::asio::io_context io;
    std::vector<GraphAnswer> answers;
    GraphClient client(io.get_executor(), base.empty() ? fake_.BaseUrl() : base, timeout, nullptr);
    boost::asio::co_spawn(
        io,
        [&]() -> boost::asio::awaitable<void> {
          for (int i = 0; i < n; ++i) {
            // Named arguments: GCC 12 mishandles temporaries in co_await expressions.
            std::string target = client.BasePath() + "/1065/messages";
            std::string body = R"({"to":"1555","n":)" + std::to_string(i) + "}";
            std::string token = "tok-" + std::to_string(i);
            answers.push_back(co_await client.Post(target, body, token));
          }
        },
        boost::asio::detached);
    io.run();
    return answers;
  }

  FakeGraph fake_;
};

TEST_F(GraphClientTest, PostsJsonWithBearerTokenOverOneKeptAliveConnection) {
  auto answers = PostAll(3);
  ASSERT_EQ(answers.size(), 3u);
  for (const auto& a : answers) {
    EXPECT_EQ(a.status, 200) << a.error;
    EXPECT_NE(a.body.find("wamid.fake."), std::string::npos) << a.body;
  }
  auto requests = fake_.Requests();
  ASSERT_EQ(requests.size(), 3u);
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(requests[i]["path"], "/v21.0/1065/messages");
    EXPECT_EQ(requests[i]["headers"]["Authorization"], "Bearer tok-" + std::to_string(i));
    EXPECT_EQ(requests[i]["headers"]["Content-Type"], "application/json");
    EXPECT_EQ(requests[i]["headers"]["Host"], "127.0.0.1:" + std::to_string(fake_.port()));
    EXPECT_EQ(requests[i]["body"]["n"], i);
  }
  EXPECT_EQ(requests[0]["client_port"], requests[1]["client_port"]) << "expected the connection reused";
  EXPECT_EQ(requests[1]["client_port"], requests[2]["client_port"]);
}

TEST_F(GraphClientTest, ErrorAnswersCarryStatusBodyAndRetryAfter) {
  fake_.Script(json::array({{{"status", 429}, {"headers", {{"Retry-After", "7"}}}, {"body", {{"error", "x"}}}}}));
  auto answers = PostAll(1);
  ASSERT_EQ(answers.size(), 1u);
  EXPECT_EQ(answers[0].status, 429);
  EXPECT_EQ(answers[0].retry_after, std::optional<std::string>("7"));
  EXPECT_EQ(json::parse(answers[0].body), json::parse(R"({"error":"x"})"));
}

TEST_F(GraphClientTest, ReconnectsAfterTheServerClosedTheConnection) {
  fake_.Script(json::array({{{"status", 200}, {"close", true}}}));
  auto answers = PostAll(2);
  ASSERT_EQ(answers.size(), 2u);
  EXPECT_EQ(answers[0].status, 200);
  EXPECT_EQ(answers[1].status, 200) << answers[1].error;
  auto requests = fake_.Requests();
  ASSERT_EQ(requests.size(), 2u);
  EXPECT_NE(requests[0]["client_port"], requests[1]["client_port"]) << "expected a new connection";
}

TEST_F(GraphClientTest, ResendsOnceWhenAKeptAliveConnectionWasDropped) {
  fake_.Script(json::array({{{"status", 200}, {"drop", true}}}));
  auto answers = PostAll(2);
  ASSERT_EQ(answers.size(), 2u);
  EXPECT_EQ(answers[1].status, 200) << "expected the request sent again on a new connection: " << answers[1].error;
  auto requests = fake_.Requests();
  ASSERT_EQ(requests.size(), 2u) << "expected the dropped connection's request never to have reached the server";
  EXPECT_NE(requests[0]["client_port"], requests[1]["client_port"]);
}

TEST_F(GraphClientTest, SlowAnswerTimesOut) {
  fake_.Script(json::array({{{"status", 200}, {"delay_ms", 1500}}}));
  auto start = std::chrono::steady_clock::now();
  auto answers = PostAll(2, 400ms);
  auto took = std::chrono::steady_clock::now() - start;
  ASSERT_EQ(answers.size(), 2u);
  EXPECT_EQ(answers[0].status, 0);
  EXPECT_EQ(answers[0].error, "reading the Graph API's answer timed out");
  EXPECT_LT(took, 1400ms) << "expected the timeout, not the answer, to end the first request";
  EXPECT_EQ(answers[1].status, 200) << "expected a fresh connection after the timeout: " << answers[1].error;
}

TEST_F(GraphClientTest, RefusedConnectionIsAnAnswerNotAnException) {
  std::string base;
  {
    FakeGraph closed;
    base = closed.BaseUrl();
  }
  auto answers = PostAll(1, 2s, base);
  ASSERT_EQ(answers.size(), 1u);
  EXPECT_EQ(answers[0].status, 0);
  EXPECT_NE(answers[0].error.find("connecting to the Graph API"), std::string::npos) << answers[0].error;
}

/// A self-signed certificate for 127.0.0.1 and localhost, made with the openssl
/// command; empty when it cannot be made.
std::pair<std::string, std::string> SelfSignedCertificate(const std::string& dir) {
  std::string cert = dir + "/cert.pem", key = dir + "/key.pem";
  std::string command =
      "openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=127.0.0.1 "
      "-addext subjectAltName=IP:127.0.0.1,DNS:localhost -keyout " +
      key + " -out " + cert + " >/dev/null 2>&1";
  if (std::system(command.c_str()) != 0) return {};
  return {cert, key};
}

class GraphClientTlsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char pattern[] = "/tmp/sb_graph_tls_XXXXXX";
    ASSERT_NE(mkdtemp(pattern), nullptr);
    dir_ = pattern;
    std::tie(cert_, key_) = SelfSignedCertificate(dir_);
    if (cert_.empty()) GTEST_SKIP() << "the openssl command is not available";
    fake_ = std::make_unique<FakeGraph>(cert_, key_);
  }
  void TearDown() override {
    fake_.reset();
    unsetenv("SSL_CERT_FILE");
    std::filesystem::remove_all(dir_);
  }

  GraphAnswer PostOnce(const std::string& base = "") {
    boost::asio::io_context io;
    GraphAnswer answer;
    // Made here: the CAs are read when a context is made (after SSL_CERT_FILE is set).
    GraphClient client(io.get_executor(), base.empty() ? fake_->BaseUrl() : base, 2s, outbound::MakeTlsContext());
    boost::asio::co_spawn(
        io,
        [&]() -> boost::asio::awaitable<void> {
          std::string target = client.BasePath() + "/1065/messages", body = R"({"to":"1555"})", token = "tok";
          answer = co_await client.Post(target, body, token);
        },
        boost::asio::detached);
    io.run();
    return answer;
  }

  std::string dir_, cert_, key_;
  std::unique_ptr<FakeGraph> fake_;
};

TEST_F(GraphClientTlsTest, UntrustedCertificateIsRefused) {
  auto answer = PostOnce();
  EXPECT_EQ(answer.status, 0);
  EXPECT_NE(answer.error.find("TLS handshake with the Graph API"), std::string::npos) << answer.error;
}

TEST_F(GraphClientTlsTest, TrustedCertificateIsAccepted) {
  // OpenSSL's default verify paths honour SSL_CERT_FILE: trust the test CA.
  setenv("SSL_CERT_FILE", cert_.c_str(), 1);
  auto answer = PostOnce();
  EXPECT_EQ(answer.status, 200) << answer.error;
  EXPECT_NE(answer.body.find("wamid.fake.1"), std::string::npos) << answer.body;
}

TEST_F(GraphClientTlsTest, HostNameIsVerified) {
  setenv("SSL_CERT_FILE", cert_.c_str(), 1);
  auto answer = PostOnce("https://localhost:" + std::to_string(fake_->port()) + "/v21.0");
  EXPECT_EQ(answer.status, 200) << "expected the name (sent as SNI) to match the certificate: " << answer.error;
}

TEST_F(GraphClientTest, MalformedBaseUrlIsRejectedAtConstruction) {
  boost::asio::io_context io;
  EXPECT_THROW(GraphClient(io.get_executor(), "graph.facebook.com", 1s, nullptr), std::invalid_argument);
}

}  // namespace
}  // namespace sb::pgtest
