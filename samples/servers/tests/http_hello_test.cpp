// Integration tests of samples/servers/http_hello: the binary runs as a child process on port 0
// and the test talks HTTP/1.1 to it over real sockets, then stops it with SIGTERM.
#include "server_process.hpp"

#include <gtest/gtest.h>

#include <signal.h>
#include <sys/wait.h>

#include <atomic>
#include <string>
#include <thread>
#include <vector>

using namespace std::chrono_literals;
using servers_test::client;
using servers_test::server_process;

namespace {

const std::string http_path = HTTP_HELLO_SERVER_PATH;
constexpr auto exit_bound = 30s;  // hang guard only
const std::string get = "GET / HTTP/1.1\r\nHost: localhost\r\nUser-Agent: test\r\n\r\n";

void expect_clean_exit(server_process& srv) {
    auto st = srv.stop(SIGTERM, exit_bound);
    ASSERT_TRUE(st.has_value()) << "the server did not exit after SIGTERM";
    ASSERT_TRUE(WIFEXITED(*st)) << "killed by signal " << WTERMSIG(*st);
    EXPECT_EQ(WEXITSTATUS(*st), 0);
}

bool is_hello(const client::http_response& r) { return r.status == 200 && r.body == "Hello, World!"; }

}  // namespace

TEST(HttpHello, KeepAliveConcurrentClients) {
    auto srv = server_process::start(http_path);
    ASSERT_TRUE(srv);
    constexpr int clients = 8;
    constexpr int requests = 200;
    std::atomic<int> ok{0};
    std::vector<std::thread> threads;
    for (int c = 0; c < clients; ++c) {
        threads.emplace_back([&] {
            client cl(srv->port());
            if (!cl.connected()) return;
            for (int i = 0; i < requests; ++i) {
                if (!cl.send(get)) return;
                auto r = cl.recv_http();
                if (!is_hello(r) || r.has_header("Connection: close")) return;
            }
            ok.fetch_add(1);
        });
    }
    for (auto& t : threads) t.join();
    EXPECT_EQ(ok.load(), clients);
    expect_clean_exit(*srv);
}

TEST(HttpHello, PipelinedRequestsAreAllAnsweredInOrder) {
    auto srv = server_process::start(http_path);
    ASSERT_TRUE(srv);
    client cl(srv->port());
    std::string batch;
    for (int i = 0; i < 50; ++i) batch += get;
    // A request split across two writes, and a body that must be skipped, not parsed.
    batch += "POST /x HTTP/1.1\r\nContent-Length: 20\r\n\r\nGET / HTTP/1.1\r\n\r\n..";
    ASSERT_TRUE(cl.send(batch));
    ASSERT_TRUE(cl.send("GET / HTTP/1.1\r\nHo"));
    for (int i = 0; i < 51; ++i) ASSERT_TRUE(is_hello(cl.recv_http())) << "response " << i;
    EXPECT_TRUE(cl.quiet_for(100ms));  // the split request is not complete yet
    ASSERT_TRUE(cl.send("st: x\r\n\r\n"));
    EXPECT_TRUE(is_hello(cl.recv_http()));
    expect_clean_exit(*srv);
}

TEST(HttpHello, MalformedRequestGets400AndOthersKeepBeingServed) {
    auto srv = server_process::start(http_path);
    ASSERT_TRUE(srv);
    client good(srv->port());
    ASSERT_TRUE(good.send(get));
    ASSERT_TRUE(is_hello(good.recv_http()));

    const std::vector<std::string> bad = {
        "GARBAGE\r\n\r\n",                                  // no target, no version
        "GET / HTTP/2.0\r\n\r\n",                           // unsupported version
        "GET /a b HTTP/1.1\r\n\r\n",                        // space in the target
        "GET / HTTP/1.1\r\nNo colon here\r\n\r\n",          // header without ':'
        "GET / HTTP/1.1\r\nBad Name: x\r\n\r\n",            // space in a header name
        "GET / HTTP/1.1\r\nContent-Length: 1x\r\n\r\n",     // non-numeric length
        "GET / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n",
        "GET / HTTP/1.1\nHost: x\n\n" + get,                // bare LF line ends (then a valid request)
    };
    for (const auto& req : bad) {
        client c(srv->port());
        ASSERT_TRUE(c.send(get + req + get));  // one good request first: it is answered
        EXPECT_TRUE(is_hello(c.recv_http()));
        auto r = c.recv_http();
        EXPECT_EQ(r.status, 400) << req;
        EXPECT_TRUE(r.has_header("Connection: close"));
        bool eof = false;
        EXPECT_EQ(c.recv_to_eof(&eof), "") << "nothing after the 400 for " << req;
        EXPECT_TRUE(eof);
        ASSERT_TRUE(good.send(get));  // the other client is unaffected
        ASSERT_TRUE(is_hello(good.recv_http()));
    }
    expect_clean_exit(*srv);
}

