// leaf_cancel_test: cancel() of the io leaves (the contract in corio/runtime/leaf.hpp). Each
// operation is polled by hand with a counting_waker (tests/support/manual_poll.hpp) from inside a
// task (so on a worker, with its reactor), cancelled, and checked against the contract:
//   * no registration is left: clones_alive() == 0 right after cancel(), and the event that
//     would have woken it wakes nothing (wakes() == 0 once a later operation saw that event);
//   * nothing is lost: bytes, connections and datagrams delivered to a cancelled operation go
//     to the next one (or to the same leaf, polled again);
//   * cancel() is idempotent, a no-op on a leaf never polled or already ready, and a cancelled
//     leaf polled again (co_await on it) completes as if never polled.
// Most cases run on a current_thread runtime, where nothing but the test's own thread drives
// the reactor: no wake can race with the poll/cancel pair, so the counts are exact. The read and
// accept cases also run on two workers (a cancel may then reach a ring from another thread).
// This file: read, accept, connect; leaf_cancel_more_test.cpp: writes, datagrams, unix sockets,
// buf_reader, copy, files.
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

// --- read ---------------------------------------------------------------------------------------

corio::task<void> read_cancel_main() {
    auto l = *tcp_listener::bind(socket_addr::ipv4_loopback(0));
    auto p = co_await connect_pair(&l);
    auto& w = new_waker();
    std::array<std::byte, 64> buf;
    buf.fill(std::byte{0xAA});
    auto op = p->client.read(buf);
    pending_then_cancel(op, w);
    const std::string msg = "bytes after the cancel";
    (co_await p->server.write_all(bytes_of(msg))).value();
    // The same leaf, polled again (now by the task): it reads as if never polled.
    auto n = co_await op;
    EXPECT_TRUE(n && *n > 0);
    std::string got(reinterpret_cast<const char*>(buf.data()), n ? *n : 0);
    got += co_await read_n(&p->client, msg.size() - got.size());
    EXPECT_EQ(got, msg);
    // The bytes (ring: the cancelled recv's completion) reached the stream: nothing woke w.
    EXPECT_EQ(w.wakes(), 0);
    EXPECT_EQ(w.clones_alive(), 0);
    op.cancel();  // ready: a no-op
}

TEST(io_leaf_cancel, read_cancel_holds_no_waker_and_a_repoll_reads_everything) {
    on_current_thread(read_cancel_main());
}

TEST(io_leaf_cancel, read_cancel_holds_no_waker_and_a_repoll_reads_everything_on_two_workers) {
    corio::runtime rt(corio::testing::two_workers());
    rt.block_on(read_cancel_main());
}

// The bytes are in the socket before the read is polled. Under the readiness set the poll reads
// them at once (ready; cancel() is then a no-op); on the ring the recv is only queued, and the
// recv and its cancel reach the kernel together, so the recv usually completes with the bytes
// after the cancel: they must come back from the next reads, in order, and the cancelled
// operation's buffer must stay untouched.
corio::task<void> read_late_bytes_main() {
    auto l = *tcp_listener::bind(socket_addr::ipv4_loopback(0));
    auto p = co_await connect_pair(&l);
    for (int round = 0; round < 30; ++round) {
        const std::string msg = "round " + std::to_string(round) + ": every byte comes back";
        (co_await p->server.write_all(bytes_of(msg))).value();
        auto& w = new_waker();
        std::array<std::byte, 4> buf;
        buf.fill(std::byte{0xAA});
        std::string got;
        {
            auto op = p->client.read(buf);
            if (poll_once(op, w)) {
                auto n = op.await_resume();
                EXPECT_TRUE(n.has_value());
                op.cancel();  // ready: its result stays
                got.assign(reinterpret_cast<const char*>(buf.data()), n ? *n : 0);
            } else {
                op.cancel();
                EXPECT_EQ(w.clones_alive(), 0);
            }
        }
        const bool was_read = !got.empty();
        got += co_await read_n(&p->client, msg.size() - got.size());
        EXPECT_EQ(got, msg) << "round " << round;
        if (!was_read) { EXPECT_TRUE(all_aa(buf)) << "the cancelled read wrote into its buffer"; }
        EXPECT_EQ(w.wakes(), 0);
        EXPECT_EQ(w.clones_alive(), 0);
    }
}

TEST(io_leaf_cancel, bytes_delivered_to_a_cancelled_read_go_to_the_next_reads) {
    on_current_thread(read_late_bytes_main());
}

// read_exact keeps what it filled: polled again it reads the rest, so nothing is lost or
// repeated across the cancel.
corio::task<void> read_exact_cancel_main() {
    auto l = *tcp_listener::bind(socket_addr::ipv4_loopback(0));
    auto p = co_await connect_pair(&l);
    auto& w = new_waker();
    std::array<char, 10> buf{};
    auto op = p->client.read_exact(buf);
    (co_await p->server.write_all(bytes_of("abcd"))).value();
    // Poll until the first bytes are in (the ring needs the task to park once per recv).
    while (op.filled() == 0) {
        EXPECT_FALSE(poll_once(op, w));
        op.cancel();
        EXPECT_EQ(w.clones_alive(), 0);
        co_await corio::yield_now();
    }
    EXPECT_LE(op.filled(), 4u);
    (co_await p->server.write_all(bytes_of("efghij"))).value();
    auto r = co_await op;
    EXPECT_TRUE(r && *r == 10);
    EXPECT_EQ(std::string(buf.data(), buf.size()), "abcdefghij");
    EXPECT_EQ(w.clones_alive(), 0);
}

