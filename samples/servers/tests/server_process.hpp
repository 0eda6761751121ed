// samples/servers/tests/server_process.hpp — run a sample server as a child process and talk to
// it over real sockets (blocking, from the test thread), for the servers' integration tests.
//
//     auto srv = server_process::start(ECHO_SERVER_PATH, {"--deadline-ms", "2000"});   // port 0
//     ASSERT_TRUE(srv) ;  srv->port() is what the server printed ("listening on 127.0.0.1:<port>")
//     client c(srv->port());  c.send("hi");  c.recv_exact(2);
//     auto st = srv->stop(SIGTERM, 20s);   // exit status, or std::nullopt if it hung (then killed)
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace servers_test {

class server_process {
public:
    /// Starts `path 0 extra...` with stdout on a pipe, and waits (up to 20 s) for its first line.
    /// nullopt (and a gtest failure message on stderr) if it did not announce a port. With
    /// `stderr_file`, the server's stderr goes to that file (truncated) instead of the test's.
    static std::optional<server_process> start(const std::string& path, const std::vector<std::string>& extra = {},
                                               const std::string& stderr_file = {});
    server_process(server_process&& o) noexcept;
    server_process& operator=(server_process&&) = delete;
    ~server_process();  // SIGKILL + reap if still running

    std::uint16_t port() const noexcept { return port_; }
    pid_t pid() const noexcept { return pid_; }

    /// Sends `sig` and waits up to `bound` for the exit. The raw waitpid status, or nullopt if it
    /// did not exit in time: then signal_report() goes to stderr, `sig` is sent once more (stderr
    /// says whether that one ended it, which tells a lost delivery from a stuck shutdown), and the
    /// server is SIGKILLed.
    std::optional<int> stop(int sig, std::chrono::milliseconds bound);

    /// What the kernel says of the server's signals and threads (/proc/<pid>/status and
    /// task/*/): pending (shared and per thread), blocked, caught, and each thread's name, state
    /// and wait channel. For failure messages: a delivery still pending in ShdPnd was never taken
    /// by any thread; one absent from it was taken and then lost inside the process.
    std::string signal_report() const;

private:
    server_process(pid_t pid, int out_fd, std::uint16_t port) noexcept : pid_(pid), out_fd_(out_fd), port_(port) {}
    pid_t pid_ = -1;
    int out_fd_ = -1;
    std::uint16_t port_ = 0;
};

/// Runs `path args...` to completion (up to 20 s); its exit status (raw waitpid status).
std::optional<int> run_to_exit(const std::string& path, const std::vector<std::string>& args);

/// A blocking TCP client on 127.0.0.1 with a 20 s receive timeout (a hang guard).
class client {
public:
    explicit client(std::uint16_t port);
    client(client&& o) noexcept : fd_(o.fd_) { o.fd_ = -1; }
    client& operator=(client&&) = delete;
    ~client();

    bool connected() const noexcept { return fd_ >= 0; }
    int fd() const noexcept { return fd_; }
    bool send(std::string_view data);
    /// Exactly n bytes; fewer if the connection ended (EOF, error, timeout).
    std::string recv_exact(std::size_t n);
    /// Everything until EOF (or error/timeout); `eof` tells whether a clean EOF ended it.
    std::string recv_to_eof(bool* eof = nullptr);
    /// True if nothing arrives (and no EOF) within `wait`.
    bool quiet_for(std::chrono::milliseconds wait);
    /// Closes with SO_LINGER 0: the peer sees a reset.
    void reset();
    void close();

    /// One HTTP response (status line, headers, Content-Length body). Status 0 on EOF/garbage.
    struct http_response {
        int status = 0;
        std::string head;
        std::string body;
        bool has_header(std::string_view line) const;  // "Connection: close" (exact header line)
    };
    http_response recv_http();

private:
    bool fill();  // reads more into buf_; false on EOF/error/timeout
    int fd_ = -1;
    std::string buf_;  // received but not yet returned
};

}  // namespace servers_test
