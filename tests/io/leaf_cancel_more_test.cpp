// leaf_cancel_more_test: cancel() of the io leaves, continued (leaf_cancel_test.cpp states what
// each case checks): writes, datagrams, unix sockets, buf_reader, copy and files.
#include "io/io_test_util.hpp"
#include "support/manual_poll.hpp"
#include "io/leaf_cancel_support.hpp"

#include <corio/fs/file.hpp>
#include <corio/io/buf_reader.hpp>
#include <corio/io/buf_writer.hpp>
#include <corio/io/copy.hpp>
#include <corio/net/tcp_listener.hpp>
#include <corio/net/tcp_stream.hpp>
#include <corio/net/udp_socket.hpp>
#include <corio/net/unix_listener.hpp>
#include <corio/net/unix_stream.hpp>
#include <corio/runtime/join_handle.hpp>
#include <corio/runtime/runtime.hpp>
#include <corio/runtime/yield_now.hpp>

#include <gtest/gtest.h>

#include <unistd.h>

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdio>
#include <deque>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>
using corio::net::socket_addr;
using corio::net::tcp_listener;
using corio::net::tcp_stream;
using corio::testing::all_aa;
using corio::testing::bytes_of;
using corio::testing::conn_pair;
using corio::testing::connect_pair;
using corio::testing::counting_waker;
using corio::testing::drain_checking;
using corio::testing::new_waker;
using corio::testing::on_current_thread;
using corio::testing::pending_then_cancel;
using corio::testing::poll_once;
using corio::testing::poll_or_cancel;
using corio::testing::read_n;

