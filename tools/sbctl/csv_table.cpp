#include "csv_table.hpp"

#include <algorithm>
#include <fstream>
#include <sstream>
#include <stdexcept>

namespace sb::sbctl {
namespace {

std::string Trim(const std::string& s) {
  const auto b = s.find_first_not_of(" \t");
  if (b == std::string::npos) return {};
  return s.substr(b, s.find_last_not_of(" \t") - b + 1);
}

// Splits the text into records of fields.
std::vector<std::pair<int, std::vector<std::string>>> Records(const std::string& text) {
  std::vector<std::pair<int, std::vector<std::string>>> out;
  std::vector<std::string> fields;
  std::string field;
  bool quoted = false, was_quoted = false, any = false;
  int line = 1, start = 1;
  std::size_t i = text.rfind("\xEF\xBB\xBF", 0) == 0 ? 3 : 0;  // a UTF-8 byte order mark
  auto end_field = [&] {
    fields.push_back(was_quoted ? field : Trim(field));
    field.clear();
    was_quoted = false;
  };
  auto end_record = [&] {
    end_field();
    if (!(fields.size() == 1 && fields[0].empty())) out.emplace_back(start, std::move(fields));
    fields.clear();
    any = false;
  };
  for (; i < text.size(); ++i) {
    const char c = text[i];
    if (!any) {
      start = line;
      any = true;
    }
    if (quoted) {
      if (c == '"' && i + 1 < text.size() && text[i + 1] == '"') {
        field += '"';
        ++i;
      } else if (c == '"') {
        quoted = false;
      } else {
        if (c == '\n') ++line;
        field += c;
      }
      continue;
    }
    if (c == '"') {
      if (!Trim(field).empty() || was_quoted) {
        throw std::runtime_error("line " + std::to_string(line) + ": a quote inside an unquoted field");
      }
      field.clear();
      quoted = was_quoted = true;
    } else if (c == ',') {
      end_field();
    } else if (c == '\n' || c == '\r') {
      if (c == '\r' && i + 1 < text.size() && text[i + 1] == '\n') ++i;
      end_record();
      ++line;
    } else {
      if (was_quoted && c != ' ' && c != '\t') {
        throw std::runtime_error("line " + std::to_string(line) + ": text after a closing quote");
      }
      field += c;
    }
  }
  if (quoted) throw std::runtime_error("line " + std::to_string(start) + ": a quoted field is not closed");
  if (any) end_record();
  return out;
}

}  // namespace

CsvTable ParseCsv(const std::string& text) {
  auto records = Records(text);
  if (records.empty()) throw std::runtime_error("the file is empty: expected a header row");
  CsvTable table;
  table.header = records.front().second;
  for (const auto& name : table.header) {
    if (name.empty()) throw std::runtime_error("line 1: an empty column name in the header");
    if (std::count(table.header.begin(), table.header.end(), name) > 1) {
      throw std::runtime_error("line 1: column '" + name + "' appears twice");
    }
  }
  for (std::size_t r = 1; r < records.size(); ++r) {
    const auto& [line, fields] = records[r];
    if (fields.size() != table.header.size()) {
      throw std::runtime_error("line " + std::to_string(line) + ": " + std::to_string(fields.size()) +
                               " fields, the header has " + std::to_string(table.header.size()));
    }
    CsvRow row;
    row.line = line;
    for (std::size_t f = 0; f < fields.size(); ++f) {
      if (!fields[f].empty()) row.cells[table.header[f]] = fields[f];
    }
    table.rows.push_back(std::move(row));
  }
  return table;
}

CsvTable ReadCsvFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error("cannot read " + path);
  std::ostringstream text;
  text << in.rdbuf();
  try {
    return ParseCsv(text.str());
  } catch (const std::runtime_error& e) {
    throw std::runtime_error(path + ": " + e.what());
  }
}

}  // namespace sb::sbctl
