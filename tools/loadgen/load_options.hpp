#pragma once
/// Command-line options of `sb-loadgen`.
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>

#include "target_url.hpp"

namespace sb::loadgen {

struct LoadOptions {
  std::string url_text;
  client::TargetUrl url;
  std::string secret;
  std::string kind = "whatsapp";  // whatsapp | messenger | instagram
  std::string channel_id;         // phone_number_id, page id or Instagram account id
  std::string account_id;
  std::string run_id;
  unsigned connections = 64;
  unsigned threads = 1;
  std::optional<double> duration_s;  // nullopt: bounded by `requests` only
  std::optional<std::uint64_t> requests;
  double rate = 0;  // 0 = closed loop
  std::uint64_t customers = 100000;
  std::size_t body_bytes = 1024;
  bool resend_failed = false;
  double max_retry_seconds = 60;
  std::chrono::milliseconds timeout{10000};
  bool json = false;
  bool quiet = false;
  std::string ack_file;
};

}  // namespace sb::loadgen