namespace {

// --- writes -------------------------------------------------------------------------------------

constexpr std::size_t big = 32u << 20;  // more than loopback's socket buffers take at once

// `make(client, data)` builds the write leaf under test; polled by hand it fills the socket and
// stays pending; it is cancelled, then polled again while the peer drains: the peer must get
// every byte exactly once (a write the cancel did not stop is counted, one it stopped is sent
// again, never both). On the ring the queued send and its cancel reach the kernel together, with
// the socket still full: the cancel stops the send. With `complete_first`, the reader runs and
// the test waits (for w's wake, no timing) until the send completed (ring) or the socket became
// writable (readiness) before it cancels: on the ring the bytes of that completed send must be
// counted by the re-poll, not sent again.
template <class Make>
corio::task<void> write_cancel_main(Make make, bool complete_first) {
    auto l = *tcp_listener::bind(socket_addr::ipv4_loopback(0));
    auto p = co_await connect_pair(&l);
    const auto data = corio::testing::pattern(7, big);
    auto& w = new_waker();
    std::optional<corio::join_handle<long long>> reader;
    auto op = make(p->client, std::span<const std::byte>(data));
    if (complete_first) {
        reader.emplace(corio::spawn(drain_checking(&p->server, 7)));
        EXPECT_FALSE(poll_once(op, w));
        while (w.wakes() == 0) co_await corio::yield_now();
        op.cancel();
        EXPECT_EQ(w.clones_alive(), 0);
    } else {
        pending_then_cancel(op, w);  // pending: the socket did not take all of it
        reader.emplace(corio::spawn(drain_checking(&p->server, 7)));
    }
    const int wakes = w.wakes();
    auto r = co_await op;
    EXPECT_TRUE(r.has_value());
    if (r) { EXPECT_EQ(*r, big); }
    p->client.shutdown().value();
    auto total = co_await *reader;
    EXPECT_TRUE(total.has_value());
    if (total) { EXPECT_EQ(*total, static_cast<long long>(big)); }
    EXPECT_EQ(w.wakes(), wakes);
    EXPECT_EQ(w.clones_alive(), 0);
}

auto make_write_all = [](tcp_stream& s, std::span<const std::byte> d) { return s.write_all(d); };

TEST(io_leaf_cancel, write_all_cancel_then_a_repoll_sends_every_byte_once) {
    on_current_thread(write_cancel_main(make_write_all, false));
}

TEST(io_leaf_cancel, write_all_cancelled_after_its_send_completed_counts_it_and_does_not_resend) {
    on_current_thread(write_cancel_main(make_write_all, true));
}

// A buf_writer's write_all larger than its capacity goes to the stream directly; cancel keeps
// that direct write (cancelled), so polled again it goes on from where it was.
TEST(io_leaf_cancel, buf_writer_direct_write_cancel_then_a_repoll_sends_every_byte_once) {
    on_current_thread([]() -> corio::task<void> {
        auto l = *tcp_listener::bind(socket_addr::ipv4_loopback(0));
        auto p = co_await connect_pair(&l);
        const auto data = corio::testing::pattern(9, big);
        corio::io::buf_writer<tcp_stream&> bw(p->client);
        (co_await bw.write_all(corio::testing::pattern(9, 100))).value();  // buffered
        auto& w = new_waker();
        auto op = bw.write_all(std::span<const std::byte>(data).subspan(100));
        pending_then_cancel(op, w);  // flushes the 100 bytes, then the direct write fills the socket
        auto reader = corio::spawn(drain_checking(&p->server, 9));
        auto r = co_await op;
        EXPECT_TRUE(r && *r == big - 100);
        EXPECT_TRUE(bw.buffer().empty());
        p->client.shutdown().value();
        auto total = co_await reader;
        EXPECT_TRUE(total && *total == static_cast<long long>(big));
        EXPECT_EQ(w.wakes(), 0);
        EXPECT_EQ(w.clones_alive(), 0);
    }());
}

// --- datagrams ----------------------------------------------------------------------------------

corio::task<void> udp_cancel_main() {
    auto a = *corio::net::udp_socket::bind(socket_addr::ipv4_loopback(0));
    auto b = *corio::net::udp_socket::bind(socket_addr::ipv4_loopback(0));
    const socket_addr a_addr = *a.local_addr();
    const socket_addr b_addr = *b.local_addr();
    auto& w = new_waker();
    std::array<std::byte, 64> buf{};
    auto op = a.recv_from(buf);
    pending_then_cancel(op, w);
    (co_await b.send_to(bytes_of("one"), a_addr)).value();
    auto r = co_await op;  // polled again
    EXPECT_TRUE(r.has_value());
    if (r) {
        EXPECT_EQ(corio::testing::to_string(std::span(buf).first(r->first)), "one");
        EXPECT_EQ(r->second, b_addr);
    }
    // A datagram already there when the receive is polled (on the ring it lands in the
    // cancelled receive's cell): the next receive gets it.
    for (int round = 0; round < 20; ++round) {
        const std::string msg = "dgram " + std::to_string(round);
        (co_await b.send_to(bytes_of(msg), a_addr)).value();
        std::array<std::byte, 64> b2{};
        std::string got;
        {
            auto op2 = a.recv_from(b2);
            if (poll_once(op2, w)) {
                auto r2 = op2.await_resume();
                if (r2) got = corio::testing::to_string(std::span(b2).first(r2->first));
            } else {
                op2.cancel();
            }
        }
        if (got.empty()) {
            auto r3 = co_await a.recv_from(b2);
            EXPECT_TRUE(r3.has_value());
            if (r3) got = corio::testing::to_string(std::span(b2).first(r3->first));
        }
        EXPECT_EQ(got, msg);
    }
    EXPECT_EQ(w.wakes(), 0);
    EXPECT_EQ(w.clones_alive(), 0);
}

TEST(io_leaf_cancel, recv_from_cancel_then_the_next_receive_gets_the_datagram) {
    on_current_thread(udp_cancel_main());
}

// --- unix sockets -------------------------------------------------------------------------------

corio::task<void> unix_cancel_main(std::string path) {
    auto l = *corio::net::unix_listener::bind(path);
    auto& w = new_waker();
    auto acc = l.accept();
    pending_then_cancel(acc, w);
    auto con = corio::net::unix_stream::connect(path);
    const bool ready = poll_or_cancel(con, w);  // pending on the ring; else a unix connect is immediate
    std::optional<decltype(con.await_resume())> s;
    if (ready) s.emplace(con.await_resume());
    else s.emplace(co_await con);  // polled again
    EXPECT_TRUE(s->has_value());
    if (!*s) co_return;
    // The accept, polled again: a connection the cancelled connect made, if any, comes first.
    (co_await (*s)->write_all(bytes_of("unix"))).value();
    std::string got;
    auto a = co_await acc;  // the cancelled accept, polled again
    for (int i = 0; i < 2; ++i) {
        EXPECT_TRUE(a.has_value());
        if (!a) break;
        std::array<char, 4> b{};
        auto n = co_await a->first.read(b);
        if (n && *n > 0) {
            got.assign(b.data(), *n);
            got += co_await read_n(&a->first, 4 - *n);
            break;
        }
        a = co_await l.accept();  // that was the cancelled connect's socket (closed): ours is next
    }
    EXPECT_EQ(got, "unix");
    EXPECT_EQ(w.wakes(), 0);
    EXPECT_EQ(w.clones_alive(), 0);
}

TEST(io_leaf_cancel, unix_accept_and_connect_cancel_then_repoll) {
    const std::string path = "/tmp/corio_leaf_cancel_" + std::to_string(::getpid()) + ".sock";
    ::unlink(path.c_str());
    on_current_thread(unix_cancel_main(path));
}

// --- buf_reader ---------------------------------------------------------------------------------

// A cancelled read_line forgets its scan position: the caller may consume() in between, and a
// stale position would skip the delimiter.
corio::task<void> read_line_cancel_main() {
    auto pr = corio::net::unix_stream::pair().value();
    auto& [a, b] = pr;
    corio::io::buf_reader<corio::net::unix_stream&> rd(b);
    auto& w = new_waker();
    (co_await a.write_all(bytes_of("xy"))).value();
    while (rd.buffer().size() < 2) {
        auto f = co_await rd.fill_buf();
        EXPECT_TRUE(f && !f->empty());
        if (!f || f->empty()) co_return;
    }
    std::string line;
    auto op = rd.read_line(line);
    EXPECT_FALSE(poll_once(op, w));  // scans "xy" (no delimiter), then waits for more
    op.cancel();
    EXPECT_EQ(w.clones_alive(), 0);
    rd.consume(1);  // "y" left
    (co_await a.write_all(bytes_of("\nrest"))).value();
    auto n = co_await op;
    EXPECT_TRUE(n && *n == 2);
    EXPECT_EQ(line, "y\n");
    EXPECT_EQ(w.wakes(), 0);
    EXPECT_EQ(w.clones_alive(), 0);
}

TEST(io_leaf_cancel, buf_reader_read_line_cancel_keeps_bytes_and_forgets_its_scan) {
    on_current_thread(read_line_cancel_main());
}

// --- copy ---------------------------------------------------------------------------------------

corio::task<void> copy_cancel_main() {
    auto src = corio::net::unix_stream::pair().value();
    auto dst = corio::net::unix_stream::pair().value();
    auto& [src_w, src_r] = src;
    auto& [dst_w, dst_r] = dst;
    auto& w = new_waker();
    auto op = corio::io::copy(src_r, dst_w);
    pending_then_cancel(op, w);  // nothing to read yet
    const std::string msg = "copied across a cancel";
    (co_await src_w.write_all(bytes_of(msg))).value();
    src_w.shutdown().value();
    auto n = co_await op;  // polled again: copies to EOF
    EXPECT_TRUE(n && *n == msg.size());
    dst_w.shutdown().value();
    EXPECT_EQ(co_await read_n(&dst_r, msg.size() + 1), msg);
    EXPECT_EQ(w.wakes(), 0);
    EXPECT_EQ(w.clones_alive(), 0);
}

TEST(io_leaf_cancel, copy_cancel_then_a_repoll_copies_everything) {
    on_current_thread(copy_cancel_main());
}

// --- files --------------------------------------------------------------------------------------

// On io_uring a file op is an SQE (pending at its first poll); on epoll it is a pool job, which
// may finish (and wake) before the cancel: only "no clone left" is exact there.
corio::task<void> file_cancel_main(std::string path) {
    (co_await corio::fs::write(path, std::string("file contents"))).value();
    const bool ring = corio::detail::io::file_ring_available();
    auto& w = new_waker();
    auto open = corio::fs::file::open(path);
    open.cancel();
    const bool open_ready = poll_or_cancel(open, w);  // a late open's descriptor is closed with its cell
    std::optional<decltype(open.await_resume())> f;
    if (open_ready) f.emplace(open.await_resume());
    else f.emplace(co_await open);
    EXPECT_TRUE(f->has_value());
    if (!*f) co_return;
    std::array<char, 13> buf{};
    auto rd = (*f)->read_at(std::as_writable_bytes(std::span(buf)), 0);
    const bool rd_ready = poll_or_cancel(rd, w);
    auto n = rd_ready ? rd.await_resume() : corio::io::io_result(0);
    if (!rd_ready) n = co_await rd;
    EXPECT_TRUE(n && *n == buf.size());
    EXPECT_EQ(std::string(buf.data(), buf.size()), "file contents");
    if (ring) { EXPECT_EQ(w.wakes(), 0); }
    EXPECT_EQ(w.clones_alive(), 0);
}

TEST(io_leaf_cancel, file_open_and_read_at_cancel_then_repoll) {
    const std::string path = "/tmp/corio_leaf_cancel_" + std::to_string(::getpid()) + ".txt";
    on_current_thread(file_cancel_main(path));
    ::unlink(path.c_str());
}

}  // namespace
