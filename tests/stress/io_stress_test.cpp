// io_stress_test: concurrent TCP connections on the 2-worker runtime where every read is raced
// against a random timeout (0–2 ms) while writers stream a known byte pattern. Reads cancelled in
// the kernel (io_uring) or abandoned (epoll) must lose, duplicate or reorder nothing: each reader
// checks every byte and the total. Run under ThreadSanitizer (tsan preset) and ASan; both
// backends via CORIO_IO_BACKEND (ctest runs the binary once per backend).
#include <corio/net/tcp_listener.hpp>
#include <corio/net/tcp_stream.hpp>
#include <corio/runtime/join_handle.hpp>
#include <corio/runtime/runtime.hpp>
#include <corio/runtime/time.hpp>

#include "support/stress.hpp"

#include <gtest/gtest.h>

#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <random>
#include <string>
#include <vector>

using namespace std::chrono_literals;
using corio::net::socket_addr;
using corio::net::tcp_listener;
using corio::net::tcp_stream;

namespace {

std::byte pattern_byte(std::uint64_t seed, std::uint64_t i) {
    std::uint64_t x = (i + 1) * 0x9E3779B97F4A7C15ull ^ (seed * 0xBF58476D1CE4E5B9ull);
    x ^= x >> 31;
    return static_cast<std::byte>(x & 0xff);
}

struct counters {
    std::atomic<std::uint64_t> bytes_read{0};
    std::atomic<std::uint64_t> timeouts{0};
    std::atomic<std::uint64_t> corrupt{0};
};

corio::task<void> writer(tcp_stream s, std::uint64_t seed, std::size_t total) {
    std::mt19937_64 rng(seed);
    std::vector<std::byte> chunk;
    std::size_t off = 0;
    while (off < total) {
        const std::size_t n = std::min<std::size_t>(total - off, 1 + rng() % 20000);
        chunk.resize(n);
        for (std::size_t i = 0; i < n; ++i) chunk[i] = pattern_byte(seed, off + i);
        auto w = co_await s.write_all(chunk);
        if (!w) {
            ADD_FAILURE() << "write: " << w.error().message();
            co_return;
        }
        off += n;
        if (rng() % 8 == 0) co_await corio::sleep(std::chrono::microseconds(rng() % 1500));
    }
    (void)s.shutdown();
}

corio::task<std::size_t> reader(tcp_stream s, std::uint64_t seed, counters* c) {
    std::mt19937_64 rng(seed ^ 0xabcdef);
    std::array<std::byte, 8192> buf;
    std::size_t off = 0;
    for (;;) {
        const std::size_t want = 1 + rng() % buf.size();
        std::span<std::byte> span(buf.data(), want);
        const auto d = std::chrono::microseconds(rng() % 2000);
        auto r = co_await corio::timeout(d, s.read(span));
        if (!r) {
            c->timeouts.fetch_add(1, std::memory_order_relaxed);
            continue;
        }
        if (!*r) {
            ADD_FAILURE() << "read: " << (*r).error().message();
            co_return off;
        }
        const std::size_t n = **r;
        if (n == 0) co_return off;
        for (std::size_t i = 0; i < n; ++i)
            if (buf[i] != pattern_byte(seed, off + i)) {
                c->corrupt.fetch_add(1, std::memory_order_relaxed);
                co_return off;
            }
        off += n;
        c->bytes_read.fetch_add(n, std::memory_order_relaxed);
    }
}

corio::task<int> run_round(int conns, std::size_t bytes, std::uint64_t round, counters* c) {
    auto l = tcp_listener::bind(socket_addr::ipv4_loopback(0));
    if (!l) co_return 0;
    std::vector<corio::join_handle<std::size_t>> readers;
    std::vector<corio::join_handle<void>> writers;
    for (int i = 0; i < conns; ++i) {
        const std::uint64_t seed = round * 1000 + static_cast<std::uint64_t>(i);
        auto s = co_await tcp_stream::connect(*l->local_addr());
        auto a = co_await l->accept();
        if (!s || !a) co_return 0;
        writers.push_back(corio::spawn(writer(std::move(a->first), seed, bytes)));
        readers.push_back(corio::spawn(reader(std::move(*s), seed, c)));
    }
    int ok = 0;
    for (auto& w : writers) co_await w;
    for (auto& r : readers) ok += (co_await r).value() == bytes ? 1 : 0;
    co_return ok;
}

TEST(io_stress, reads_cancelled_by_random_timeouts_keep_every_stream_intact) {
    const std::size_t rounds = corio::testing::iterations(6, 2);
    const int conns = 12;
    const std::size_t bytes = CORIO_STRESS_TSAN ? 200'000 : 1'000'000;
    counters c;
    corio::testing::hang_guard guard("io_stress", [&c] {
        return "bytes_read=" + std::to_string(c.bytes_read.load()) + " timeouts=" + std::to_string(c.timeouts.load());
    });
    corio::runtime_options o;
    o.worker_threads = 2;
    corio::runtime rt(o);
    for (std::size_t r = 0; r < rounds; ++r) EXPECT_EQ(rt.block_on(run_round(conns, bytes, r, &c)), conns) << "round " << r;
    EXPECT_EQ(c.corrupt.load(), 0u);
    EXPECT_EQ(c.bytes_read.load(), rounds * conns * bytes);
    EXPECT_GT(c.timeouts.load(), 0u);  // the cancellation path was exercised
}

}  // namespace
