// samples/servers/tests/server_process.cpp — see server_process.hpp.
#include "server_process.hpp"

#include <arpa/inet.h>
#include <dirent.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fmt/core.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <algorithm>
#include <initializer_list>
#include <thread>
#include <utility>

extern char** environ;

namespace servers_test {

namespace {

using clock_type = std::chrono::steady_clock;

pid_t spawn_with_stdout(const std::string& path, const std::vector<std::string>& args, int* out_fd,
                        const std::string& stderr_file = {}) {
    int pipefd[2] = {-1, -1};
    if (out_fd && ::pipe2(pipefd, O_CLOEXEC) != 0) return -1;
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    if (out_fd) posix_spawn_file_actions_adddup2(&fa, pipefd[1], STDOUT_FILENO);
    if (!stderr_file.empty())
        posix_spawn_file_actions_addopen(&fa, STDERR_FILENO, stderr_file.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    std::vector<char*> argv;
    argv.push_back(const_cast<char*>(path.c_str()));
    for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    pid_t pid = -1;
    int rc = ::posix_spawn(&pid, path.c_str(), &fa, nullptr, argv.data(), environ);
    posix_spawn_file_actions_destroy(&fa);
    if (out_fd) {
        ::close(pipefd[1]);
        if (rc != 0) {
            ::close(pipefd[0]);
            return -1;
        }
        *out_fd = pipefd[0];
    }
    return rc == 0 ? pid : -1;
}

// waitpid with a bound; nullopt if still running at the end.
std::optional<int> wait_for_exit(pid_t pid, std::chrono::milliseconds bound) {
    const auto deadline = clock_type::now() + bound;
    for (;;) {
        int status = 0;
        pid_t r = ::waitpid(pid, &status, WNOHANG);
        if (r == pid) return status;
        if (r < 0 && errno != EINTR) return std::nullopt;
        if (clock_type::now() >= deadline) return std::nullopt;
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
}

}  // namespace

std::optional<server_process> server_process::start(const std::string& path, const std::vector<std::string>& extra,
                                                    const std::string& stderr_file) {
    std::vector<std::string> args{"0"};
    args.insert(args.end(), extra.begin(), extra.end());
    int out = -1;
    pid_t pid = spawn_with_stdout(path, args, &out, stderr_file);
    if (pid < 0) {
        fmt::print(stderr, "cannot start {}: {}\n", path, std::strerror(errno));
        return std::nullopt;
    }
    // Read the first line: "listening on 127.0.0.1:<port>".
    std::string line;
    const auto deadline = clock_type::now() + std::chrono::seconds(20);
    while (line.find('\n') == std::string::npos && clock_type::now() < deadline) {
        ::pollfd p{out, POLLIN, 0};
        if (::poll(&p, 1, 100) <= 0) continue;
        char c[256];
        ssize_t n = ::read(out, c, sizeof c);
        if (n <= 0) break;
        line.append(c, static_cast<std::size_t>(n));
    }
    const std::string prefix = "listening on 127.0.0.1:";
    std::uint16_t port = 0;
    if (line.rfind(prefix, 0) == 0) port = static_cast<std::uint16_t>(std::atoi(line.c_str() + prefix.size()));
    if (port == 0) {
        fmt::print(stderr, "{} did not announce its port; first output: '{}'\n", path, line);
        ::kill(pid, SIGKILL);
        ::waitpid(pid, nullptr, 0);
        ::close(out);
        return std::nullopt;
    }
    return server_process(pid, out, port);
}

server_process::server_process(server_process&& o) noexcept : pid_(o.pid_), out_fd_(o.out_fd_), port_(o.port_) {
    o.pid_ = -1;
    o.out_fd_ = -1;
}

server_process::~server_process() {
    if (pid_ > 0) {
        ::kill(pid_, SIGKILL);
        ::waitpid(pid_, nullptr, 0);
    }
    if (out_fd_ >= 0) ::close(out_fd_);
}

std::optional<int> server_process::stop(int sig, std::chrono::milliseconds bound) {
    if (pid_ <= 0) return std::nullopt;
    ::kill(pid_, sig);
    auto st = wait_for_exit(pid_, bound);
    if (!st) {
        fmt::print(stderr, "server {} did not exit within {} ms of signal {}:\n{}", pid_, bound.count(), sig,
                   signal_report());
        ::kill(pid_, sig);
        const bool second = wait_for_exit(pid_, std::chrono::seconds(5)).has_value();
        fmt::print(stderr, "server {}: a second signal {} {}\n", pid_, sig,
                   second ? "ended it (the first delivery was lost)" : "did not end it either");
        if (second) return std::nullopt;  // reaped by wait_for_exit; still a failure
        ::kill(pid_, SIGKILL);
        ::waitpid(pid_, nullptr, 0);
    }
    pid_ = -1;
    return st;
}

namespace {
std::string read_small_file(const std::string& path) {
    std::string out;
    if (FILE* f = std::fopen(path.c_str(), "r")) {
        char buf[4096];
        std::size_t n;
        while ((n = std::fread(buf, 1, sizeof buf, f)) > 0) out.append(buf, n);
        std::fclose(f);
    }
    return out;
}

// The lines of a /proc status file whose key is in `keys`, joined on one line.
std::string status_fields(const std::string& status, std::initializer_list<const char*> keys) {
    std::string out;
    std::size_t pos = 0;
    while (pos < status.size()) {
        std::size_t end = status.find('\n', pos);
        if (end == std::string::npos) end = status.size();
        const std::string line = status.substr(pos, end - pos);
        for (const char* k : keys) {
            if (line.rfind(std::string(k) + ":", 0) == 0) {
                if (!out.empty()) out += "  ";
                std::string v = line.substr(std::strlen(k) + 1);
                v.erase(0, v.find_first_not_of(" \t"));
                out += std::string(k) + "=" + v;
            }
        }
        pos = end + 1;
    }
    return out;
}
}  // namespace

std::string server_process::signal_report() const {
    if (pid_ <= 0) return "(no process)\n";
    const std::string base = "/proc/" + std::to_string(pid_);
    std::string out = "  process: " + status_fields(read_small_file(base + "/status"),
                                                    {"State", "ShdPnd", "SigBlk", "SigIgn", "SigCgt"}) + "\n";
    if (DIR* d = ::opendir((base + "/task").c_str())) {
        while (dirent* e = ::readdir(d)) {
            if (e->d_name[0] == '.') continue;
            const std::string t = base + "/task/" + e->d_name;
            std::string comm = read_small_file(t + "/comm");
            if (!comm.empty() && comm.back() == '\n') comm.pop_back();
            out += "  thread " + std::string(e->d_name) + " '" + comm + "': " +
                   status_fields(read_small_file(t + "/status"), {"State", "SigPnd", "SigBlk"}) +
                   "  wchan=" + read_small_file(t + "/wchan") + "\n";
        }
        ::closedir(d);
    }
    return out;
}

std::optional<int> run_to_exit(const std::string& path, const std::vector<std::string>& args) {
    pid_t pid = spawn_with_stdout(path, args, nullptr);
    if (pid < 0) return std::nullopt;
    auto st = wait_for_exit(pid, std::chrono::seconds(20));
    if (!st) {
        ::kill(pid, SIGKILL);
        ::waitpid(pid, nullptr, 0);
    }
    return st;
}

client::client(std::uint16_t port) {
    int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return;
    ::timeval tv{20, 0};
    ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    ::sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::connect(fd, reinterpret_cast<const ::sockaddr*>(&a), sizeof a) != 0) {
        ::close(fd);
        return;
    }
    fd_ = fd;
}

client::~client() { close(); }

void client::close() {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
}

void client::reset() {
    if (fd_ < 0) return;
    ::linger l{1, 0};
    ::setsockopt(fd_, SOL_SOCKET, SO_LINGER, &l, sizeof l);
    close();
}

bool client::send(std::string_view data) {
    while (!data.empty()) {
        ssize_t n = ::send(fd_, data.data(), data.size(), MSG_NOSIGNAL);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return false;
        data.remove_prefix(static_cast<std::size_t>(n));
    }
    return true;
}

bool client::fill() {
    char tmp[16384];
    for (;;) {
        ssize_t n = ::recv(fd_, tmp, sizeof tmp, 0);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return false;
        buf_.append(tmp, static_cast<std::size_t>(n));
        return true;
    }
}

std::string client::recv_exact(std::size_t n) {
    while (buf_.size() < n && fill()) {
    }
    std::size_t k = std::min(n, buf_.size());
    std::string out = buf_.substr(0, k);
    buf_.erase(0, k);
    return out;
}

std::string client::recv_to_eof(bool* eof) {
    char tmp[16384];
    for (;;) {
        ssize_t n = ::recv(fd_, tmp, sizeof tmp, 0);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) {
            if (eof) *eof = n == 0;
            break;
        }
        buf_.append(tmp, static_cast<std::size_t>(n));
    }
    return std::exchange(buf_, std::string());
}

bool client::quiet_for(std::chrono::milliseconds wait) {
    if (!buf_.empty()) return false;
    ::pollfd p{fd_, POLLIN, 0};
    return ::poll(&p, 1, static_cast<int>(wait.count())) == 0;
}

bool client::http_response::has_header(std::string_view line) const {
    std::string needle = "\r\n" + std::string(line) + "\r\n";
    return head.find(needle) != std::string::npos;
}

client::http_response client::recv_http() {
    http_response r;
    std::size_t end;
    while ((end = buf_.find("\r\n\r\n")) == std::string::npos) {
        if (!fill()) return r;
    }
    r.head = buf_.substr(0, end + 4);
    buf_.erase(0, end + 4);
    if (r.head.rfind("HTTP/1.1 ", 0) != 0) return r;
    int status = std::atoi(r.head.c_str() + 9);
    std::size_t cl = 0;
    std::size_t p = r.head.find("\r\nContent-Length: ");
    if (p != std::string::npos) cl = static_cast<std::size_t>(std::atol(r.head.c_str() + p + 18));
    r.body = recv_exact(cl);
    if (r.body.size() == cl) r.status = status;
    return r;
}

}  // namespace servers_test
