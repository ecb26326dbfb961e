// Which attachment URLs may be fetched: exact hosts, *.domain wildcards,
// and the URL shapes that must never pass.
#include "sb/outbound/media_host_allow_list.hpp"

#include <gtest/gtest.h>

namespace sb::outbound {
namespace {

MediaHostAllowList List(std::string_view text) {
  auto parsed = MediaHostAllowList::Parse(text);
  EXPECT_TRUE(parsed.ok()) << "'" << text << "' should parse: " << (parsed.ok() ? "" : parsed.error().message);
  return parsed.ok() ? std::move(parsed).value() : MediaHostAllowList{};
}

TEST(MediaHostAllowListTest, DefaultTakesMetaCdnsOnly) {
  auto meta = List(MediaHostAllowList::kDefault);
  EXPECT_TRUE(meta.Allows("https://scontent.xx.fbcdn.net/v/t1.15752-9/123_n.jpg?_nc_cat=1&oh=00_AfB&oe=6650"));
  EXPECT_TRUE(meta.Allows("https://cdn.fbsbx.com/v/t59.3654-21/file.pdf?_nc_cat=104"));
  EXPECT_TRUE(meta.Allows("https://lookaside.fbsbx.com/ig_messaging_cdn/?asset_id=1&signature=x"));
  EXPECT_TRUE(meta.Allows("https://scontent-iad3-1.cdninstagram.com/v/x.jpg"));
  EXPECT_TRUE(meta.Allows("https://SCONTENT.XX.FBCDN.NET/a.jpg")) << "host names are case-insensitive";
  EXPECT_TRUE(meta.Allows("https://scontent.xx.fbcdn.net./a.jpg")) << "a trailing dot names the same host";
  EXPECT_FALSE(meta.Allows("https://fbcdn.net/a.jpg")) << "*.domain is below the domain, not the domain";
  EXPECT_FALSE(meta.Allows("https://evilfbcdn.net/a.jpg")) << "a suffix match must end at a label";
  EXPECT_FALSE(meta.Allows("https://fbcdn.net.evil.com/a.jpg"));
  EXPECT_FALSE(meta.Allows("https://example.com/scontent.xx.fbcdn.net/a.jpg"));
  EXPECT_FALSE(meta.Allows("https://example.com/?u=https://scontent.xx.fbcdn.net/a.jpg"));
  EXPECT_FALSE(meta.Allows("http://127.0.0.1/a.jpg"));
  EXPECT_FALSE(meta.Allows("http://169.254.169.254/latest/meta-data/"));
}

TEST(MediaHostAllowListTest, ExactHostsAndAddresses) {
  auto local = List(" 127.0.0.1 , cdn.example.com,[::1]");
  EXPECT_TRUE(local.Allows("http://127.0.0.1:43111/_cdn/a?x=1")) << "any port";
  EXPECT_TRUE(local.Allows("http://127.0.0.1/a"));
  EXPECT_TRUE(local.Allows("https://cdn.example.com/a"));
  EXPECT_TRUE(local.Allows("http://[::1]:8080/a"));
  EXPECT_FALSE(local.Allows("https://a.cdn.example.com/a")) << "an exact entry has no subdomains";
  EXPECT_FALSE(local.Allows("http://127.0.0.2/a"));
  EXPECT_FALSE(local.Allows("http://localhost/a"));
  EXPECT_TRUE(local.AllowsHost("CDN.example.com"));
  EXPECT_FALSE(local.AllowsHost(""));
}

TEST(MediaHostAllowListTest, UrlShapesThatNeverPass) {
  auto local = List("127.0.0.1,*.fbcdn.net");
  EXPECT_FALSE(local.Allows("ftp://127.0.0.1/a")) << "only http and https";
  EXPECT_FALSE(local.Allows("file:///etc/passwd"));
  EXPECT_FALSE(local.Allows("//127.0.0.1/a")) << "not absolute";
  EXPECT_FALSE(local.Allows("127.0.0.1/a"));
  EXPECT_FALSE(local.Allows("http://user:pw@127.0.0.1/a")) << "user info is refused";
  EXPECT_FALSE(local.Allows("http://evil.com@127.0.0.1/a"));
  EXPECT_FALSE(local.Allows("http://127.0.0.1@evil.com/a"));
  EXPECT_FALSE(local.Allows("http://127.0.0.1%2f@evil.com/a"));
  EXPECT_FALSE(local.Allows("http://a%2efbcdn.net/x")) << "percent-encoded hosts are refused";
  EXPECT_FALSE(local.Allows("http://127.0.0.1 /a"));
  EXPECT_FALSE(local.Allows("http://127.0.0.1\\@evil.com/a"));
  EXPECT_FALSE(local.Allows(""));
  EXPECT_FALSE(local.Allows("http://"));
}

TEST(MediaHostAllowListTest, NoneAllowsNothing) {
  auto none = List("none");
  EXPECT_FALSE(none.Allows("https://scontent.xx.fbcdn.net/a.jpg"));
  EXPECT_FALSE(none.AllowsHost("127.0.0.1"));
}

TEST(MediaHostAllowListTest, MalformedListsAreRefused) {
  for (std::string_view bad : {"", " ", "*", "*.", "a,,b", "a,", "*.*.fbcdn.net", "http://cdn.example.com",
                               "cdn.example.com/x", "cdn example.com", "a..b", "*.[::1]"}) {
    auto parsed = MediaHostAllowList::Parse(bad);
    ASSERT_FALSE(parsed.ok()) << "'" << bad << "' must be refused";
    EXPECT_EQ(parsed.error().code, "invalid_media_hosts");
  }
}

}  // namespace
}  // namespace sb::outbound
