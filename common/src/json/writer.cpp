#include "sb/common/json/writer.hpp"

#include <charconv>

namespace sb::json {

void AppendQuoted(std::string& out, std::string_view value) {
  static constexpr char kHex[] = "0123456789abcdef";
  out.reserve(out.size() + value.size() + 2);
  out.push_back('"');
  std::size_t run = 0;  // start of the pending run of bytes that need no escape
  for (std::size_t i = 0; i < value.size(); ++i) {
    auto c = static_cast<unsigned char>(value[i]);
    if (c >= 0x20 && c != '"' && c != '\\') continue;
    out.append(value.data() + run, i - run);
    run = i + 1;
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      case '\0':
        out += "\\ufffd";
        break;  // PostgreSQL text cannot hold NUL
      default: {
        const char esc[] = {'\\', 'u', '0', '0', kHex[c >> 4], kHex[c & 0xf]};
        out.append(esc, sizeof(esc));
      }
    }
  }
  out.append(value.data() + run, value.size() - run);
  out.push_back('"');
}

void Writer::Separate() {
  if (need_comma_) out_.push_back(',');
  need_comma_ = true;
}

Writer& Writer::BeginObject() {
  Separate();
  out_.push_back('{');
  need_comma_ = false;
  return *this;
}

Writer& Writer::EndObject() {
  out_.push_back('}');
  need_comma_ = true;
  return *this;
}

Writer& Writer::BeginArray() {
  Separate();
  out_.push_back('[');
  need_comma_ = false;
  return *this;
}

Writer& Writer::EndArray() {
  out_.push_back(']');
  need_comma_ = true;
  return *this;
}

Writer& Writer::Key(std::string_view key) {
  Separate();
  AppendQuoted(out_, key);
  out_.push_back(':');
  need_comma_ = false;
  return *this;
}

Writer& Writer::String(std::string_view value) {
  Separate();
  AppendQuoted(out_, value);
  return *this;
}

Writer& Writer::OptionalString(const std::optional<std::string>& value) {
  return value ? String(std::string_view(*value)) : Null();
}

Writer& Writer::Int(std::int64_t value) {
  Separate();
  char buf[24];
  auto [end, ec] = std::to_chars(buf, buf + sizeof(buf), value);
  out_.append(buf, end);
  return *this;
}

Writer& Writer::Null() {
  Separate();
  out_ += "null";
  return *this;
}

Writer& Writer::Raw(std::string_view json) {
  Separate();
  out_.append(json);
  return *this;
}

}  // namespace sb::json
