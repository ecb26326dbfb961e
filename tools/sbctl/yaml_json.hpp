#pragma once
/// Reads a JSON or YAML document into JSON (YAML is a superset of JSON; a
/// `.json` file is parsed as JSON so its errors read as JSON errors).
/// Throws std::runtime_error naming the file and the position of a syntax
/// error.
#include <nlohmann/json.hpp>

#include <string>

namespace sb::sbctl {

nlohmann::json YamlToJson(const std::string& text);
nlohmann::json ReadJsonOrYamlFile(const std::string& path);

}  // namespace sb::sbctl
