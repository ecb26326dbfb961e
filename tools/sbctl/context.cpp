#include "context.hpp"

#include <algorithm>
#include <iostream>

namespace sb::sbctl {

ApiClient& Context::Client() {
  if (!client_) {
    client_ =
        std::make_unique<ApiClient>(url, token, std::chrono::milliseconds(static_cast<long long>(timeout_s * 1000)));
  }
  return *client_;
}

void Context::PrintJson(const nlohmann::json& value) const { std::cout << value.dump(2) << '\n'; }

std::string Cell(const nlohmann::json& value) {
  if (value.is_null()) return "";
  if (value.is_string()) return value.get<std::string>();
  return value.dump();
}

void PrintTable(std::ostream& out, const std::vector<std::string>& header,
                const std::vector<std::vector<std::string>>& rows) {
  std::vector<std::size_t> width(header.size());
  for (std::size_t c = 0; c < header.size(); ++c) width[c] = header[c].size();
  for (const auto& row : rows) {
    for (std::size_t c = 0; c < row.size() && c < width.size(); ++c) width[c] = std::max(width[c], row[c].size());
  }
  auto line = [&](const std::vector<std::string>& cells) {
    std::string text;
    for (std::size_t c = 0; c < width.size(); ++c) {
      std::string cell = c < cells.size() ? cells[c] : "";
      if (c + 1 < width.size()) cell.resize(width[c], ' ');
      text += cell;
      if (c + 1 < width.size()) text += "  ";
    }
    out << text << '\n';
  };
  line(header);
  for (const auto& row : rows) line(row);
}

}  // namespace sb::sbctl
