// cancel_test: a pending read cancelled by timeout or by aborting its task — the caller's buffer
// is never written afterwards, and the bytes sent after (or received by) the cancelled read are
// returned intact, in order, by the next read. Also late accepts and dropped connects.
#include "io/io_test_util.hpp"

#include <corio/net/tcp_listener.hpp>
#include <corio/net/tcp_stream.hpp>
#include <corio/net/unix_stream.hpp>
#include <corio/channels/oneshot.hpp>
#include <corio/runtime/select.hpp>
#include <corio/runtime/join_handle.hpp>
#include <corio/runtime/runtime.hpp>
#include <corio/runtime/time.hpp>

#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <memory>
#include <string>
#include <vector>

using namespace std::chrono_literals;
using corio::net::socket_addr;
using corio::net::tcp_listener;
using corio::net::tcp_stream;
using corio::testing::bytes_of;

namespace {

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

bool all_equal(const std::vector<std::byte>& v, std::byte b) {
    return std::all_of(v.begin(), v.end(), [b](std::byte x) { return x == b; });
}

// --- timeout --------------------------------------------------------------------------------------

corio::task<std::string> timeout_main() {
    auto l = *tcp_listener::bind(socket_addr::ipv4_loopback(0));
    auto p = co_await connect_pair(&l);
    auto buf = std::make_shared<std::vector<std::byte>>(64, std::byte{0xAA});
    std::span<std::byte> span(*buf);
    auto r = co_await corio::timeout(30ms, p->client.read(span));
    if (r) co_return "the read should have timed out";
    // Bytes sent after the cancel: the cancelled read must not have put them in the old buffer.
    (co_await p->server.write_all(bytes_of("after-cancel"))).value();
    co_await corio::sleep(30ms);
    if (!all_equal(*buf, std::byte{0xAA})) co_return "the cancelled read wrote into the caller's buffer";
    std::array<char, 12> got{};
    auto n = co_await p->client.read_exact(got);
    if (!n) co_return n.error().message();
    co_return std::string(got.data(), got.size());
}

TEST(io_cancel, read_cancelled_by_timeout_leaves_buffer_alone_and_loses_nothing) {
    corio::runtime rt(corio::testing::two_workers());
    EXPECT_EQ(rt.block_on(timeout_main()), "after-cancel");
}

// --- abort ----------------------------------------------------------------------------------------

corio::task<std::size_t> read_into(tcp_stream* s, std::shared_ptr<std::vector<std::byte>> buf) {
    auto n = co_await s->read(*buf);
    co_return n ? *n : 0;
}

corio::task<std::string> abort_main() {
    auto l = *tcp_listener::bind(socket_addr::ipv4_loopback(0));
    auto p = co_await connect_pair(&l);
    auto buf = std::make_shared<std::vector<std::byte>>(64, std::byte{0xAA});
    auto h = corio::spawn(read_into(&p->client, buf));
    co_await corio::sleep(20ms);  // let it submit and park
    h.abort();
    auto j = co_await h;
    if (j || !j.error().is_cancelled()) co_return "the reader should have been cancelled";
    (co_await p->server.write_all(bytes_of("intact"))).value();
    co_await corio::sleep(30ms);
    if (!all_equal(*buf, std::byte{0xAA})) co_return "the aborted read wrote into its buffer";
    std::array<char, 6> got{};
    auto n = co_await p->client.read_exact(got);
    if (!n) co_return n.error().message();
    co_return std::string(got.data(), got.size());
}

TEST(io_cancel, read_cancelled_by_abort_loses_nothing) {
    corio::runtime rt(corio::testing::two_workers());
    EXPECT_EQ(rt.block_on(abort_main()), "intact");
}

// --- bytes a cancelled read received anyway ---------------------------------------------------------

// The data is already in the socket and every read is cancelled by a zero timeout: on io_uring
// the recv and its cancel reach the kernel in one batch, so the recv usually completes with data
// after its awaiter is gone. Those bytes must come back from the following reads, in order.
corio::task<std::string> late_bytes_main() {
    auto l = *tcp_listener::bind(socket_addr::ipv4_loopback(0));
    auto p = co_await connect_pair(&l);
    const std::string msg = "the quick brown fox jumps over the lazy dog";
    (co_await p->server.write_all(bytes_of(msg))).value();
    p->server.shutdown().value();
    co_await corio::sleep(20ms);
    std::string got;
    std::array<char, 5> buf;
    for (int i = 0; i < 10000; ++i) {
        auto r = co_await corio::timeout(0ms, p->client.read(buf));
        if (!r) continue;  // elapsed: its read was cancelled
        if (!*r) co_return (*r).error().message();
        if (**r == 0) break;
        got.append(buf.data(), **r);
    }
    // Whatever the cancelled ones left behind, plain reads finish the stream.
    for (;;) {
        auto n = co_await p->client.read(buf);
        if (!n || *n == 0) break;
        got.append(buf.data(), *n);
    }
    co_return got;
}

TEST(io_cancel, bytes_received_by_cancelled_reads_are_kept_for_the_next_read) {
    corio::runtime rt(corio::testing::two_workers());
    EXPECT_EQ(rt.block_on(late_bytes_main()), "the quick brown fox jumps over the lazy dog");
}

// --- accept and connect ---------------------------------------------------------------------------

corio::task<std::string> late_accept_main() {
    auto l = *tcp_listener::bind(socket_addr::ipv4_loopback(0));
    // An accept cancelled by its timeout...
    auto r = co_await corio::timeout(20ms, l.accept());
    if (r) co_return "accept should have timed out";
    // ...then a client connects: the next accept gets it.
    auto s = co_await tcp_stream::connect(*l.local_addr());
    auto c = co_await corio::timeout(5s, l.accept());
    if (!c || !*c) co_return "the connection was lost";
    (co_await s->write_all(bytes_of("hi"))).value();
    std::array<char, 2> got{};
    (co_await (*c)->first.read_exact(got)).value();
    co_return std::string(got.data(), 2);
}

TEST(io_cancel, accept_cancelled_by_timeout_then_next_accept_gets_the_connection) {
    corio::runtime rt(corio::testing::two_workers());
    EXPECT_EQ(rt.block_on(late_accept_main()), "hi");
}

corio::task<void> pending_read_forever(tcp_stream* s) {
    std::array<std::byte, 16> buf;
    (void)co_await s->read(buf);
}

// --- a dropped stream's descriptor number is not reused under a queued op ------------------------

// On io_uring a recv is queued as an SQE and reaches the kernel at the worker's next park. If the
// stream is dropped first and its descriptor closed at once, a socket made in between gets the
// same number and the stale recv steals its bytes. One task, one worker: drop a stream with a
// read queued, make a new pair (it reuses the numbers), send, read: the bytes must arrive.
corio::task<std::string> reuse_main() {
    for (int i = 0; i < 50; ++i) {
        {
            auto old = corio::net::unix_stream::pair().value();
            std::array<std::byte, 64> buf{};
            auto [tx, rx] = corio::oneshot::channel<int>();
            (void)tx.send(1);
            // The read is polled first (its recv queued), then loses to the ready receive.
            auto r = co_await corio::select_biased(old.first.read(buf), std::move(rx));
            if (r.index() != 1) co_return "the ready receive should have won";
        }  // both ends dropped: their numbers are free for the pair below
        auto fresh = corio::net::unix_stream::pair().value();
        const std::string msg = "round " + std::to_string(i);
        (co_await fresh.second.write_all(bytes_of(msg))).value();
        std::array<char, 64> in{};
        auto n = co_await corio::timeout(5s, fresh.first.read(in));
        if (!n) co_return "round " + std::to_string(i) + ": the bytes never arrived (a stale op took them)";
        if (!*n) co_return (*n).error().message();
        if (std::string(in.data(), **n) != msg) co_return "round " + std::to_string(i) + ": got other bytes";
    }
    co_return "ok";
}

TEST(io_cancel, a_dropped_streams_queued_op_never_touches_a_new_socket_with_its_number) {
    corio::runtime_options o;
    o.worker_threads = 1;
    corio::runtime rt(o);
    EXPECT_EQ(rt.block_on(reuse_main()), "ok");
}

// Runtime shutdown with reads still pending on both workers: every frame is destroyed, the
// in-flight operations are cancelled and drained (ASan/LSan check the cells and buffers).
TEST(io_cancel, runtime_shutdown_with_pending_reads_is_clean) {
    auto pairs = std::make_shared<std::vector<std::unique_ptr<conn_pair>>>();
    {
        corio::runtime rt(corio::testing::two_workers());
        auto l = *tcp_listener::bind(socket_addr::ipv4_loopback(0));  // destroyed before rt
        auto setup = [](tcp_listener* l, std::shared_ptr<std::vector<std::unique_ptr<conn_pair>>> v) -> corio::task<void> {
            for (int i = 0; i < 8; ++i) {
                v->push_back(co_await connect_pair(l));
                auto h1 = corio::spawn(pending_read_forever(&v->back()->client));
                auto h2 = corio::spawn(pending_read_forever(&v->back()->server));
            }
            co_await corio::sleep(20ms);
        };
        rt.block_on(setup(&l, pairs));
        rt.shutdown(1s);
        pairs->clear();  // streams go before the runtime (their precondition)
    }
}

}  // namespace
