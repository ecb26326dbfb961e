// MediaFetcher against a real PostgreSQL and the fake Graph server as a CDN:
// the ingest trigger records attachments as pending, retries end after
// max_attempts, several fetchers fetch each file once, and a row deleted
// (erased) while its download is in flight stays gone.
#include <boost/beast/http/verb.hpp>
#include <nlohmann/json.hpp>

#include <set>

#include "outbound_fixture.hpp"
#include "sb/outbound/media_fetcher.hpp"

namespace sb::pgtest {
namespace {

using nlohmann::json;

std::string Base64(const std::string& in) {
  static constexpr char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  std::size_t i = 0;
  for (; i + 2 < in.size(); i += 3) {
    std::uint32_t v = (static_cast<unsigned char>(in[i]) << 16) | (static_cast<unsigned char>(in[i + 1]) << 8) |
                      static_cast<unsigned char>(in[i + 2]);
    for (int shift = 18; shift >= 0; shift -= 6) out += kAlphabet[(v >> shift) & 63];
  }
  if (i < in.size()) {
    std::uint32_t v = static_cast<unsigned char>(in[i]) << 16;
    if (i + 1 < in.size()) v |= static_cast<unsigned char>(in[i + 1]) << 8;
    out += kAlphabet[(v >> 18) & 63];
    out += kAlphabet[(v >> 12) & 63];
    out += i + 1 < in.size() ? kAlphabet[(v >> 6) & 63] : '=';
    out += '=';
  }
  return out;
}

class MediaFetcherTest : public OutboundDb {
 protected:
  void TearDown() override {
    fetchers_.clear();  // stops them
    // Fetchers claim across businesses: leave nothing pending for the next test's.
    if (conn_) Sql("UPDATE message_media SET state = 'failed' WHERE state = 'pending'");
    OutboundDb::TearDown();
  }

  outbound::MediaFetcherOptions Fast() {
    outbound::MediaFetcherOptions o;
    o.hosts = "127.0.0.1";
    o.max_bytes = 10000;
    o.poll_interval = 50ms;
    o.request_timeout = 2s;
    o.lease = 30s;
    o.first_retry = 50ms;
    o.max_attempts = 3;
    return o;
  }

  outbound::MediaFetcher& StartFetcher(const outbound::MediaFetcherOptions& options) {
    fetchers_.push_back(std::make_unique<outbound::MediaFetcher>(*db_, registry_, options));
    fetchers_.back()->Start();
    return *fetchers_.back();
  }

  /// A file on the fake CDN; returns its URL.
  std::string CdnFile(const std::string& name, const std::string& data, const json& extra = json::object()) {
    json file = {{"mime_type", "image/png"}, {"data_b64", Base64(data)}};
    file.update(extra);
    fake_->Call(boost::beast::http::verb::post, "/_cdn", json{{"files", {{name, file}}}}.dump());
    return "http://127.0.0.1:" + std::to_string(fake_->port()) + "/_cdn/" + name + "?oh=1";
  }

  std::size_t CdnRequests(const std::string& name) {
    std::size_t n = 0;
    for (const auto& r : fake_->Requests()) {
      if (r["path"].get<std::string>().rfind("/_cdn/" + name + "?", 0) == 0) ++n;
    }
    return n;
  }

  /// An inbound customer message as ingest stores it; returns its id.
  std::int64_t Inbound(const std::string& type, const std::optional<std::string>& url,
                       const std::string& direction = "in") {
    static int counter = 0;
    std::string b = std::to_string(business_), ch = std::to_string(messenger_.id);
    std::string contact = "psid-" + TestName() + "-" + std::to_string(++counter);
    std::string contact_id = Value("INSERT INTO contacts (business_id, channel_id, external_id) VALUES (" + b + ", " +
                                   ch + ", " + conn_->quote(contact) + ") RETURNING id");
    std::string conversation_id = Value("INSERT INTO conversations (business_id, channel_id, contact_id) VALUES (" + b +
                                        ", " + ch + ", " + contact_id + ") RETURNING id");
    return Id(
        "INSERT INTO messages (business_id, conversation_id, channel_id, contact_id, direction, sender, type, "
        "media_url, status) VALUES (" +
        b + ", " + conversation_id + ", " + ch + ", " + contact_id + ", " + conn_->quote(direction) + ", " +
        (direction == "in" ? "'customer'" : "'agent'") + ", " + conn_->quote(type) + ", " +
        (url ? conn_->quote(*url) : std::string("NULL")) + ", 'received') RETURNING id");
  }

  std::string Media(std::int64_t message, const std::string& column) {
    return Value("SELECT COALESCE((SELECT " + column + "::text FROM message_media WHERE business_id = " +
                 std::to_string(business_) + " AND message_id = " + std::to_string(message) + "), '<none>')");
  }

  bool StateBecomes(std::int64_t message, const std::string& state, std::chrono::milliseconds timeout = 10s) {
    return WaitFor([&] { return Media(message, "state") == state; }, timeout);
  }

