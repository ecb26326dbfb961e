#pragma once
/// Appends JSON text to a string without building a document first: for the
/// hot paths that only ever produce JSON (the ingest batch parameter).
/// Not thread-safe; one writer per output.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace sb::json {

class Writer {
 public:
  explicit Writer(std::string& out) : out_(out) {}

  Writer& BeginObject();
  Writer& EndObject();
  Writer& BeginArray();
  Writer& EndArray();
  /// An object key; the value follows with one of the calls below.
  Writer& Key(std::string_view key);
  Writer& String(std::string_view value);
  Writer& OptionalString(const std::optional<std::string>& value);  // null when absent
  Writer& Int(std::int64_t value);
  Writer& Null();
  /// Already serialized JSON, inserted as a value.
  Writer& Raw(std::string_view json);

 private:
  void Separate();
  std::string& out_;
  bool need_comma_ = false;
};

/// Appends `value` as a JSON string literal (quotes included). Bytes must be
/// UTF-8; control characters are escaped, and NUL becomes U+FFFD since
/// PostgreSQL text cannot hold it.
void AppendQuoted(std::string& out, std::string_view value);

}  // namespace sb::json