TEST(HttpHello, OversizedHeadGets431) {
    auto srv = server_process::start(http_path, {"--max-line", "1024"});
    ASSERT_TRUE(srv);
    {
        client c(srv->port());  // a head that never ends
        ASSERT_TRUE(c.send("GET / HTTP/1.1\r\nX-Long: " + std::string(3000, 'a')));
        auto r = c.recv_http();
        EXPECT_EQ(r.status, 431);
        EXPECT_TRUE(r.has_header("Connection: close"));
    }
    {
        client c(srv->port());  // a complete head, but too long
        ASSERT_TRUE(c.send("GET / HTTP/1.1\r\nX-Long: " + std::string(1100, 'a') + "\r\n\r\n"));
        EXPECT_EQ(c.recv_http().status, 431);
    }
    client ok(srv->port());  // just under the limit is fine
    ASSERT_TRUE(ok.send("GET / HTTP/1.1\r\nX-Long: " + std::string(900, 'a') + "\r\n\r\n"));
    EXPECT_TRUE(is_hello(ok.recv_http()));
    expect_clean_exit(*srv);
}

TEST(HttpHello, ConnectionCloseAndHttp10AreAnsweredThenClosed) {
    auto srv = server_process::start(http_path);
    ASSERT_TRUE(srv);
    for (std::string req : {"GET / HTTP/1.1\r\nConnection: close\r\n\r\n", "GET / HTTP/1.0\r\n\r\n"}) {
        client c(srv->port());
        ASSERT_TRUE(c.send(req));
        auto r = c.recv_http();
        EXPECT_TRUE(is_hello(r));
        EXPECT_TRUE(r.has_header("Connection: close"));
        bool eof = false;
        c.recv_to_eof(&eof);
        EXPECT_TRUE(eof);
    }
    client keep(srv->port());  // HTTP/1.0 with keep-alive stays open
    for (int i = 0; i < 3; ++i) {
        ASSERT_TRUE(keep.send("GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n"));
        EXPECT_TRUE(is_hello(keep.recv_http()));
    }
    expect_clean_exit(*srv);
}

TEST(HttpHello, ClientsDisconnectingMidRequestDoNotDisturbOthers) {
    auto srv = server_process::start(http_path);
    ASSERT_TRUE(srv);
    client good(srv->port());
    for (int i = 0; i < 20; ++i) {
        client gone(srv->port());
        ASSERT_TRUE(gone.send("GET / HTTP/1.1\r\nHost: lo"));  // half a head
        if (i % 2) gone.reset();
        else gone.close();
        client body(srv->port());  // half a body
        ASSERT_TRUE(body.send("POST / HTTP/1.1\r\nContent-Length: 100\r\n\r\nabc"));
        body.close();
        ASSERT_TRUE(good.send(get));
        ASSERT_TRUE(is_hello(good.recv_http()));
    }
    expect_clean_exit(*srv);
}

TEST(HttpHello, SigtermLetsTheRequestInProgressFinish) {
    auto srv = server_process::start(http_path, {"--deadline-ms", "20000"});
    ASSERT_TRUE(srv);
    client idle(srv->port());
    ASSERT_TRUE(idle.send(get));
    ASSERT_TRUE(is_hello(idle.recv_http()));
    client busy(srv->port());
    ASSERT_TRUE(busy.send(get));
    ASSERT_TRUE(is_hello(busy.recv_http()));
    ASSERT_TRUE(busy.send("GET / HTTP/1.1\r\nHo"));  // a request in progress
    EXPECT_TRUE(busy.quiet_for(100ms));  // (and read by the server by now, most likely)

    ::kill(srv->pid(), SIGTERM);
    bool eof = false;
    EXPECT_EQ(idle.recv_to_eof(&eof), "");  // idle: closed at once
    EXPECT_TRUE(eof);
    ASSERT_TRUE(busy.send("st: x\r\n\r\n"));  // the request completes after the signal
    auto r = busy.recv_http();
    EXPECT_TRUE(is_hello(r));
    EXPECT_TRUE(r.has_header("Connection: close"));
    eof = false;
    busy.recv_to_eof(&eof);
    EXPECT_TRUE(eof);
    expect_clean_exit(*srv);
}
