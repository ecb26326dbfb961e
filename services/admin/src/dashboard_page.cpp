#include "sb/admin/dashboard_page.hpp"

#include <string>
#include <string_view>

#include "sb_admin_web_files.hpp"
#include "sb_chartjs_files.hpp"

namespace sb::admin {
namespace {

// Scripts and styles only from this server; the page talks only to it.
constexpr const char* kPolicy =
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
    "base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

std::string ContentType(std::string_view name) {
  if (name.ends_with(".html")) return "text/html; charset=utf-8";
  if (name.ends_with(".css")) return "text/css; charset=utf-8";
  if (name.ends_with(".js")) return "text/javascript; charset=utf-8";
  return "application/octet-stream";
}

template <class Files>
const std::string_view* Find(const Files& files, std::string_view name) {
  for (const auto& [file, contents] : files) {
    if (file == name) return &contents;
  }
  return nullptr;
}

http::Response Serve(std::string_view name, std::string_view contents) {
  auto response = http::Response::Text(200, std::string(contents), ContentType(name));
  response.headers.emplace_back("Content-Security-Policy", kPolicy);
  response.headers.emplace_back("X-Content-Type-Options", "nosniff");
  // Assets change with the binary; revalidating is cheap on loopback and
  // keeps a page from mixing two builds' files.
  response.headers.emplace_back("Cache-Control", "no-cache");
  return response;
}

}  // namespace

boost::asio::awaitable<http::Response> DashboardPage::Page(http::Request&) {
  const auto* page = Find(web::kFiles, "admin.html");
  co_return Serve("admin.html", *page);
}

boost::asio::awaitable<http::Response> DashboardPage::Asset(http::Request& req) {
  const std::string_view name = req.Param("asset");
  const std::string_view* contents = nullptr;
  if (name == "chart.min.js") {
    contents = Find(chartjs::kFiles, name);
  } else if (name != "admin.html") {
    contents = Find(web::kFiles, name);
  }
  if (!contents) throw http::HttpError(404, "not_found", "no dashboard asset named '" + std::string(name) + "'");
  co_return Serve(name, *contents);
}

}  // namespace sb::admin
