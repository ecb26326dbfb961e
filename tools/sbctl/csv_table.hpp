#pragma once
/// A CSV file (RFC 4180: quoted fields may hold commas, quotes and newlines)
/// with a header row, read whole. Throws std::runtime_error naming the line
/// of the first malformed record.
#include <map>
#include <string>
#include <vector>

namespace sb::sbctl {

struct CsvRow {
  int line = 0;                              // where the record starts, 1-based
  std::map<std::string, std::string> cells;  // header name -> value, empty cells left out
};

struct CsvTable {
  std::vector<std::string> header;
  std::vector<CsvRow> rows;
};

CsvTable ParseCsv(const std::string& text);
CsvTable ReadCsvFile(const std::string& path);

}  // namespace sb::sbctl
