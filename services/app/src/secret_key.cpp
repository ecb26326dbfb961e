#include "secret_key.hpp"

#include <fcntl.h>
#include <openssl/rand.h>
#include <spdlog/spdlog.h>
#include <sys/stat.h>
#include <unistd.h>

#include <array>
#include <filesystem>
#include <fstream>
#include <stdexcept>

#include "sb/common/crypto.hpp"

namespace sb::app {

namespace {

std::string Decode(const std::string& hex, const std::string& where) {
  std::string trimmed = hex;
  while (!trimmed.empty() && std::isspace(static_cast<unsigned char>(trimmed.back()))) trimmed.pop_back();
  auto raw = crypto::HexDecode(trimmed);
  if (!raw || raw->size() != 32) throw std::runtime_error(where + " must hold 64 hex characters (a 256-bit key)");
  return *raw;
}

}  // namespace

std::string LoadOrCreateSecretKey(const Config& config) {
  if (!config.secret_key_hex.empty()) return Decode(config.secret_key_hex, "SWITCHBOARD_SECRET_KEY");
  const std::filesystem::path path = config.secret_key_file;
  if (std::filesystem::exists(path)) {
    std::ifstream in(path);
    std::string hex((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    return Decode(hex, path.string());
  }
  std::array<unsigned char, 32> raw{};
  if (RAND_bytes(raw.data(), raw.size()) != 1) throw std::runtime_error("cannot generate a secret key");
  std::string key(reinterpret_cast<const char*>(raw.data()), raw.size());
  if (path.has_parent_path()) std::filesystem::create_directories(path.parent_path());
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL, 0600);
  if (fd < 0) throw std::runtime_error("cannot create " + path.string() + ": " + std::strerror(errno));
  std::string hex = crypto::HexEncode(key) + "\n";
  bool ok = ::write(fd, hex.data(), hex.size()) == static_cast<ssize_t>(hex.size()) && ::fsync(fd) == 0;
  ::close(fd);
  if (!ok) throw std::runtime_error("cannot write " + path.string());
  spdlog::warn(
      "SWITCHBOARD_SECRET_KEY is not set: generated a key into {} (mode 0600). Keep it: channel secrets are "
      "encrypted with it. Set SWITCHBOARD_SECRET_KEY in production.",
      path.string());
  return key;
}

}  // namespace sb::app
