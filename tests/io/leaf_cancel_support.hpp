// leaf_cancel_support.hpp — what the io leaf_cancel tests share: test wakers that outlive the
// test, a runtime driven by the test's own thread, a connected TCP pair, byte-checking readers,
// and the poll-then-cancel steps that check the leaf contract (no clone held after cancel()).
#pragma once

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

namespace corio::testing {


// Runs `t` on a current_thread runtime (the test's thread alone drives the reactor).
inline void on_current_thread(corio::task<void> t) {
    corio::runtime rt({.flavor = corio::runtime_flavor::current_thread});
    rt.block_on(std::move(t));
}

struct conn_pair {
    net::tcp_stream client;
    net::tcp_stream server;
};

inline corio::task<std::unique_ptr<conn_pair>> connect_pair(net::tcp_listener* l) {
    auto s = co_await net::tcp_stream::connect(*l->local_addr());
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
inline corio::task<long long> drain_checking(net::tcp_stream* s, std::uint64_t seed) {
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

inline bool all_aa(std::span<const std::byte> b) {
    return std::all_of(b.begin(), b.end(), [](std::byte x) { return x == std::byte{0xAA}; });
}

}  // namespace corio::testing