TEST(io_leaf_cancel, read_exact_cancel_keeps_what_it_filled) {
    on_current_thread(read_exact_cancel_main());
}

// --- accept -------------------------------------------------------------------------------------

corio::task<void> accept_cancel_main() {
    auto l = *tcp_listener::bind(socket_addr::ipv4_loopback(0));
    auto& w = new_waker();
    auto op = l.accept();
    pending_then_cancel(op, w);
    // A client connects after the cancel: a fresh accept gets it.
    auto c1 = co_await tcp_stream::connect(*l.local_addr());
    EXPECT_TRUE(c1.has_value());
    auto a1 = co_await l.accept();
    EXPECT_TRUE(a1.has_value());
    if (c1 && a1) { EXPECT_EQ(a1->second, *c1->local_addr()); }
    // The cancelled leaf, polled again, accepts the next one.
    auto c2 = co_await tcp_stream::connect(*l.local_addr());
    auto a2 = co_await op;
    EXPECT_TRUE(c2 && a2);
    if (c2 && a2) { EXPECT_EQ(a2->second, *c2->local_addr()); }
    EXPECT_EQ(w.wakes(), 0);
    EXPECT_EQ(w.clones_alive(), 0);
}

TEST(io_leaf_cancel, accept_cancel_then_the_next_accept_and_a_repoll_get_the_connections) {
    on_current_thread(accept_cancel_main());
}

TEST(io_leaf_cancel, accept_cancel_then_the_next_accept_and_a_repoll_get_the_connections_on_two_workers) {
    corio::runtime rt(corio::testing::two_workers());
    rt.block_on(accept_cancel_main());
}

// The connection is in the backlog before the accept is polled: on the ring the accept SQE and
// its cancel go to the kernel together and the accept usually wins. That connection must be the
// next accept's, not leaked or lost.
corio::task<void> late_accept_main() {
    auto l = *tcp_listener::bind(socket_addr::ipv4_loopback(0));
    for (int round = 0; round < 20; ++round) {
        auto c = co_await tcp_stream::connect(*l.local_addr());
        EXPECT_TRUE(c.has_value());
        if (!c) co_return;
        auto& w = new_waker();
        std::optional<socket_addr> peer;
        {
            auto op = l.accept();
            if (poll_once(op, w)) {
                op.cancel();  // ready: its connection stays for await_resume
                auto a = op.await_resume();
                EXPECT_TRUE(a.has_value());
                if (a) peer = a->second;
            } else {
                op.cancel();
                EXPECT_EQ(w.clones_alive(), 0);
            }
        }
        if (!peer) {
            auto a = co_await l.accept();
            EXPECT_TRUE(a.has_value());
            if (a) peer = a->second;
        }
        EXPECT_EQ(peer, *c->local_addr()) << "round " << round;
        EXPECT_EQ(w.wakes(), 0);
        EXPECT_EQ(w.clones_alive(), 0);
    }
}

TEST(io_leaf_cancel, a_connection_accepted_for_a_cancelled_accept_goes_to_the_next_accept) {
    on_current_thread(late_accept_main());
}

// --- connect ------------------------------------------------------------------------------------

// On the ring a connect is pending at its first poll (the SQE is only queued); under the
// readiness set a loopback connect may complete at once. A cancelled connect drops its socket;
// polled again it connects on a new one.
corio::task<void> connect_cancel_main() {
    auto l = *tcp_listener::bind(socket_addr::ipv4_loopback(0));
    auto& w = new_waker();
    auto op = tcp_stream::connect(*l.local_addr());
    op.cancel();  // never polled
    const bool ready = poll_or_cancel(op, w);
    // (Not `ready ? await_resume() : co_await op`: GCC 12 miscompiles that.)
    std::optional<decltype(op.await_resume())> s;
    if (ready) s.emplace(op.await_resume());
    else s.emplace(co_await op);
    EXPECT_TRUE(s->has_value());
    if (!*s) co_return;
    // The cancelled socket may have connected in the kernel before it was closed: accept until
    // the connection of the stream we got.
    const socket_addr mine = *(*s)->local_addr();
    bool found = false;
    for (int i = 0; i < 2 && !found; ++i) {
        auto a = co_await l.accept();
        EXPECT_TRUE(a.has_value());
        if (!a) break;
        if (a->second != mine) continue;
        found = true;
        (co_await (*s)->write_all(bytes_of("hi"))).value();
        EXPECT_EQ(co_await read_n(&a->first, 2), "hi");
    }
    EXPECT_TRUE(found);
    EXPECT_EQ(w.wakes(), 0);
    EXPECT_EQ(w.clones_alive(), 0);
}

TEST(io_leaf_cancel, connect_cancel_then_a_repoll_connects_on_a_new_socket) {
    on_current_thread(connect_cancel_main());
}

}  // namespace
