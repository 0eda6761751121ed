// Integration tests of samples/servers/echo: the binary runs as a child process on port 0 and
// the test talks to it over real sockets, then stops it with SIGTERM and checks exit code 0.
#include "server_process.hpp"

#include <gtest/gtest.h>

#include <signal.h>
#include <sys/wait.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <fstream>
#include <iterator>
#include <string>
#include <thread>
#include <vector>

using namespace std::chrono_literals;
using servers_test::client;
using servers_test::server_process;

namespace {

const std::string echo_path = ECHO_SERVER_PATH;
constexpr auto exit_bound = 30s;  // hang guard only: a graceful exit takes milliseconds

void expect_clean_exit(server_process& srv) {
    auto st = srv.stop(SIGTERM, exit_bound);
    ASSERT_TRUE(st.has_value()) << "the server did not exit after SIGTERM";
    ASSERT_TRUE(WIFEXITED(*st)) << "killed by signal " << WTERMSIG(*st);
    EXPECT_EQ(WEXITSTATUS(*st), 0);
}

// A message whose bytes depend on the client and the round, all 256 byte values included.
std::string message(int client_id, int round, std::size_t size) {
    std::string m(size, '\0');
    for (std::size_t i = 0; i < size; ++i) m[i] = static_cast<char>((client_id * 31 + round * 7 + i) & 0xff);
    return m;
}

}  // namespace

TEST(EchoServer, ConcurrentClientsGetTheirOwnBytesBack) {
    auto srv = server_process::start(echo_path);
    ASSERT_TRUE(srv);
    constexpr int clients = 8;
    constexpr int rounds = 200;
    std::atomic<int> ok{0};
    std::vector<std::thread> threads;
    for (int c = 0; c < clients; ++c) {
        threads.emplace_back([&, c] {
            client cl(srv->port());
            if (!cl.connected()) return;
            for (int r = 0; r < rounds; ++r) {
                // Sizes from 1 byte to beyond the server's 4 KiB read buffer.
                std::size_t size = 1 + static_cast<std::size_t>((c * 977 + r * 131) % 9000);
                std::string m = message(c, r, size);
                if (!cl.send(m) || cl.recv_exact(size) != m) return;
            }
            ok.fetch_add(1);
        });
    }
    for (auto& t : threads) t.join();
    EXPECT_EQ(ok.load(), clients);
    expect_clean_exit(*srv);
}

TEST(EchoServer, ResetAndMidMessageDisconnectEndOnlyThoseConnections) {
    auto srv = server_process::start(echo_path);
    ASSERT_TRUE(srv);
    client steady(srv->port());
    ASSERT_TRUE(steady.connected());
    ASSERT_TRUE(steady.send("before"));
    ASSERT_EQ(steady.recv_exact(6), "before");

    for (int i = 0; i < 20; ++i) {
        client rude(srv->port());
        ASSERT_TRUE(rude.connected());
        ASSERT_TRUE(rude.send(std::string(100000, 'x')));  // more than the socket buffers: echo blocks
        if (i % 2 == 0) rude.reset();                      // RST while the server writes
        else rude.close();                                 // FIN without reading the echo
    }
    ASSERT_TRUE(steady.send("after"));
    EXPECT_EQ(steady.recv_exact(5), "after");
    client fresh(srv->port());
    ASSERT_TRUE(fresh.connected());
    ASSERT_TRUE(fresh.send("new"));
    EXPECT_EQ(fresh.recv_exact(3), "new");
    expect_clean_exit(*srv);
}

