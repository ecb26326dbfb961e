#include "secret_key.hpp"

#include <fcntl.h>
#include <openssl/rand.h>
#include <spdlog/spdlog.h>
#include <sys/stat.h>
#include <unistd.h>

#include <array>
#include <cctype>
#include <charconv>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>

namespace sb::app {

namespace {

using Keyring = crypto::SecretBox::Keyring;

std::string Trim(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return std::string(s);
}

std::string DecodeKey(const std::string& hex, const std::string& where) {
  auto raw = crypto::HexDecode(Trim(hex));
  if (!raw || raw->size() != 32) throw std::runtime_error(where + " must hold 64 hex characters (a 256-bit key)");
  return *raw;
}

// "<id>:<hex>" or, when `bare_id` is given, a bare "<hex>".
std::pair<unsigned char, std::string> ParseEntry(const std::string& text, const std::string& where, int bare_id) {
  auto colon = text.find(':');
  if (colon == std::string::npos) {
    if (bare_id <= 0) throw std::runtime_error(where + ": expected <key id>:<64 hex characters>");
    return {static_cast<unsigned char>(bare_id), DecodeKey(text, where)};
  }
  int id = 0;
  auto id_text = Trim(std::string_view(text).substr(0, colon));
  auto [ptr, ec] = std::from_chars(id_text.data(), id_text.data() + id_text.size(), id);
  if (ec != std::errc() || ptr != id_text.data() + id_text.size() || id < 1 || id > 255) {
    throw std::runtime_error(where + ": the key id must be a whole number from 1 to 255");
  }
  return {static_cast<unsigned char>(id), DecodeKey(text.substr(colon + 1), where)};
}

void Add(Keyring& ring, std::pair<unsigned char, std::string> entry, const std::string& where) {
  auto [it, inserted] = ring.emplace(entry.first, entry.second);
  if (!inserted && it->second != entry.second) {
    throw std::runtime_error(where + ": key id " + std::to_string(entry.first) + " is given twice with different keys");
  }
}

// The key file: one key a line, the current one first; blank lines and
// lines starting with '#' are ignored.
std::pair<Keyring, unsigned char> ReadKeyFile(const std::filesystem::path& path) {
  std::ifstream in(path);
  if (!in) throw std::runtime_error("cannot read " + path.string());
  Keyring ring;
  std::optional<unsigned char> current;
  std::string line;
  int number = 0;
  while (std::getline(in, line)) {
    ++number;
    auto text = Trim(line);
    if (text.empty() || text[0] == '#') continue;
    auto entry = ParseEntry(text, path.string() + " line " + std::to_string(number), 1);
    if (!current) current = entry.first;
    Add(ring, std::move(entry), path.string());
  }
  if (!current) throw std::runtime_error(path.string() + " holds no key");
  return {std::move(ring), *current};
}

void AddOldKeys(Keyring& ring, const std::string& list) {
  std::stringstream in(list);
  std::string item;
  while (std::getline(in, item, ',')) {
    if (Trim(item).empty()) continue;
    Add(ring, ParseEntry(Trim(item), "SWITCHBOARD_OLD_SECRET_KEYS", 0), "SWITCHBOARD_OLD_SECRET_KEYS");
  }
}

std::string RandomKey() {
  std::array<unsigned char, 32> raw{};
  if (RAND_bytes(raw.data(), raw.size()) != 1) throw std::runtime_error("cannot generate a secret key");
  return std::string(reinterpret_cast<const char*>(raw.data()), raw.size());
}

// Writes `text` to `path` with mode 0600: through a temporary file and a
// rename, so a reader sees the old or the new file, never half of one.
void WriteKeyFile(const std::filesystem::path& path, const std::string& text, bool exclusive) {
  if (path.has_parent_path()) std::filesystem::create_directories(path.parent_path());
  auto target = exclusive ? path : std::filesystem::path(path.string() + ".tmp");
  int fd = ::open(target.c_str(), O_WRONLY | O_CREAT | (exclusive ? O_EXCL : O_TRUNC), 0600);
  if (fd < 0) throw std::runtime_error("cannot create " + target.string() + ": " + std::strerror(errno));
  bool ok = ::write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size()) && ::fsync(fd) == 0;
  ::close(fd);
  if (!ok) throw std::runtime_error("cannot write " + target.string());
  if (!exclusive) std::filesystem::rename(target, path);
}

}  // namespace

crypto::SecretBox LoadSecretKeys(const Config& config) {
  Keyring ring;
  if (!config.secret_key_hex.empty()) {
    auto current = static_cast<unsigned char>(config.secret_key_id);
    Add(ring, {current, DecodeKey(config.secret_key_hex, "SWITCHBOARD_SECRET_KEY")}, "SWITCHBOARD_SECRET_KEY");
    AddOldKeys(ring, config.old_secret_keys);
    return crypto::SecretBox(std::move(ring), current);
  }
  const std::filesystem::path path = config.secret_key_file;
  if (!std::filesystem::exists(path)) {
    WriteKeyFile(path, "1:" + crypto::HexEncode(RandomKey()) + "\n", true);
    spdlog::warn(
        "SWITCHBOARD_SECRET_KEY is not set: generated a key into {} (mode 0600). Keep it: channel secrets are "
        "encrypted with it. Set SWITCHBOARD_SECRET_KEY in production.",
        path.string());
  }
  auto load = [path, old_keys = config.old_secret_keys] {
    auto loaded = ReadKeyFile(path);
    AddOldKeys(loaded.first, old_keys);
    return loaded;
  };
  auto [file_ring, current] = load();
  auto reload = [load]() -> std::optional<std::pair<Keyring, unsigned char>> {
    try {
      return load();
    } catch (const std::exception& e) {
      spdlog::error("reading the secret key file again failed: {}", e.what());
      return std::nullopt;
    }
  };
  return crypto::SecretBox(std::move(file_ring), current, reload);
}

int RotateKeyFile(const Config& config) {
  if (!config.secret_key_hex.empty()) {
    throw std::runtime_error(
        "SWITCHBOARD_SECRET_KEY is set: rotate by setting a new key and SWITCHBOARD_SECRET_KEY_ID, moving the old "
        "one to SWITCHBOARD_OLD_SECRET_KEYS, then `switchboard reencrypt-secrets`");
  }
  const std::filesystem::path path = config.secret_key_file;
  auto [ring, current] = ReadKeyFile(path);
  int next = ring.rbegin()->first + 1;
  if (next > 255) throw std::runtime_error(path.string() + " already holds key id 255; remove retired keys first");
  std::string text = std::to_string(next) + ":" + crypto::HexEncode(RandomKey()) + "\n";
  text += std::to_string(current) + ":" + crypto::HexEncode(ring.at(current)) + "\n";
  for (const auto& [id, key] : ring) {
    if (id != current) text += std::to_string(id) + ":" + crypto::HexEncode(key) + "\n";
  }
  WriteKeyFile(path, text, false);
  return next;
}

}  // namespace sb::app
