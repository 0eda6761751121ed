// accept_exhaustion_test: an accept loop survives descriptor exhaustion (EMFILE). A forked child
// lowers RLIMIT_NOFILE so it can hold only two connections; clients keep connecting; the accept
// operation backs off instead of failing or spinning, and every client is served once the held
// connections are released. The child reports through its exit status (and its CPU time proves
// the back-off is not a busy loop).
#include "io/io_test_util.hpp"

#include <corio/net/tcp_listener.hpp>
#include <corio/net/tcp_stream.hpp>
#include <corio/runtime/join_handle.hpp>
#include <corio/runtime/runtime.hpp>
#include <corio/runtime/time.hpp>

#include <gtest/gtest.h>

#include <arpa/inet.h>
#include <dirent.h>
#include <netinet/in.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <thread>
#include <vector>

using namespace std::chrono_literals;
using corio::net::tcp_listener;
using corio::net::tcp_stream;

namespace {

constexpr int total_clients = 8;

// The limit that leaves exactly `free` descriptor numbers allocatable: RLIMIT_NOFILE bounds
// the numbers handed out, and gaps below the highest open descriptor count as free.
rlim_t limit_leaving(int free) {
    std::vector<bool> open(4096, false);
    if (DIR* d = ::opendir("/proc/self/fd")) {
        const int self = ::dirfd(d);
        while (dirent* e = ::readdir(d)) {
            const int fd = std::atoi(e->d_name);
            if (e->d_name[0] != '.' && fd != self && fd < 4096) open[static_cast<std::size_t>(fd)] = true;
        }
        ::closedir(d);
    }
    int fd = 0;
    for (int seen = 0;; ++fd) {
        if (!open[static_cast<std::size_t>(fd)] && ++seen == free) break;
    }
    return static_cast<rlim_t>(fd + 1);
}

corio::task<void> hold(tcp_stream s) {
    co_await corio::sleep(300ms);  // keeps the descriptor while accept hits EMFILE
    (void)s;
}

corio::task<int> serve(tcp_listener* l) {
    std::vector<corio::join_handle<void>> holders;
    for (int i = 0; i < total_clients; ++i) {
        auto c = co_await l->accept();
        if (!c) {
            std::fprintf(stderr, "accept failed: %s\n", c.error().message().c_str());
            co_return 3;
        }
        holders.push_back(corio::spawn(hold(std::move(c->first))));
    }
    for (auto& h : holders) co_await h;
    co_return 0;
}

int child_main(int port_pipe) {
    corio::runtime rt(corio::testing::two_workers());
    auto l = tcp_listener::bind(corio::net::socket_addr::ipv4_loopback(0));
    if (!l) return 4;
    const std::uint16_t port = l->local_addr()->port();
    if (::write(port_pipe, &port, sizeof port) != sizeof port) return 5;
    ::close(port_pipe);
    // Room for exactly two more descriptors (the runtime's rings/epoll are open already).
    rlimit rl{};
    ::getrlimit(RLIMIT_NOFILE, &rl);
    rl.rlim_cur = limit_leaving(2);
    if (::setrlimit(RLIMIT_NOFILE, &rl) != 0) return 6;
    const auto wall0 = std::chrono::steady_clock::now();
    rusage ru0{};
    ::getrusage(RUSAGE_SELF, &ru0);
    const int rc = rt.block_on(serve(&*l));
    rusage ru1{};
    ::getrusage(RUSAGE_SELF, &ru1);
    const auto wall = std::chrono::steady_clock::now() - wall0;
    auto us = [](const timeval& t) { return std::int64_t(t.tv_sec) * 1'000'000 + t.tv_usec; };
    const std::int64_t cpu = us(ru1.ru_utime) - us(ru0.ru_utime) + us(ru1.ru_stime) - us(ru0.ru_stime);
    const std::int64_t wall_us = std::chrono::duration_cast<std::chrono::microseconds>(wall).count();
    if (rc != 0) return rc;
    if (wall < 500ms) return 7;         // it must have waited for the held connections
    if (cpu * 2 > wall_us) return 8;    // a spinning accept would burn a core
    return 0;
}

#if defined(__SANITIZE_ADDRESS__)
#define CORIO_TEST_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define CORIO_TEST_ASAN 1
#endif
#endif

TEST(accept_exhaustion, accept_loop_backs_off_on_emfile_and_serves_everyone) {
#ifdef CORIO_TEST_ASAN
    // Not under ASan+UBSan: this test exhausts the descriptor table on purpose, and UBSan's vptr
    // check (sanitizer_common's IsAccessibleMemoryRange) needs a free descriptor — it probes
    // memory through a pipe — so every virtual call on a live object then "fails" the check
    // (seen: scheduler_base on the live scheduler, confirmed with __asan_describe_address). The
    // release, clang and TSan builds run it.
    GTEST_SKIP() << "UBSan's vptr check needs a free descriptor; this test has none on purpose";
#endif
    int fds[2];
    ASSERT_EQ(::pipe(fds), 0);
    const pid_t pid = ::fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
        ::close(fds[0]);
        ::_exit(child_main(fds[1]));
    }
    ::close(fds[1]);
    std::uint16_t port = 0;
    ASSERT_EQ(::read(fds[0], &port, sizeof port), static_cast<ssize_t>(sizeof port));
    ::close(fds[0]);
    // Plain blocking clients: the kernel completes their handshakes in the backlog whether or
    // not the child can accept yet.
    std::vector<int> clients;
    for (int i = 0; i < total_clients; ++i) {
        const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
        sockaddr_in a{};
        a.sin_family = AF_INET;
        a.sin_port = htons(port);
        a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        ASSERT_EQ(::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
        clients.push_back(fd);
    }
    int status = 0;
    const auto deadline = std::chrono::steady_clock::now() + 60s;
    pid_t r = 0;
    while ((r = ::waitpid(pid, &status, WNOHANG)) == 0 && std::chrono::steady_clock::now() < deadline)
        std::this_thread::sleep_for(10ms);
    if (r == 0) {
        ::kill(pid, SIGKILL);
        ::waitpid(pid, &status, 0);
        FAIL() << "the child hung";
    }
    for (int fd : clients) ::close(fd);
    ASSERT_TRUE(WIFEXITED(status)) << "child died with signal " << (WIFSIGNALED(status) ? WTERMSIG(status) : 0);
    EXPECT_EQ(WEXITSTATUS(status), 0);
}

}  // namespace