TEST(EchoServer, SigtermClosesIdleConnectionsAndExitsZero) {
    auto srv = server_process::start(echo_path, {"--deadline-ms", "20000"});
    ASSERT_TRUE(srv);
    std::vector<client> idle;
    for (int i = 0; i < 3; ++i) {
        idle.emplace_back(srv->port());
        ASSERT_TRUE(idle.back().connected());
        ASSERT_TRUE(idle.back().send("x"));
        ASSERT_EQ(idle.back().recv_exact(1), "x");  // accepted and served: now idle in a read
    }
    ::kill(srv->pid(), SIGTERM);
    // Idle connections close at shutdown (not after the 20 s deadline): each sees EOF.
    for (auto& c : idle) {
        bool eof = false;
        EXPECT_EQ(c.recv_to_eof(&eof), "");
        EXPECT_TRUE(eof);
    }
    expect_clean_exit(*srv);
}

TEST(EchoServer, MaxConnectionsMakesTheNextClientWaitNotFail) {
    auto srv = server_process::start(echo_path, {"--max-connections", "2"});
    ASSERT_TRUE(srv);
    client a(srv->port()), b(srv->port());
    ASSERT_TRUE(a.send("a") && a.recv_exact(1) == "a");
    ASSERT_TRUE(b.send("b") && b.recv_exact(1) == "b");
    client c(srv->port());  // connects (the kernel's backlog) but is not accepted yet
    ASSERT_TRUE(c.connected());
    ASSERT_TRUE(c.send("c"));
    EXPECT_TRUE(c.quiet_for(300ms));  // not served while two are open
    a.close();
    EXPECT_EQ(c.recv_exact(1), "c");  // a slot opened: c is accepted and served
    expect_clean_exit(*srv);
}

TEST(EchoServer, BadArgumentsExitTwo) {
    auto st = servers_test::run_to_exit(echo_path, {"not-a-port"});
    ASSERT_TRUE(st && WIFEXITED(*st));
    EXPECT_EQ(WEXITSTATUS(*st), 2);
    st = servers_test::run_to_exit(echo_path, {"0", "--max-connections"});
    ASSERT_TRUE(st && WIFEXITED(*st));
    EXPECT_EQ(WEXITSTATUS(*st), 2);
    st = servers_test::run_to_exit(echo_path, {"70000"});
    ASSERT_TRUE(st && WIFEXITED(*st));
    EXPECT_EQ(WEXITSTATUS(*st), 2);
}

// SIGQUIT (Go's habit): the server prints runtime::dump() on stderr and goes on serving. With
// CORIO_TASK_REGISTRY=1 the dump lists the tasks and what each waits on.
TEST(EchoServer, SigquitPrintsADumpAndTheServerGoesOn) {
    const std::string err_path = ::testing::TempDir() + "echo_sigquit_stderr.txt";
    ::setenv("CORIO_TASK_REGISTRY", "1", 1);
    auto srv = server_process::start(echo_path, {}, err_path);
    ::unsetenv("CORIO_TASK_REGISTRY");
    ASSERT_TRUE(srv);
    client c(srv->port());
    ASSERT_TRUE(c.send("hi"));
    ASSERT_EQ(c.recv_exact(2), "hi");  // a connection task now waits for the next bytes

    ASSERT_EQ(::kill(srv->pid(), SIGQUIT), 0);
    std::string dump;
    for (const auto give_up = std::chrono::steady_clock::now() + 20s; std::chrono::steady_clock::now() < give_up;) {
        std::ifstream in(err_path);
        dump.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
        if (dump.find("'sigquit-dump'") != std::string::npos) break;
        std::this_thread::sleep_for(10ms);
    }
    EXPECT_NE(dump.find("SIGQUIT: runtime dump"), std::string::npos) << dump;
    EXPECT_NE(dump.find("'sigquit-dump' [running]"), std::string::npos) << dump;
    // The accept loop and the connection are suspended, each on the socket it waits for.
    const std::string port = std::to_string(srv->port());
    EXPECT_NE(dump.find("accept on tcp 127.0.0.1:" + port), std::string::npos) << dump;
    EXPECT_NE(dump.find("read on tcp 127.0.0.1:" + port + " (peer 127.0.0.1:"), std::string::npos) << dump;

    ASSERT_TRUE(c.send("again"));
    EXPECT_EQ(c.recv_exact(5), "again");
    expect_clean_exit(*srv);
}
