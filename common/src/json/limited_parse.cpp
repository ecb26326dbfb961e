#include "sb/common/json/limited_parse.hpp"

#include <cstddef>
#include <exception>
#include <nlohmann/json.hpp>
#include <string>

namespace sb::json {
namespace {

using Json = nlohmann::json;
using DomBuilder = nlohmann::detail::json_sax_dom_parser<Json>;

// Forwards every event to nlohmann's own DOM builder, but refuses to open a
// container past `max_depth`. Returning false stops the parser at once, so a
// hostile document costs at most `max_depth` levels of work and memory.
class DepthLimitedSax {
 public:
  DepthLimitedSax(Json& root, int max_depth) : dom_(root, /*allow_exceptions=*/false), max_depth_(max_depth) {}

  bool null() { return dom_.null(); }
  bool boolean(bool v) { return dom_.boolean(v); }
  bool number_integer(Json::number_integer_t v) { return dom_.number_integer(v); }
  bool number_unsigned(Json::number_unsigned_t v) { return dom_.number_unsigned(v); }
  bool number_float(Json::number_float_t v, const Json::string_t& s) { return dom_.number_float(v, s); }
  bool string(Json::string_t& v) { return dom_.string(v); }
  bool binary(Json::binary_t& v) { return dom_.binary(v); }
  bool key(Json::string_t& v) { return dom_.key(v); }

  bool start_object(std::size_t len) { return Enter() && dom_.start_object(len); }
  bool start_array(std::size_t len) { return Enter() && dom_.start_array(len); }
  bool end_object() {
    --depth_;
    return dom_.end_object();
  }
  bool end_array() {
    --depth_;
    return dom_.end_array();
  }

  template <class Exception>
  bool parse_error(std::size_t position, const std::string& /*last_token*/, const Exception& ex) {
    syntax_error_ = true;
    error_byte_ = position;
    error_what_ = ex.what();
    return false;
  }

  bool too_deep() const { return too_deep_; }
  bool syntax_error() const { return syntax_error_; }
  std::size_t error_byte() const { return error_byte_; }
  const std::string& error_what() const { return error_what_; }

 private:
  bool Enter() {
    if (++depth_ > max_depth_) {
      too_deep_ = true;
      return false;
    }
    return true;
  }

  DomBuilder dom_;
  int max_depth_;
  int depth_ = 0;
  bool too_deep_ = false;
  bool syntax_error_ = false;
  std::size_t error_byte_ = 0;
  std::string error_what_;
};

// The SAX interface does not tell where the refused bracket was; the prefix
// before it is known to be valid JSON, so a bracket count that skips strings
// finds it.
std::size_t OffsetOfDepth(std::string_view text, int max_depth) {
  int depth = 0;
  bool in_string = false;
  bool escaped = false;
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (in_string) {
      if (escaped) {
        escaped = false;
      } else if (c == '\\') {
        escaped = true;
      } else if (c == '"') {
        in_string = false;
      }
    } else if (c == '"') {
      in_string = true;
    } else if (c == '[' || c == '{') {
      if (++depth > max_depth) return i;
    } else if (c == ']' || c == '}') {
      --depth;
    }
  }
  return text.size();
}

// nlohmann's message quotes the raw bytes it last read, which may be invalid
// UTF-8; our messages end up in JSON answers, so keep them printable ASCII.
std::string Describe(const std::string& what) {
  std::string_view detail = what;
  // "[json.exception.parse_error.101] parse error at line 1, column 2: ..."
  if (detail.starts_with('[')) {
    if (auto close = detail.find("] "); close != std::string_view::npos) {
      detail.remove_prefix(close + 2);
    }
  }
  if (detail.starts_with("parse error")) {
    if (auto colon = detail.find(": "); colon != std::string_view::npos) {
      detail.remove_prefix(colon + 2);
    }
  }
  std::string out;
  out.reserve(detail.size());
  static constexpr char kHex[] = "0123456789abcdef";
  for (unsigned char c : detail) {
    if (c >= 0x20 && c < 0x7f) {
      out.push_back(static_cast<char>(c));
    } else {
      out += "\\x";
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 0xf]);
    }
  }
  return out;
}

}  // namespace

Result<nlohmann::json> ParseLimited(std::string_view text, int max_depth) {
  try {
    if (max_depth < 0) max_depth = 0;
    Json root;
    DepthLimitedSax sax(root, max_depth);
    const bool ok =
        Json::sax_parse(text.data(), text.data() + text.size(), &sax, Json::input_format_t::json, /*strict=*/true,
                        /*ignore_comments=*/false);
    if (sax.too_deep()) {
      return Error{"too_deep", "JSON nested more than " + std::to_string(max_depth) + " levels at byte " +
                                   std::to_string(OffsetOfDepth(text, max_depth))};
    }
    if (!ok || sax.syntax_error()) {
      // nlohmann counts bytes from 1; we report the 0-based offset.
      const std::size_t byte = sax.error_byte() > 0 ? sax.error_byte() - 1 : 0;
      return Error{"invalid_json", Describe(sax.error_what()) + " at byte " + std::to_string(byte)};
    }
    // nlohmann's lexer takes a NUL byte for the end of input, so "{}\0junk"
    // parses; a NUL is never valid JSON text, wherever it is.
    if (const auto nul = text.find('\0'); nul != std::string_view::npos) {
      return Error{"invalid_json", "unexpected NUL byte at byte " + std::to_string(nul)};
    }
    return root;
  } catch (const std::exception& e) {
    return Error{"invalid_json", "cannot parse JSON: " + Describe(e.what())};
  } catch (...) {
    return Error{"invalid_json", "cannot parse JSON"};
  }
}

}  // namespace sb::json
