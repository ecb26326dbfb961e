#pragma once
/// Command-line options of `sb-agents`.
#include <chrono>
#include <string>
#include <vector>

#include "target_url.hpp"

namespace sb::agents {

struct AgentOptions {
  std::string url_text;
  client::TargetUrl url;    // base URL of one switchboard process on this machine
  std::string path_prefix;  // the URL's path without a trailing '/', usually empty
  std::string tokens_file;
  std::vector<std::string> tokens;  // one agent (one WebSocket) per token
  double duration_s = 60;
  bool resolve = false;
  std::chrono::milliseconds hold{200};
  std::chrono::milliseconds timeout{5000};  // connect, handshake, one resolve request
  std::chrono::milliseconds stop_grace{3000};
  std::string ready_file;
  std::string frames_file;  // each conversation's first assignment frame: conversation id, arrival (µs since the epoch)
  bool json = false;
  bool quiet = false;
};

}  // namespace sb::agents
