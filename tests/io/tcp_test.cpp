// tcp_test: TCP over loopback on the 2-worker runtime — round trips, partial reads and large
// transfers, EOF, refused and timed-out connects, a peer reset mid-transfer, split halves,
// vectored writes, socket options, cross-worker wakes and 200 concurrent connections.
#include "io/io_test_util.hpp"

#include <corio/net/tcp_listener.hpp>
#include <corio/net/tcp_stream.hpp>
#include <corio/runtime/join_handle.hpp>
#include <corio/runtime/runtime.hpp>
#include <corio/runtime/time.hpp>

#include <gtest/gtest.h>

#include <array>
#include <atomic>
#include <chrono>
#include <cstring>
#include <mutex>
#include <set>
#include <thread>
#include <vector>

using namespace std::chrono_literals;
using corio::net::socket_addr;
using corio::net::tcp_listener;
using corio::net::tcp_stream;
using corio::testing::bytes_of;
using corio::testing::pattern;

namespace {

tcp_listener listen_local(int backlog = 1024) {
    corio::net::tcp_listen_options o;
    o.backlog = backlog;
    auto l = tcp_listener::bind(socket_addr::ipv4_loopback(0), o);
    EXPECT_TRUE(l) << l.error().message();
    return std::move(*l);
}

// Echoes until EOF; returns the bytes echoed.
corio::task<std::size_t> echo_conn(tcp_stream s) {
    std::array<std::byte, 4096> buf;
    std::size_t total = 0;
    for (;;) {
        auto n = co_await s.read(buf);
        if (!n || *n == 0) co_return total;
        auto chunk = std::span<const std::byte>(buf.data(), *n);
        auto w = co_await s.write_all(chunk);
        if (!w) co_return total;
        total += *n;
    }
}

corio::task<void> echo_server(tcp_listener* l, int connections) {
    std::vector<corio::join_handle<std::size_t>> hs;
    for (int i = 0; i < connections; ++i) {
        auto c = co_await l->accept();
        if (!c) {
            ADD_FAILURE() << c.error().message();
            co_return;
        }
        hs.push_back(corio::spawn(echo_conn(std::move(c->first))));
    }
    for (auto& h : hs) co_await h;
}

// --- round trip -------------------------------------------------------------------------------

corio::task<std::string> round_trip_main() {
    tcp_listener l = listen_local();
    const socket_addr addr = *l.local_addr();
    auto server = corio::spawn(echo_server(&l, 1));
    auto s = co_await tcp_stream::connect(addr);
    if (!s) co_return "connect: " + s.error().message();
    auto w = co_await s->write_all(bytes_of("hello corio"));
    if (!w || *w != 11) co_return "write failed";
    std::array<char, 11> got{};
    auto r = co_await s->read_exact(got);
    if (!r) co_return "read: " + r.error().message();
    s->shutdown().value();
    std::array<char, 4> tail{};
    auto eof = co_await s->read(tail);
    if (!eof || *eof != 0) co_return "expected EOF after the server closed";
    co_await server;
    co_return std::string(got.data(), got.size());
}

TEST(tcp, loopback_round_trip_and_eof) {
    corio::runtime rt(corio::testing::two_workers());
    EXPECT_EQ(rt.block_on(round_trip_main()), "hello corio");
}

TEST(tcp, loopback_round_trip_on_current_thread_runtime) {
    corio::runtime_options o;
    o.flavor = corio::runtime_flavor::current_thread;
    corio::runtime rt(o);
    EXPECT_EQ(rt.block_on(round_trip_main()), "hello corio");
}

// --- large transfers: partial reads and writes --------------------------------------------------

corio::task<std::size_t> verify_reader(tcp_stream s, std::uint64_t seed) {
    std::array<std::byte, 1000> buf;  // odd size: reads split the writer's chunks
    std::size_t off = 0;
    for (;;) {
        auto n = co_await s.read(buf);
        if (!n) {
            ADD_FAILURE() << n.error().message();
            co_return off;
        }
        if (*n == 0) co_return off;
        for (std::size_t i = 0; i < *n; ++i)
            if (buf[i] != corio::testing::pattern_byte(seed, off + i)) {
                ADD_FAILURE() << "byte " << off + i << " differs";
                co_return off;
            }
        off += *n;
    }
}

corio::task<std::size_t> large_transfer_main(std::size_t total) {
    tcp_listener l = listen_local();
    const socket_addr addr = *l.local_addr();
    auto s = co_await tcp_stream::connect(addr);
    auto c = co_await l.accept();
    if (!s || !c) co_return 0;
    auto reader = corio::spawn(verify_reader(std::move(c->first), 7));
    const auto data = pattern(7, total);
    // Write in uneven slices with plain write (partial writes are handled by the loop).
    std::size_t off = 0;
    while (off < total) {
        const std::size_t len = std::min<std::size_t>(total - off, 333'333);
        auto slice = std::span<const std::byte>(data.data() + off, len);
        auto w = co_await s->write(slice);
        if (!w || *w == 0) co_return 0;
        off += *w;
    }
    s->shutdown().value();
    auto got = co_await reader;
    co_return got.value();
}

TEST(tcp, large_transfer_with_partial_reads_and_writes_arrives_intact) {
    corio::runtime rt(corio::testing::two_workers());
    constexpr std::size_t total = 16 * 1024 * 1024;
    EXPECT_EQ(rt.block_on(large_transfer_main(total)), total);
}

// --- vectored write, split halves ---------------------------------------------------------------

corio::task<std::string> vectored_main() {
    tcp_listener l = listen_local();
    auto s = co_await tcp_stream::connect(*l.local_addr());
    auto c = co_await l.accept();
    std::string a = "vec", b = "tor", d = "ed!";
    std::array<::iovec, 3> iov{};
    iov[0] = {a.data(), a.size()};
    iov[1] = {b.data(), b.size()};
    iov[2] = {d.data(), d.size()};
    auto w = co_await s->write_vectored(iov);
    if (!w || *w != 9) co_return "short vectored write";
    std::array<char, 9> got{};
    auto r = co_await c->first.read_exact(got);
    if (!r) co_return r.error().message();
    co_return std::string(got.data(), got.size());
}

TEST(tcp, vectored_write_sends_every_buffer_in_order) {
    corio::runtime rt(corio::testing::two_workers());
    EXPECT_EQ(rt.block_on(vectored_main()), "vectored!");
}

corio::task<std::size_t> half_reader(corio::net::tcp_read_half rd, std::size_t expect) {
    std::vector<std::byte> got(expect);
    auto r = co_await rd.read_exact(got);
    if (!r) co_return 0;
    co_return got == pattern(3, expect) ? expect : 0;
}

corio::task<bool> half_writer(corio::net::tcp_write_half wr, std::size_t n) {
    const auto data = pattern(3, n);
    auto w = co_await wr.write_all(data);
    co_return w && *w == n;
}

corio::task<std::size_t> split_main() {
    constexpr std::size_t n = 2 * 1024 * 1024;
    tcp_listener l = listen_local();
    auto s = co_await tcp_stream::connect(*l.local_addr());
    auto c = co_await l.accept();
    auto echo = corio::spawn(echo_conn(std::move(c->first)));
    auto [rd, wr] = std::move(*s).into_split();
    // Both halves at once, from two tasks: the echo only drains if the reader keeps up.
    auto rh = corio::spawn(half_reader(std::move(rd), n));
    auto wh = corio::spawn(half_writer(std::move(wr), n));
    const bool wrote = (co_await wh).value();
    const std::size_t got = (co_await rh).value();
    echo.abort();
    co_return wrote ? got : 0;
}

TEST(tcp, split_halves_read_and_write_concurrently_from_two_tasks) {
    corio::runtime rt(corio::testing::two_workers());
    EXPECT_EQ(rt.block_on(split_main()), 2u * 1024 * 1024);
}

// --- errors -------------------------------------------------------------------------------------

corio::task<std::error_code> refused_main() {
    socket_addr addr;
    {
        tcp_listener l = listen_local();
        addr = *l.local_addr();
    }  // closed: nothing listens on the port now
    auto s = co_await tcp_stream::connect(addr);
    co_return s ? std::error_code() : s.error();
}

TEST(tcp, connect_to_a_closed_port_is_refused) {
    corio::runtime rt(corio::testing::two_workers());
    EXPECT_EQ(rt.block_on(refused_main()), std::errc::connection_refused);
}

// A listener with backlog 1 that never accepts: once its queue is full the kernel drops SYNs,
// so a further connect hangs until its timeout.
corio::task<int> connect_timeout_main() {
    tcp_listener l = listen_local(1);
    const socket_addr addr = *l.local_addr();
    std::vector<tcp_stream> held;
    int timed_out = 0;
    for (int i = 0; i < 8 && timed_out == 0; ++i) {
        const auto t0 = std::chrono::steady_clock::now();
        auto r = co_await corio::timeout(300ms, tcp_stream::connect(addr));
        const auto took = std::chrono::steady_clock::now() - t0;
        if (!r) {
            ++timed_out;
            EXPECT_GE(took, 250ms);
            EXPECT_LT(took, 10s);  // generous hang guard
        } else if (*r) {
            held.push_back(std::move(**r));
        } else {
            ADD_FAILURE() << "connect failed: " << r->error().message();
        }
    }
    co_return timed_out;
}

TEST(tcp, connect_with_timeout_to_a_full_backlog_ends_with_elapsed) {
    corio::runtime rt(corio::testing::two_workers());
    EXPECT_EQ(rt.block_on(connect_timeout_main()), 1);
}

// The server reads a little, then resets the connection (SO_LINGER 0 + close) while the client
// keeps writing: the client's writes fail with a reset or broken pipe; the runtime and other
// connections carry on.
corio::task<void> reset_after_some(tcp_listener* l) {
    auto c = co_await l->accept();
    if (!c) co_return;
    std::array<std::byte, 4096> buf;
    auto n = co_await c->first.read(buf);
    EXPECT_TRUE(n && *n > 0);
    c->first.set_linger(0s).value();
}  // dropped: RST

corio::task<std::string> reset_main() {
    tcp_listener l = listen_local();
    auto server = corio::spawn(reset_after_some(&l));
    auto s = co_await tcp_stream::connect(*l.local_addr());
    if (!s) co_return "connect failed";
    const auto chunk = pattern(1, 64 * 1024);
    std::error_code err;
    for (int i = 0; i < 100000 && !err; ++i) {
        auto w = co_await s->write_all(chunk);
        if (!w) err = w.error();
    }
    co_await server;
    // A read on the reset connection fails too (or sees EOF once the error was consumed).
    std::array<std::byte, 16> buf;
    auto r = co_await s->read(buf);
    EXPECT_TRUE(!r || *r == 0);
    // Another connection on the same runtime still works.
    auto echo = corio::spawn(echo_server(&l, 1));
    auto s2 = co_await tcp_stream::connect(*l.local_addr());
    (co_await s2->write_all(bytes_of("ok"))).value();
    std::array<char, 2> ok{};
    (co_await s2->read_exact(ok)).value();
    s2->shutdown().value();
    co_await echo;
    if (err != std::errc::connection_reset && err != std::errc::broken_pipe) co_return "unexpected: " + err.message();
    co_return std::string(ok.data(), 2);
}

TEST(tcp, peer_reset_mid_transfer_fails_that_connection_only) {
    corio::runtime rt(corio::testing::two_workers());
    EXPECT_EQ(rt.block_on(reset_main()), "ok");
}

// --- options and addresses ------------------------------------------------------------------------

corio::task<bool> options_main() {
    tcp_listener l = listen_local();
    auto s = co_await tcp_stream::connect(*l.local_addr());
    auto c = co_await l.accept();
    EXPECT_TRUE(s && c);
    EXPECT_FALSE(*s->nodelay());
    s->set_nodelay(true).value();
    EXPECT_TRUE(*s->nodelay());
    EXPECT_EQ(*s->peer_addr(), *l.local_addr());
    EXPECT_EQ(*c->first.peer_addr(), *s->local_addr());
    EXPECT_EQ(c->second, *s->local_addr());
    co_return true;
}

TEST(tcp, nodelay_and_addresses) {
    corio::runtime rt(corio::testing::two_workers());
    EXPECT_TRUE(rt.block_on(options_main()));
}

TEST(tcp, listener_reuse_port_lets_two_listeners_share_a_port) {
    corio::net::tcp_listen_options o;
    o.reuse_port = true;
    auto a = tcp_listener::bind(socket_addr::ipv4_loopback(0), o);
    ASSERT_TRUE(a);
    auto b = tcp_listener::bind(*a->local_addr(), o);
    ASSERT_TRUE(b) << b.error().message();
    corio::net::tcp_listen_options plain;
    plain.reuse_address = false;
    auto c = tcp_listener::bind(*a->local_addr(), plain);
    ASSERT_FALSE(c);
    EXPECT_EQ(c.error(), std::errc::address_in_use);
}

TEST(tcp, ipv6_loopback_round_trip) {
    corio::runtime rt(corio::testing::two_workers());
    auto l = tcp_listener::bind("[::1]:0");
    if (!l) GTEST_SKIP() << "no IPv6 loopback: " << l.error().message();
    auto main = [](tcp_listener* l) -> corio::task<std::string> {
        auto echo = corio::spawn(echo_server(l, 1));
        auto s = co_await tcp_stream::connect(*l->local_addr());
        if (!s) co_return s.error().message();
        (co_await s->write_all(bytes_of("six"))).value();
        std::array<char, 3> got{};
        (co_await s->read_exact(got)).value();
        s->shutdown().value();
        co_await echo;
        co_return std::string(got.data(), 3);
    };
    EXPECT_EQ(rt.block_on(main(&*l)), "six");
}

// --- cross-worker wakes -------------------------------------------------------------------------

// The client task alternates a socket round trip with a sleep; timer and io wakes move it between
// the two workers, so its operations are submitted on one ring and completed or cancelled from
// another. Runs until it was seen on both workers (or many iterations).
corio::task<std::size_t> migrating_main() {
    tcp_listener l = listen_local();
    auto echo = corio::spawn(echo_server(&l, 1));
    auto s = co_await tcp_stream::connect(*l.local_addr());
    std::set<std::thread::id> threads;
    std::array<std::byte, 8> buf;
    for (int i = 0; i < 3000 && (threads.size() < 2 || i < 200); ++i) {
        const auto msg = pattern(static_cast<std::uint64_t>(i), 8);
        (co_await s->write_all(msg)).value();
        threads.insert(std::this_thread::get_id());
        auto r = co_await s->read_exact(buf);
        if (!r || !std::equal(buf.begin(), buf.end(), msg.begin())) {
            ADD_FAILURE() << "round trip " << i << " broken";
            break;
        }
        threads.insert(std::this_thread::get_id());
        if (i % 3 == 0) co_await corio::sleep(100us);
    }
    s->shutdown().value();
    co_await echo;
    co_return threads.size();
}

TEST(tcp, a_task_migrating_between_workers_keeps_its_io_working) {
    corio::runtime rt(corio::testing::two_workers());
    EXPECT_EQ(rt.block_on(migrating_main()), 2u);
}

// --- many connections -----------------------------------------------------------------------------

corio::task<bool> client(socket_addr addr, int id, int rounds) {
    auto s = co_await tcp_stream::connect(addr);
    if (!s) {
        ADD_FAILURE() << "connect: " << s.error().message();
        co_return false;
    }
    std::array<std::byte, 64> buf;
    for (int i = 0; i < rounds; ++i) {
        const auto msg = pattern(static_cast<std::uint64_t>(id) * 1000 + static_cast<std::uint64_t>(i), 64);
        auto w = co_await s->write_all(msg);
        if (!w) co_return false;
        auto r = co_await s->read_exact(buf);
        if (!r || !std::equal(buf.begin(), buf.end(), msg.begin())) co_return false;
    }
    co_return true;
}

corio::task<int> many_main(int clients, int rounds) {
    tcp_listener l = listen_local();
    auto server = corio::spawn(echo_server(&l, clients));
    std::vector<corio::join_handle<bool>> hs;
    for (int i = 0; i < clients; ++i) hs.push_back(corio::spawn(client(*l.local_addr(), i, rounds)));
    int ok = 0;
    for (auto& h : hs) ok += (co_await h).value() ? 1 : 0;
    co_await server;
    co_return ok;
}

TEST(tcp, two_hundred_clients_times_one_hundred_round_trips) {
    corio::runtime rt(corio::testing::two_workers());
    EXPECT_EQ(rt.block_on(many_main(200, 100)), 200);
}

}  // namespace
