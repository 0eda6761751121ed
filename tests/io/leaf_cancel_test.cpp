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
#include "io/io_test_util.hpp"
#include "support/manual_poll.hpp"

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
using corio::testing::bytes_of;
using corio::testing::counting_waker;
using corio::testing::poll_once;

namespace {

// Kept until the process exits: were a registration left behind by a bug, its late wake must
// not touch freed memory (the assertions report the bug instead). The pool stays reachable, so
// LeakSanitizer does not count it; a deque keeps the handed-out references stable.
counting_waker& new_waker() {
    static std::mutex mu;
    static auto* pool = new std::deque<counting_waker>();
    std::lock_guard lock(mu);
    return pool->emplace_back();
}

// Runs `t` on a current_thread runtime (the test's thread alone drives the reactor).
void on_current_thread(corio::task<void> t) {
    corio::runtime rt({.flavor = corio::runtime_flavor::current_thread});
    rt.block_on(std::move(t));
}

struct conn_pair {
    tcp_stream client;
    tcp_stream server;
};

corio::task<std::unique_ptr<conn_pair>> connect_pair(tcp_listener* l) {
    auto s = co_await tcp_stream::connect(*l->local_addr());
    auto c = co_await l->accept();
    EXPECT_TRUE(s && c);
    auto p = std::make_unique<conn_pair>();
    p->client = std::move(*s);
    p->server = std::move(c->first);
    co_return p;
}

// Reads from `s` until `n` bytes or EOF.
template <class S>
corio::task<std::string> read_n(S* s, std::size_t n) {
    std::string got;
    std::array<char, 4096> buf;
    while (got.size() < n) {
        auto r = co_await s->read(std::span(buf.data(), std::min(buf.size(), n - got.size())));
        if (!r || *r == 0) break;
        got.append(buf.data(), *r);
    }
    co_return got;
}

// Reads `s` to EOF, checking every byte against pattern(seed); yields the count, or -1 if a byte
// was wrong (a byte lost or sent twice shifts the pattern). It drains on after a wrong byte, so
// the writer is never left blocked on a full socket.
corio::task<long long> drain_checking(tcp_stream* s, std::uint64_t seed) {
    std::vector<std::byte> buf(64 * 1024);
    long long total = 0;
    bool wrong = false;
    for (;;) {
        auto r = co_await s->read(buf);
        if (!r) co_return -2;
        if (*r == 0) co_return wrong ? -1 : total;
        for (std::size_t i = 0; i < *r && !wrong; ++i)
            wrong = buf[i] != corio::testing::pattern_byte(seed, static_cast<std::uint64_t>(total) + i);
        total += static_cast<long long>(*r);
    }
}

// One poll by hand that must stay pending (registering one clone of w), then cancel() twice
// (idempotent): no clone is left. A cancel() before the poll (never polled) is a no-op.
template <class L>
void pending_then_cancel(L& op, counting_waker& w) {
    op.cancel();
    EXPECT_FALSE(poll_once(op, w));
    EXPECT_EQ(w.clones_alive(), 1);
    op.cancel();
    op.cancel();
    EXPECT_EQ(w.clones_alive(), 0);
}

// One poll by hand that may complete at once (true: the leaf is ready); if it is pending, it is
// cancelled (twice) and must hold no clone.
template <class L>
bool poll_or_cancel(L& op, counting_waker& w) {
    if (poll_once(op, w)) return true;
    op.cancel();
    op.cancel();
    EXPECT_EQ(w.clones_alive(), 0);
    return false;
}

bool all_aa(std::span<const std::byte> b) {
    return std::all_of(b.begin(), b.end(), [](std::byte x) { return x == std::byte{0xAA}; });
}

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
