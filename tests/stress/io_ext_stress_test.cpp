// io_ext_stress_test: the second io wave under contention on the 2-worker runtime, both backends.
//  - read_line raced against random timeouts while writers send lines in random chunks: every
//    line arrives once, whole, in order (a cancelled read_line keeps what it buffered).
//  - file read_at raced against random timeouts, files dropped with operations in flight, from
//    many tasks at once: completed reads return the right bytes; cancelled ones never touch the
//    caller's buffer (io_uring cells / pool jobs cancelled and freed on other threads).
//  - copy_bidirectional proxies over Unix socket pairs, some aborted mid-transfer.
#include <corio/fs/file.hpp>
#include <corio/io/buf_reader.hpp>
#include <corio/io/copy.hpp>
#include <corio/net/unix_stream.hpp>
#include <corio/runtime/join_handle.hpp>
#include <corio/runtime/runtime.hpp>
#include <corio/runtime/time.hpp>
#include <corio/runtime/yield_now.hpp>

#include "support/stress.hpp"

#include <gtest/gtest.h>

#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <memory>
#include <random>
#include <string>
#include <vector>

using namespace std::chrono_literals;
using corio::net::unix_stream;

namespace {

corio::runtime_options two_workers() {
    corio::runtime_options o;
    o.worker_threads = 2;
    return o;
}

std::string line_text(std::uint64_t seed, std::size_t i) {
    std::string s = "line " + std::to_string(i) + " ";
    s.append(static_cast<std::size_t>((seed * 31 + i * 7) % 300), static_cast<char>('a' + i % 26));
    s.push_back('\n');
    return s;
}

// --- read_line vs timeouts ----------------------------------------------------------------------

corio::task<void> line_writer(unix_stream s, std::uint64_t seed, std::size_t lines) {
    std::mt19937_64 rng(seed);
    std::string all;
    for (std::size_t i = 0; i < lines; ++i) all += line_text(seed, i);
    std::size_t off = 0;
    while (off < all.size()) {
        const std::size_t n = std::min<std::size_t>(all.size() - off, 1 + rng() % 700);
        const std::string_view chunk(all.data() + off, n);
        auto w = co_await s.write_all(chunk);
        if (!w) {
            ADD_FAILURE() << w.error().message();
            co_return;
        }
        off += n;
        if (rng() % 4 == 0) co_await corio::sleep(std::chrono::microseconds(rng() % 800));
    }
    (void)s.shutdown();
}

corio::task<std::size_t> line_reader(unix_stream s, std::uint64_t seed, std::size_t lines, std::atomic<std::uint64_t>* timeouts) {
    std::mt19937_64 rng(seed ^ 0x55);
    corio::io::buf_reader rd(std::move(s), 64);
    std::size_t got = 0;
    std::string line;
    for (;;) {
        const auto d = std::chrono::microseconds(rng() % 600);
        auto r = co_await corio::timeout(d, rd.read_line(line, 4096));
        if (!r) {
            timeouts->fetch_add(1, std::memory_order_relaxed);
            // Cancelled: the partial line stays buffered; `line` was not touched. Yield: an
            // elapsed timeout returns without suspending, and a loop of them would keep the
            // writers off this worker.
            co_await corio::yield_now();
            continue;
        }
        if (!*r) {
            ADD_FAILURE() << r->error().message();
            co_return got;
        }
        if (**r == 0) co_return got;
        if (got >= lines || line != line_text(seed, got)) {
            ADD_FAILURE() << "line " << got << " differs";
            co_return got;
        }
        ++got;
        line.clear();
    }
}

TEST(io_ext_stress, read_line_raced_against_timeouts_loses_nothing) {
    const std::size_t pairs = 8;
    const std::size_t lines = corio::testing::iterations(2000, 200);
    std::atomic<std::uint64_t> timeouts{0};
    corio::testing::hang_guard guard("read_line_timeouts", [&] { return "timeouts=" + std::to_string(timeouts.load()); });
    corio::runtime rt(two_workers());
    const auto total = rt.block_on([](std::size_t pairs, std::size_t lines, std::atomic<std::uint64_t>* t) -> corio::task<std::size_t> {
        std::vector<corio::join_handle<std::size_t>> readers;
        std::vector<corio::join_handle<void>> writers;
        for (std::size_t i = 0; i < pairs; ++i) {
            auto p = unix_stream::pair().value();
            writers.push_back(corio::spawn(line_writer(std::move(p.first), i + 1, lines)));
            readers.push_back(corio::spawn(line_reader(std::move(p.second), i + 1, lines, t)));
        }
        std::size_t sum = 0;
        for (auto& h : readers) sum += (co_await h).value();
        for (auto& h : writers) co_await h;
        co_return sum;
    }(pairs, lines, &timeouts));
    EXPECT_EQ(total, pairs * lines);
    std::printf("read_line: %zu lines, %llu timed-out read_lines\n", total, static_cast<unsigned long long>(timeouts.load()));
}

// --- file reads vs timeouts ---------------------------------------------------------------------

corio::task<std::size_t> file_reader(std::string path, std::uint64_t seed, std::size_t rounds, std::size_t size,
                                     std::atomic<std::uint64_t>* cancelled) {
    std::mt19937_64 rng(seed);
    std::size_t ok = 0;
    for (std::size_t i = 0; i < rounds; ++i) {
        auto f = co_await corio::fs::file::open(path);
        if (!f) {
            ADD_FAILURE() << f.error().message();
            co_return ok;
        }
        const std::size_t off = rng() % size;
        const std::size_t len = 1 + rng() % 8192;
        auto buf = std::make_shared<std::vector<std::byte>>(len, std::byte{0xEE});
        std::span<std::byte> dst(*buf);
        const auto d = std::chrono::microseconds(rng() % 300);
        auto r = co_await corio::timeout(d, f->read_at(dst, off));
        if (!r) {
            cancelled->fetch_add(1, std::memory_order_relaxed);
            // Drop the file now, with the read maybe still in flight; the buffer must stay as is.
            { corio::fs::file gone = std::move(*f); }
            co_await corio::yield_now();
            if (std::any_of(buf->begin(), buf->end(), [](std::byte b) { return b != std::byte{0xEE}; }))
                ADD_FAILURE() << "a cancelled read wrote into the caller's buffer";
            continue;
        }
        if (!*r) {
            ADD_FAILURE() << r->error().message();
            co_return ok;
        }
        const std::size_t n = **r;
        if (n != std::min(len, size - off)) ADD_FAILURE() << "short read " << n;
        for (std::size_t k = 0; k < n; ++k)
            if ((*buf)[k] != static_cast<std::byte>((off + k) * 131 % 251)) {
                ADD_FAILURE() << "byte " << off + k << " differs";
                co_return ok;
            }
        ++ok;
    }
    co_return ok;
}

TEST(io_ext_stress, file_reads_raced_against_timeouts_and_dropped_files) {
    const std::string path = "/tmp/corio-fs-stress-" + std::to_string(::getpid());
    const std::size_t size = 256 * 1024;
    {
        std::vector<std::byte> data(size);
        for (std::size_t i = 0; i < size; ++i) data[i] = static_cast<std::byte>(i * 131 % 251);
        std::FILE* fp = std::fopen(path.c_str(), "wb");
        ASSERT_TRUE(fp);
        std::fwrite(data.data(), 1, size, fp);
        std::fclose(fp);
    }
    const std::size_t tasks = 8;
    const std::size_t rounds = corio::testing::iterations(400, 60);
    std::atomic<std::uint64_t> cancelled{0};
    corio::testing::hang_guard guard("file_reads", [&] { return "cancelled=" + std::to_string(cancelled.load()); });
    {
        corio::runtime rt(two_workers());
        rt.block_on([](std::string p, std::size_t tasks, std::size_t rounds, std::size_t size,
                       std::atomic<std::uint64_t>* c) -> corio::task<void> {
            std::vector<corio::join_handle<std::size_t>> hs;
            for (std::size_t i = 0; i < tasks; ++i) hs.push_back(corio::spawn(file_reader(p, i + 1, rounds, size, c)));
            for (auto& h : hs) (void)(co_await h).value();
        }(path, tasks, rounds, size, &cancelled));
    }
    std::remove(path.c_str());
    std::printf("file reads: %zu, %llu cancelled\n", tasks * rounds, static_cast<unsigned long long>(cancelled.load()));
}

// --- copy_bidirectional, some aborted ---------------------------------------------------------------

corio::task<void> proxy(unix_stream a, unix_stream b) {
    auto r = co_await corio::io::copy_bidirectional(a, b);
    (void)r;
}

corio::task<void> pump_bytes(unix_stream* s, std::size_t n) {
    std::vector<std::byte> chunk(4096, std::byte{7});
    std::size_t off = 0;
    while (off < n) {
        const std::size_t k = std::min(chunk.size(), n - off);
        auto w = co_await s->write_all(std::span<const std::byte>(chunk.data(), k));
        if (!w) co_return;
        off += k;
    }
    (void)s->shutdown();
}

corio::task<std::size_t> drain(unix_stream* s) {
    std::vector<std::byte> buf(8192);
    std::size_t total = 0;
    for (;;) {
        auto n = co_await s->read(std::span<std::byte>(buf));
        if (!n || *n == 0) co_return total;
        total += *n;
    }
}

corio::task<std::string> one_proxy(std::size_t bytes, bool abort_it) {
    auto left = unix_stream::pair().value();   // client <-> proxy.a
    auto right = unix_stream::pair().value();  // proxy.b <-> server
    auto px = corio::spawn(proxy(std::move(left.second), std::move(right.first)));
    // client sends `bytes` to the server, the server sends `bytes` back, both half-close.
    auto c_out = corio::spawn(pump_bytes(&left.first, bytes));
    auto s_out = corio::spawn(pump_bytes(&right.second, bytes));
    auto c_in = corio::spawn(drain(&left.first));
    auto s_in = corio::spawn(drain(&right.second));
    if (abort_it) {
        co_await corio::sleep(std::chrono::microseconds(100));
        px.abort();
        (void)co_await px;
        // The proxy is gone, its streams closed: every task ends (EOF or an error).
        co_await c_out;
        co_await s_out;
        (void)co_await c_in;
        (void)co_await s_in;
        co_return "ok";
    }
    co_await c_out;
    co_await s_out;
    const std::size_t a = (co_await c_in).value();
    const std::size_t b = (co_await s_in).value();
    (void)co_await px;
    if (a != bytes || b != bytes) co_return "lost bytes: " + std::to_string(a) + "/" + std::to_string(b);
    co_return "ok";
}

TEST(io_ext_stress, copy_bidirectional_proxies_with_aborts) {
    const std::size_t n = corio::testing::iterations(200, 30);
    std::atomic<std::uint64_t> done{0};
    corio::testing::hang_guard guard("copy_bidirectional", [&] { return "done=" + std::to_string(done.load()); });
    corio::runtime rt(two_workers());
    rt.block_on([](std::size_t n, std::atomic<std::uint64_t>* d) -> corio::task<void> {
        std::vector<corio::join_handle<std::string>> hs;
        for (std::size_t i = 0; i < n; ++i) {
            hs.push_back(corio::spawn(one_proxy(20000 + i * 97, i % 3 == 0)));
            if (hs.size() == 16) {
                for (auto& h : hs) {
                    std::string r = (co_await h).value();
                    EXPECT_EQ(r, "ok");
                    d->fetch_add(1, std::memory_order_relaxed);
                }
                hs.clear();
            }
        }
        for (auto& h : hs) {
            std::string r = (co_await h).value();
            EXPECT_EQ(r, "ok");
        }
    }(n, &done));
}

}  // namespace
