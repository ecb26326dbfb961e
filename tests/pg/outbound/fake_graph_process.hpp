#pragma once
// tests/support/fake_graph.py as a child process of the test: started on a
// free port, asked what it received, scripted to fail; it exits when the test
// closes its stdin (or dies).
#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <nlohmann/json.hpp>

#include <stdexcept>
#include <string>
#include <vector>

namespace sb::pgtest {

class FakeGraph {
 public:
  /// Plain HTTP; HTTPS when given a PEM certificate and key.
  explicit FakeGraph(const std::string& tls_cert = "", const std::string& tls_key = "") : tls_(!tls_cert.empty()) {
    int out[2], in[2];
    if (pipe2(out, O_CLOEXEC) != 0 || pipe2(in, O_CLOEXEC) != 0) throw std::runtime_error("pipe failed");
    std::string script = std::string(SB_SOURCE_DIR) + "/tests/support/fake_graph.py";
    // Debian's python3 (tools/dev installs it), not whatever python3 is first on PATH.
    std::vector<std::string> args = {"/usr/bin/python3", script};
    if (tls_) args.insert(args.end(), {"--tls-cert", tls_cert, "--tls-key", tls_key});
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    pid_ = fork();
    if (pid_ < 0) throw std::runtime_error("fork failed");
    if (pid_ == 0) {
      dup2(in[0], 0);
      dup2(out[1], 1);
      execvp(argv[0], argv.data());
      _exit(127);
    }
    close(out[1]);
    close(in[0]);
    stdin_ = in[1];
    std::string line;
    char c;
    while (read(out[0], &c, 1) == 1 && c != '\n') line += c;
    close(out[0]);
    if (line.empty()) throw std::runtime_error("fake_graph.py did not print its port (" + script + ")");
    port_ = static_cast<unsigned short>(std::stoi(line));
  }

  ~FakeGraph() {
    close(stdin_);
    kill(pid_, SIGTERM);
    int status = 0;
    waitpid(pid_, &status, 0);
  }

  FakeGraph(const FakeGraph&) = delete;
  FakeGraph& operator=(const FakeGraph&) = delete;

  unsigned short port() const { return port_; }
  std::string BaseUrl() const {
    return std::string(tls_ ? "https" : "http") + "://127.0.0.1:" + std::to_string(port_) + "/v21.0";
  }

  /// Every request the fake answered (control calls excluded), oldest
  /// first. (Control calls speak plain HTTP: not for an HTTPS fake.)
  std::vector<nlohmann::json> Requests() {
    auto body = nlohmann::json::parse(Call(boost::beast::http::verb::get, "/_requests", ""));
    return body["requests"].get<std::vector<nlohmann::json>>();
  }

  /// Responses for the next requests, in order: [{"status", "headers", "body", "delay_ms", "close"}].
  void Script(const nlohmann::json& responses) {
    Call(boost::beast::http::verb::post, "/_script", nlohmann::json{{"responses", responses}}.dump());
  }

  /// Sends `body` as a test client would (for checks of the fake itself).
  std::string Call(boost::beast::http::verb verb, const std::string& target, const std::string& body) {
    namespace beast = boost::beast;
    boost::asio::io_context io;
    boost::asio::ip::tcp::socket socket(io);
    socket.connect({boost::asio::ip::make_address("127.0.0.1"), port_});
    beast::http::request<beast::http::string_body> request{verb, target, 11};
    request.set(beast::http::field::host, "127.0.0.1");
    request.set(beast::http::field::content_type, "application/json");
    request.keep_alive(false);
    request.body() = body;
    request.prepare_payload();
    beast::http::write(socket, request);
    beast::flat_buffer buffer;
    beast::http::response<beast::http::string_body> response;
    beast::http::read(socket, buffer, response);
    return response.body();
  }

 private:
  bool tls_ = false;
  pid_t pid_ = -1;
  int stdin_ = -1;
  unsigned short port_ = 0;
};

}  // namespace sb::pgtest