  std::vector<std::unique_ptr<outbound::MediaFetcher>> fetchers_;
};

TEST_F(MediaFetcherTest, OnlyInboundAttachmentsWithAUrlArePending) {
  auto image = Inbound("image", "http://127.0.0.1/x");
  EXPECT_EQ(Media(image, "state"), "pending");
  for (const std::string type : {"audio", "video", "document", "sticker"}) {
    EXPECT_EQ(Media(Inbound(type, "http://127.0.0.1/x"), "state"), "pending") << type;
  }
  EXPECT_EQ(Media(Inbound("text", std::nullopt), "state"), "<none>");
  EXPECT_EQ(Media(Inbound("location", "https://maps.example.com/x"), "state"), "<none>");
  EXPECT_EQ(Media(Inbound("unsupported", "https://example.com/shared-link"), "state"), "<none>");
  EXPECT_EQ(Media(Inbound("image", std::nullopt), "state"), "<none>");
  EXPECT_EQ(Media(Inbound("image", "http://127.0.0.1/x", "out"), "state"), "<none>") << "an agent's attachment";
}

TEST_F(MediaFetcherTest, RetriesEndAfterMaxAttempts) {
  auto url = CdnFile("always-500", "x", {{"fail", json::array({500, 500, 500, 500, 500, 500})}});
  auto message = Inbound("image", url);
  StartFetcher(Fast());
  ASSERT_TRUE(StateBecomes(message, "failed")) << Media(message, "state");
  EXPECT_EQ(Media(message, "attempts"), "3");
  EXPECT_NE(Media(message, "error").find("after 3 attempts"), std::string::npos) << Media(message, "error");
  std::this_thread::sleep_for(300ms);
  EXPECT_EQ(CdnRequests("always-500"), 3u) << "three attempts and no more";
  EXPECT_EQ(registry_.GetCounter("switchboard_media_fetches_total", "", {{"result", "retry"}}).Value(), 2);
}

TEST_F(MediaFetcherTest, ALeaseThatRanOutPastTheLastAttemptFails) {
  // As if three fetchers had died holding it: the next claim is the fourth attempt.
  auto url = CdnFile("after-crashes", "x");
  auto message = Inbound("image", url);
  Sql("UPDATE message_media SET attempts = 3 WHERE message_id = " + std::to_string(message));
  StartFetcher(Fast());
  ASSERT_TRUE(StateBecomes(message, "failed"));
  EXPECT_EQ(CdnRequests("after-crashes"), 0u);
  EXPECT_EQ(Media(message, "error"), "gave up after 3 attempts");
}

TEST_F(MediaFetcherTest, SeveralFetchersFetchEachFileOnce) {
  std::vector<std::int64_t> messages;
  for (int i = 0; i < 12; ++i) {
    messages.push_back(Inbound("image", CdnFile("shared-" + std::to_string(i), "file " + std::to_string(i))));
  }
  auto options = Fast();
  options.concurrency = 3;
  StartFetcher(options);
  StartFetcher(options);
  for (std::size_t i = 0; i < messages.size(); ++i) {
    ASSERT_TRUE(StateBecomes(messages[i], "kept")) << i;
    EXPECT_EQ(Media(messages[i], "convert_from(bytes, 'UTF8')"), "file " + std::to_string(i));
    EXPECT_EQ(CdnRequests("shared-" + std::to_string(i)), 1u) << i;
  }
}

TEST_F(MediaFetcherTest, ARowDeletedDuringItsDownloadStaysGone) {
  auto url = CdnFile("slow", "kept?", {{"delay_ms", 700}});
  auto message = Inbound("image", url);
  StartFetcher(Fast());
  ASSERT_TRUE(WaitFor([&] { return CdnRequests("slow") == 1; }));
  Sql("DELETE FROM message_media WHERE message_id = " + std::to_string(message));
  std::this_thread::sleep_for(1500ms);
  EXPECT_EQ(Media(message, "state"), "<none>") << "the download's result must not bring the row back";
}

TEST_F(MediaFetcherTest, StopCutsADownloadOffAndGivesItBack) {
  auto url = CdnFile("very-slow", "x", {{"delay_ms", 5000}});
  auto message = Inbound("image", url);
  auto& fetcher = StartFetcher(Fast());
  ASSERT_TRUE(WaitFor([&] { return CdnRequests("very-slow") == 1; }));
  auto started = std::chrono::steady_clock::now();
  fetcher.Stop();
  EXPECT_LT(std::chrono::steady_clock::now() - started, 3s) << "stop_grace (1 s) bounds Stop";
  EXPECT_EQ(Media(message, "state"), "pending");
  EXPECT_EQ(Media(message, "attempts"), "0") << "the cut-off attempt is not counted";
  EXPECT_EQ(Media(message, "(next_attempt_at <= now())"), "true");
}

TEST_F(MediaFetcherTest, MalformedHostListsAreRefused) {
  auto options = Fast();
  options.hosts = "*";
  EXPECT_THROW(outbound::MediaFetcher(*db_, registry_, options), std::invalid_argument);
}

}  // namespace
}  // namespace sb::pgtest
